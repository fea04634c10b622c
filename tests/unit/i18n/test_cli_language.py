"""The CLI speaks the language of LANG (or --lang); the error code stays the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from settings_for_tests import outside_checkout

from simkyc.cli.lang import cli_locale


@pytest.mark.parametrize(("environ", "locale"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({}, "en"),
    ({"LANGUAGE": "zh_CN:en_US", "LANG": "en_US.UTF-8"}, "zh-CN"),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"SIMKYC_LANG": "zh-CN", "LANG": "en_US.UTF-8"}, "zh-CN"),
])
def test_the_locale_follows_the_posix_variables(environ: dict[str, str], locale: str) -> None:
    assert cli_locale(environ) == locale


def _check_number(*options: str, lang: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "SIMKYC_LANG")} | {"LANG": lang}
    return subprocess.run(
        [sys.executable, "-m", "simkyc.cli", *options, "document", "check-number",
         "11010519491231002X", "--type", "icao-9303", "--json"],
        capture_output=True, text=True, timeout=120, check=False, cwd=outside_checkout(), env=env)


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_lang_and_the_lang_option_choose_the_cli_language() -> None:
    zh = json.loads(_check_number(lang="zh_CN.UTF-8").stdout)
    en = json.loads(_check_number("--lang", "en", lang="zh_CN.UTF-8").stdout)
    forced = json.loads(_check_number("--lang", "zh-CN", lang="en_US.UTF-8").stdout)
    assert zh["error"] == en["error"] == forced["error"] == "UNSUPPORTED_DOCUMENT_TYPE"
    assert zh["message"] == forced["message"] == "不支持该类证件。"
    assert en["message"].startswith("A icao-9303 document number has no check")


def test_a_documents_findings_are_said_in_the_cli_language() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL")}
    out = subprocess.run(
        [sys.executable, "-m", "simkyc.cli", "document", "check-number", "110105194912310021",
         "--type", "cn-resident-id"],
        capture_output=True, text=True, timeout=120, check=False, cwd=outside_checkout(),
        env=env | {"LANG": "zh_CN.UTF-8"})
    assert "BAD_CHECK_DIGIT" in out.stdout and "校验码错误" in out.stdout, out
