"""The error tree: every error carries its own code and HTTP status, the codes are unique,
the README's error table lists each with its status, and the machine-readable details."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from simkyc import errors
from simkyc.api import errors as api_errors
from simkyc.errors import LivenessLocked, SimkycError, TooManyAttempts, TryLater
from simkyc.i18n import catalogs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "simkyc"
README = ROOT / "README.md"


def _coded_classes() -> Iterator[tuple[str, str]]:
    """(module, class name) of every class in the package whose body sets `code = "..."`,
    found in the sources so an error in a module nothing imports is not missed."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "code" for t in item.targets)
                    for item in node.body):
                yield module, node.name


def error_classes() -> list[type[SimkycError]]:
    """Every error class that names a code (the base's own catch-all code left out)."""
    found = [getattr(importlib.import_module(module), name) for module, name in _coded_classes()]
    return [kind for kind in found if issubclass(kind, SimkycError) and kind is not SimkycError]


def readme_table() -> dict[str, int]:
    """code -> status from the README's error table (`| code(s) | status(es) | when |`); a
    row naming several codes gives one status for all or one per code, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| code | status | when |")
    table: dict[str, int] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        codes_cell, status_cell = line.split("|")[1:3]
        codes = re.findall(r"`([A-Z_]+)`", codes_cell)
        statuses = [int(s) for s in re.findall(r"\d{3}", status_cell)]
        assert len(statuses) in {1, len(codes)}, line
        for code, status in zip(codes, statuses * len(codes) if len(statuses) == 1 else statuses,
                                strict=True):
            assert code not in table, f"{code} twice in the README's error table"
            table[code] = status
    return table


def test_every_error_class_has_its_own_code_and_status() -> None:
    kinds = error_classes()
    assert len(kinds) > 50
    lacking = [k.__name__ for k in kinds if not {"code", "status"} <= vars(k).keys()]
    assert lacking == []
    assert all(isinstance(k.status, int) and 400 <= k.status <= 599 for k in kinds)


def test_error_codes_are_unique() -> None:
    codes = [k.code for k in error_classes()]
    assert sorted({c for c in codes if codes.count(c) > 1}) == []


def test_every_error_code_has_a_sentence_in_english_and_chinese() -> None:
    """The API answers in the request's language (tests/unit/i18n/test_catalogs.py checks the
    same from the sources, with the handlers' own codes)."""
    messages = catalogs().messages
    lacking = {tag: sorted(k.code for k in error_classes() if f"error.{k.code}" not in
                           messages[tag]) for tag in ("en", "zh-CN")}
    assert lacking == {"en": [], "zh-CN": []}


@pytest.mark.parametrize("body", [{"code": "NO_STATUS"}, {"status": 422},
                                  {"code": "NOT_AN_ERROR", "status": 200}])
def test_an_error_without_a_status_cannot_be_defined(body: dict[str, object]) -> None:
    """No silent default: a class with a code and no status (or a status and no code, or a
    status that is not an HTTP error) fails when it is defined, not in production."""
    with pytest.raises(TypeError):
        type("Incomplete", (SimkycError,), body)


def test_a_family_without_a_code_needs_no_status() -> None:
    assert issubclass(TryLater, SimkycError)
    assert "code" not in vars(TryLater) and "status" not in vars(TryLater)


def test_the_readme_error_table_lists_every_code_with_its_status() -> None:
    table = readme_table()
    expected = {k.code: k.status for k in error_classes()}
    # Codes the API's own handlers answer with (outside the error tree).
    expected |= {"INVALID_REQUEST": 422, "INTERNAL_ERROR": 500, "METHOD_NOT_ALLOWED": 405,
                 "REQUEST_TOO_LARGE": 413}
    assert sorted(expected.keys() - table.keys()) == [], "codes missing from the README table"
    assert sorted(table.keys() - expected.keys()) == [], "README rows for codes that are gone"
    assert {c: s for c, s in table.items() if expected[c] != s} == {}, "wrong README statuses"


IMAGE_CONTENT = [errors.NoFaceFound("no face"), errors.MultipleFaces("two", count=2),
                 errors.PoorQuality([errors.QualityFinding("blur", 1.0, 2.0, "hold still")]),
                 errors.NoDocumentFound("no document"), errors.NoPortraitFound("no portrait"),
                 errors.MultipleDocuments("two", count=2)]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    api_errors.install(app)

    @app.get("/raise/{index}")
    def raise_(index: int) -> None:
        raise IMAGE_CONTENT[index]

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("index", range(len(IMAGE_CONTENT)), ids=lambda i: IMAGE_CONTENT[i].code)
def test_an_image_whose_content_cannot_be_used_is_422(client: TestClient, index: int) -> None:
    """A decodable photo without a usable face or document is a well-formed request whose
    content cannot be processed: 422, like NO_FACE (NO_DOCUMENT, NO_PORTRAIT and
    MULTIPLE_DOCUMENTS answered 400 through the old table's silent default)."""
    answer = client.get(f"/raise/{index}")
    assert (answer.status_code, answer.json()["error"]["code"]) == (
        422, IMAGE_CONTENT[index].code)


@pytest.mark.parametrize("kind", [LivenessLocked, TooManyAttempts])
@pytest.mark.parametrize(("retry_after", "seconds"), [(0.2, 1), (1799.4, 1799), (1800.0, 1800)])
def test_a_wait_is_whole_seconds_and_never_zero(kind: type[TryLater], retry_after: float,
                                                seconds: int) -> None:
    """The API's Retry-After header is at least 1 s; the body's `retry_after_s` agrees with
    it at the end of a lockout (LIVENESS_LOCKED said 0 there)."""
    assert kind("wait.", retry_after=retry_after).details() == {"retry_after_s": seconds}
