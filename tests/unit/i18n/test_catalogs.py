"""Every catalog has every message the code uses, and every API error code has a sentence in
every language; the placeholders agree; Accept-Language / LANG choose the right catalog."""

from __future__ import annotations

import re

import pytest

from simkyc.cli.extract import HANDLER_CODES, error_codes, extract, missing
from simkyc.i18n import catalogs
from simkyc.i18n.catalog import Catalogs, negotiate


def test_every_catalog_has_every_message_the_code_uses() -> None:
    gaps = missing(catalogs(), extract())
    assert gaps == {tag: [] for tag in catalogs().locales}, (
        "messages without a translation (add them to src/simkyc/i18n/catalogs/*.json): "
        f"{gaps}")


def test_the_extractor_names_a_missing_enum_message() -> None:
    """`python -m simkyc.cli.extract` knows the enum-built ids too (it said "0 missing" for a
    decision reason without its Chinese sentence: only this test listed the enums)."""
    messages = {tag: dict(found) for tag, found in catalogs().messages.items()}
    del messages["zh-CN"]["reason.face_review"]
    assert missing(Catalogs(messages=messages), extract())["zh-CN"] == ["reason.face_review"]


def test_every_api_error_code_has_a_sentence_in_english_and_chinese() -> None:
    codes = error_codes() | HANDLER_CODES
    assert len(codes) > 40
    lacking = {tag: sorted(c for c in codes if f"error.{c}" not in catalogs().messages[tag])
               for tag in ("en", "zh-CN")}
    assert lacking == {"en": [], "zh-CN": []}, f"error codes without a sentence: {lacking}"


def test_no_catalog_message_is_left_unused() -> None:
    """What the code no longer says leaves the catalogs too (a translator's time is dear)."""
    found = extract()
    english = catalogs().messages["en"]
    used = found.ids()
    # Looked up by a rule rather than named: the advice separator, a passed document check's
    # sentence, each catalog's own name.
    by_rule = ("_meta.", "check.ok.", "advice.separator")
    assert sorted(k for k in english if k not in used and not k.startswith(by_rule)) == []


def test_the_catalogs_have_the_same_ids_and_placeholders() -> None:
    english = catalogs().messages["en"]
    for tag in catalogs().locales:
        messages = catalogs().messages[tag]
        assert messages.keys() == english.keys(), tag
        for key, text in messages.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(
                re.findall(r"\{(\w+)\}", english[key])), (tag, key)


def test_the_chinese_catalog_is_chinese() -> None:
    """No English sentence left untranslated in zh-CN (codes, acronyms and URLs allowed)."""
    english = catalogs().messages["en"]
    same = [k for k, v in catalogs().messages["zh-CN"].items()
            if v == english[k] and re.search(r"[a-z]{3,}", v)]
    assert same == []


@pytest.mark.parametrize(("header", "locale"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-Hans-CN", "zh-CN"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR, zh-CN;q=0.5", "zh-CN"),
    ("en;q=0.5, zh-CN;q=0.9", "zh-CN"),
    ("zh-CN;q=0", "en"),
    ("de", "en"),
    ("", "en"),
    (None, "en"),
    ("zh_CN.UTF-8", "zh-CN"),
    ("C.UTF-8", "en"),
])
def test_accept_language_and_lang_choose_the_catalog(header: str | None, locale: str) -> None:
    assert negotiate(header, catalogs().locales) == locale


def test_a_third_language_is_one_more_catalog(tmp_path: object) -> None:
    """Adding hi.json is all it takes: it is offered, negotiated, and falls back to English
    for what it does not have yet."""
    messages = {**catalogs().messages, "hi": {"_meta.name": "हिन्दी", "web.sign_in": "साइन इन"}}
    cat = Catalogs(messages=messages)
    assert cat.negotiate("hi-IN,en;q=0.5") == "hi"
    assert cat.names()["hi"] == "हिन्दी"
    assert cat.text("hi", "web.sign_in") == "साइन इन"
    assert cat.text("hi", "web.sign_out") == "Sign out"


def test_a_missing_placeholder_falls_back_to_the_english_given() -> None:
    assert catalogs().text("zh-CN", "error.LINE_CAP_EXCEEDED", "the English") == "the English"
    assert catalogs().text("zh-CN", "error.NO_SUCH_CODE", "the English") == "the English"
