"""`simkyc document check-number / check-mrz`: exit codes, JSON shape, readable output."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from simkyc.cli.documents import document_app

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
Invoke = Callable[..., tuple[int, str]]
CN_KEYS = {
    "type",
    "valid",
    "errors",
    "findings",
    "number",
    "converted_from_15",
    "region_code",
    "province",
    "province_name",
    "birth_date",
}
MRZ_KEYS = {
    "valid",
    "errors",
    "findings",
    "format",
    "document_code",
    "issuing_state",
    "document_number",
    "nationality",
    "birth_date",
    "expiry_date",
    "expired",
    "surname",
    "given_names",
    "optional_data",
    "checks",
}


@pytest.fixture(scope="module")
def run() -> Invoke:
    """Invoke the sub-app mounted as the `simkyc` app mounts it: `document ...`."""
    app = typer.Typer()
    app.add_typer(document_app, name="document")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["document", *args])
        return result.exit_code, result.stdout

    return invoke


def _json(run: Invoke, *args: str) -> tuple[int, dict[str, Any]]:
    code, out = run(*args, "--json")
    return code, json.loads(out)


def test_a_valid_number_exits_0_with_its_fields(run: Invoke) -> None:
    code, out = _json(run, "check-number", "--type", "cn-resident-id", "11010519491231002x")
    assert code == 0
    assert set(out) == CN_KEYS
    assert out["valid"] is True
    assert out["errors"] == []
    assert out["number"] == "11010519491231002X"
    assert out["birth_date"] == "1949-12-31"
    assert (out["province"], out["province_name"]) == ("11", "Beijing")


def test_an_invalid_number_exits_1_with_its_error_codes(run: Invoke) -> None:
    code, out = _json(run, "check-number", "--type", "cn-resident-id", "110105194912310021")
    assert code == 1
    assert out["valid"] is False
    assert out["errors"] == ["BAD_CHECK_DIGIT"]
    assert out["findings"][0]["field"] == "check_character"


def test_a_15_digit_number_is_reported_converted(run: Invoke) -> None:
    code, out = _json(run, "check-number", "--type", "cn-resident-id", "110105491231002")
    assert code == 0
    assert out["converted_from_15"] is True
    assert out["number"] == "11010519491231002X"


def test_today_bounds_the_birth_date(run: Invoke) -> None:
    args = ("check-number", "--type", "cn-resident-id", "11010519491231002X")
    code, out = _json(run, *args, "--today", "1949-12-30")
    assert code == 1
    assert out["errors"] == ["FUTURE_BIRTH_DATE"]


def test_an_unknown_type_exits_3(run: Invoke) -> None:
    code, out = _json(run, "check-number", "--type", "passport", "L898902C3")
    assert code == 3
    assert out["valid"] is False
    assert out["errors"] == ["UNSUPPORTED_DOCUMENT_TYPE"]
    assert "cn-resident-id" in str(out["message"])


def test_an_unknown_type_without_json_exits_3_without_traceback(run: Invoke) -> None:
    code, _ = run("check-number", "--type", "passport", "L898902C3")
    assert code == 3


def test_readable_number_output(run: Invoke) -> None:
    code, out = run("check-number", "--type", "cn-resident-id", "110105194912310021")
    assert code == 1
    assert "invalid" in out
    assert "110105 (Beijing)" in out
    assert "BAD_CHECK_DIGIT (check character)" in out  # the field as the reader says it


@pytest.mark.parametrize("lines", [TD3, TD1])
def test_a_valid_mrz_exits_0_with_its_fields(run: Invoke, lines: tuple[str, ...]) -> None:
    code, out = _json(run, "check-mrz", *lines, "--today", "2010-01-01")
    assert code == 0
    assert set(out) == MRZ_KEYS
    assert out["valid"] is True
    assert out["errors"] == []
    assert out["surname"] == "ERIKSSON"
    assert out["expiry_date"] == "2012-04-15"
    assert out["expired"] is False
    assert all(out["checks"].values())


def test_an_expired_mrz_is_valid_unless_expiry_is_checked(run: Invoke) -> None:
    code, out = _json(run, "check-mrz", *TD3, "--today", "2025-06-01")
    assert (code, out["valid"], out["expired"]) == (0, True, True)
    code, out = _json(run, "check-mrz", *TD3, "--today", "2025-06-01", "--check-expiry")
    assert (code, out["errors"]) == (1, ["EXPIRED"])


def test_a_corrupted_mrz_exits_1(run: Invoke) -> None:
    line2 = TD3[1].replace("L898902C3", "L898902C4")
    code, out = _json(run, "check-mrz", TD3[0], line2)
    assert code == 1
    assert out["errors"] == ["BAD_CHECK_DIGIT", "BAD_COMPOSITE_CHECK_DIGIT"]
    assert out["checks"] == {
        "document_number": False,
        "birth_date": True,
        "expiry_date": True,
        "personal_number": True,
        "composite": False,
    }


def test_a_wrong_line_count_exits_1(run: Invoke) -> None:
    code, out = _json(run, "check-mrz", TD3[0])
    assert code == 1
    assert out["errors"] == ["BAD_LINE_COUNT"]
    assert out["format"] is None


def test_readable_mrz_output_shows_fields_and_checks(run: Invoke) -> None:
    code, out = run("check-mrz", *TD3, "--today", "2025-06-01")
    assert code == 0
    assert out.startswith("valid  TD3 MRZ")
    assert "2012-04-15 (expired)" in out
    assert "document number  L898902C3" in out
    assert "check digit      composite: ok" in out


def test_the_json_never_carries_the_sex_field(run: Invoke) -> None:
    _, out = _json(run, "check-mrz", *TD3, "--today", "2010-01-01")
    assert "sex" not in out
    assert TD3[1] not in json.dumps(out)
