"""The tests' own footing: unit tests see no model weights or data, and no test reads the
developer's `.env` or a stray SIMKYC_* variable of their shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from settings_for_tests import TEST_VARIABLES, isolate, make_settings
from shared_files import require

from simkyc.config import Settings, get_settings

BOGUS_ENV = "SIMKYC_POPULATION=bogus\nSIMKYC_THREADS=not-a-number\nSIMKYC_RECOGNIZER=nope\n"


def test_unit_tests_see_empty_data_and_model_folders(settings: Settings) -> None:
    for folder in (settings.data_dir, settings.models_dir, get_settings().data_dir,
                   get_settings().models_dir):
        assert folder.is_dir() and not any(folder.iterdir())


def test_a_unit_test_asking_for_shared_data_fails_rather_than_skips(settings: Settings) -> None:
    """Outside CI a missing file skips; under tests/unit asking for ../shared at all fails, so
    a unit test that needs weights cannot pass quietly on a laptop without them."""
    with pytest.raises(pytest.fail.Exception, match="unit tests need no model weights"):
        require(settings.models_dir / "yunet", "YuNet")
    with pytest.raises(pytest.fail.Exception, match="unit tests need no model weights"):
        require(get_settings().data_dir / "lfw", "LFW")


def test_a_bogus_env_file_in_the_working_directory_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pydantic-settings reads `.env` from the working directory: a developer's own (or this
    bogus one) used to change what the tests ran against, or fail them all."""
    (tmp_path / ".env").write_text(BOGUS_ENV, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    defaults = make_settings()
    assert get_settings() == Settings() == defaults
    assert (defaults.population, defaults.threads) == ("east-asian", 1)


def test_only_the_documented_test_variables_reach_the_tests() -> None:
    assert sorted(k for k in os.environ if k.startswith("SIMKYC_")
                  and k not in TEST_VARIABLES) == []
    environ = {"SIMKYC_POPULATION": "bogus", "SIMKYC_DATA_DIR": "/d", "SIMKYC_MODELS_DIR": "/m",
               "SIMKYC_TEST_POSTGRES_URL": "postgresql://x", "PATH": "/bin"}
    assert isolate(environ) == ["SIMKYC_POPULATION"]
    assert environ.keys() == {"SIMKYC_DATA_DIR", "SIMKYC_MODELS_DIR", "SIMKYC_TEST_POSTGRES_URL",
                              "PATH"}
