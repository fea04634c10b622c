"""`simkyc document ...`: check an ID number or an MRZ typed or read off a document.

Exit codes: 0 valid, 1 invalid, 3 error (e.g. an unknown --type).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simkyc.cli.lang import BadValue, column, finding_said, said, say
from simkyc.config import Settings
from simkyc.documents.cn_id import CnIdResult, validate_cn_resident_id
from simkyc.documents.crosscheck import FieldStatus, TextCheck, Typed
from simkyc.documents.findings import Finding, UnsupportedDocumentType
from simkyc.documents.mrz import MrzResult, parse_mrz
from simkyc.errors import SimkycError
from simkyc.files import read_input

if TYPE_CHECKING:
    from simkyc.documents.portrait import PortraitResult

document_app = typer.Typer(
    no_args_is_help=True, help="Check identity document numbers and machine readable zones."
)

EXIT_VALID, EXIT_INVALID, EXIT_ERROR = 0, 1, 3


class NumberType(StrEnum):
    """Kinds of document number: `check-number` validates the first; an ICAO 9303 document's
    number is checked through its MRZ (`check-mrz`, or `check` on a card photo)."""

    CN_RESIDENT_ID = "cn-resident-id"
    ICAO_9303 = "icao-9303"


_VALIDATORS: dict[NumberType, Callable[..., CnIdResult]] = {
    NumberType.CN_RESIDENT_ID: validate_cn_resident_id
}


TodayOption = Annotated[
    str | None, typer.Option("--today", help="Reference date YYYY-MM-DD (default: today).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@document_app.command("check-number")
def check_number(
    value: Annotated[str, typer.Argument(help="The number, e.g. 11010519491231002X.")],
    kind: Annotated[str, typer.Option("--type", help="Kind of number: cn-resident-id.")],
    as_json: JsonOption = False,
    today: TodayOption = None,
) -> None:
    """Check a document number's structure, dates and check character."""
    try:
        number_type = _number_type(kind)
        if number_type not in _VALIDATORS:
            raise UnsupportedDocumentType(
                f"A {kind} document number has no check of its own: check its MRZ.")
    except SimkycError as error:
        raise _fail(error, as_json) from None
    # One kind so far; a second one brings its own result type and printer.
    result = _VALIDATORS[number_type](value, today=_today(today))
    if as_json:
        print(json.dumps(result.to_dict()))
    else:
        _print_cn_id(result)
    raise typer.Exit(EXIT_VALID if result.valid else EXIT_INVALID)


@document_app.command("check-mrz")
def check_mrz(
    lines: Annotated[list[str], typer.Argument(help="The MRZ lines: LINE1 LINE2 [LINE3].")],
    as_json: JsonOption = False,
    today: TodayOption = None,
    check_expiry: Annotated[
        bool, typer.Option("--check-expiry", help="Treat an expired document as invalid.")
    ] = False,
) -> None:
    """Check a TD1, TD2 or TD3 machine readable zone: layout, fields and every check digit."""
    reference = _today(today)
    result = parse_mrz(lines, today=reference, check_expiry=check_expiry)
    if as_json:
        print(json.dumps(result.to_dict(today=reference)))
    else:
        _print_mrz(result, today=reference)
    raise typer.Exit(EXIT_VALID if result.valid else EXIT_INVALID)


DateOption = Annotated[str | None, typer.Option(help="As typed, YYYY-MM-DD.")]


@document_app.command("check")
def check_card(
    card_image: Annotated[Path, typer.Argument(help="A photo or scan of the ID card.")],
    *,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="The number the agent typed.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The name as typed.")] = None,
    birth_date: DateOption = None,
    expiry: DateOption = None,
    kind: Annotated[
        str, typer.Option("--type", help="Kind of number: cn-resident-id or icao-9303.")
    ] = "cn-resident-id",
    as_json: JsonOption = False,
    today: TodayOption = None,
) -> None:
    """Find the card, extract its portrait, read its text (OCR; the MRZ anywhere on the
    image) and compare it with the typed data: each field match / mismatch / unreadable,
    by the reader the proofing flow's document step uses. Only a mismatch, a bad typed
    number, a PRC card disagreeing with its own number or an unusable portrait make the
    card invalid."""
    from simkyc.config import get_settings

    reference = _today(today)
    try:
        number_type = _number_type(kind)
        # Read as a PRC card (no MRZ looked for) when a resident ID number was typed for it;
        # else by what is read on it.
        typed = Typed(id_number, name, _date(birth_date, "--birth-date"),
                      _date(expiry, "--expiry"),
                      resident_id=id_number is not None
                      and number_type is NumberType.CN_RESIDENT_ID)
        number = (None if id_number is None or number_type not in _VALIDATORS
                  else _VALIDATORS[number_type](id_number, today=reference))
        portrait, text = _read_card(get_settings(), read_input(card_image), typed,
                                    today=reference)
    except SimkycError as error:
        raise _fail(error, as_json) from None
    quality = portrait.sample.quality
    mismatches = [f"{c.field.value.upper()}_MISMATCH" for c in text.fields
                  if c.status is FieldStatus.MISMATCH]
    inconsistent = [] if text.cn is None else [f.code.value for f in text.cn.findings]
    errors = ([f.check for f in quality.findings]
              + ([] if number is None else [e.code.value for e in number.errors]) + mismatches
              + inconsistent)
    valid = (quality.acceptable and (number is None or number.valid) and not mismatches
             and not inconsistent)
    out = {"valid": valid, "errors": errors, "portrait": portrait.to_dict(),
           "number": None if number is None else number.to_dict(), **text.to_dict()}
    print(json.dumps(out, default=str) if as_json else json.dumps(out, indent=2, default=str,
                                                                 ensure_ascii=False))
    raise typer.Exit(EXIT_VALID if valid else EXIT_INVALID)


def _read_card(
    settings: Settings, data: bytes, typed: Typed, *, today: date
) -> tuple[PortraitResult, TextCheck]:
    """The card's portrait, and its text compared with the typed data: the proofing flow's
    document reader (`reading.DocumentReader`), built as the service builds it."""
    from simkyc.documents.reading import DocumentReader
    from simkyc.faces.pipeline import FaceEncoder

    encoder = FaceEncoder.from_settings(settings)
    pixels = encoder.decoder.decode(data).pixels
    reading = DocumentReader.from_settings(settings).read(
        pixels, encoder=encoder, today=today, typed=typed, require_portrait=True)
    assert reading.portrait is not None  # require_portrait raised otherwise
    return reading.portrait, reading.text


def _date(value: str | None, option: str) -> date | None:
    """A typed date option, or None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadValue(say("cli.document.not_a_date", option=option,
                           value=repr(value))) from None


def _number_type(kind: str) -> NumberType:
    """The NumberType named `kind`, or UnsupportedDocumentType."""
    try:
        return NumberType(kind)
    except ValueError:
        known = ", ".join(t.value for t in NumberType)
        raise UnsupportedDocumentType(
            f"Unknown document number type {kind!r}; known types: {known}."
        ) from None


def _today(value: str | None) -> date:
    """The reference date from --today, or the current date."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = say("cli.document.not_a_date", option="--today", value=repr(value))
        raise BadValue(message) from None


def _fail(error: SimkycError, as_json: bool) -> typer.Exit:
    """Report an error (code + sentence) and exit 3; never a traceback."""
    if as_json:
        print(
            json.dumps(
                {
                    "valid": False,
                    "errors": [error.code],
                    "error": error.code,
                    "message": said(error),
                }
            )
        )
    else:
        Console(stderr=True, soft_wrap=True).print(
            f"[red]{error.code}[/red]: {escape(said(error))}"
        )
    return typer.Exit(EXIT_ERROR)


def _print_cn_id(result: CnIdResult) -> None:
    """A readable account of a resident ID number check."""
    out = Console(soft_wrap=True)
    _print_verdict(out, result.valid, say("cli.document.cn_id", number=result.number))
    if result.converted_from_15:
        out.print("  " + say("cli.document.converted_from_15"))
    if result.region_code is not None:
        place = (say(f"cli.province.{result.province.value}") if result.province
                 else say("cli.document.province_unknown"))
        out.print(f"  {column(say('cli.field.region_code'), 16)} {result.region_code} ({place})")
    if result.birth_date is not None:
        out.print(f"  {column(say('cli.field.birth_date'), 16)} {result.birth_date.isoformat()}")
    _print_findings(out, result.errors)


def _print_mrz(result: MrzResult, *, today: date) -> None:
    """A readable account of an MRZ check: the fields read, then each check digit."""
    out = Console(soft_wrap=True)
    title = (say("cli.document.mrz_of", format=result.format.value) if result.format
             else say("cli.document.mrz"))
    _print_verdict(out, result.valid, title)
    if result.format is not None:
        expiry = (result.expiry_date.isoformat() if result.expiry_date
                  else say("cli.document.unreadable"))
        expired = say("cli.document.expired") if result.is_expired(today) else ""
        unknown = say("cli.document.unknown")
        rows = {
            say("cli.field.document_code"): result.document_code,
            say("cli.field.issuing_state"): result.issuing_state,
            say("cli.field.document_number"): result.document_number,
            say("cli.field.nationality"): result.nationality,
            say("cli.field.birth_date"): (result.birth_date.isoformat() if result.birth_date
                                          else unknown),
            say("cli.field.expiry_date"): expiry + expired,
            say("cli.document.surname"): result.surname,
            say("cli.document.given_names"): result.given_names,
            say("cli.field.optional_data"): " / ".join(result.optional_data),
        }
        for label, text in rows.items():
            out.print(f"  {column(label, 16)} {escape(text)}")
        for check in result.checks:
            mark = (f"[green]{say('cli.document.ok')}[/green]" if check.ok
                    else f"[red]{say('cli.document.failed')}[/red]")
            out.print(f"  {column(say('cli.document.check_digit'), 16)} "
                      f"{say(f'cli.digit.{check.name.value}')}: {mark}")
    _print_findings(out, result.errors)


def _print_verdict(out: Console, valid: bool, what: str) -> None:
    """The first line: valid or invalid, and what was checked."""
    verdict = (f"[bold green]{say('cli.document.valid')}[/]" if valid
               else f"[bold red]{say('cli.document.invalid')}[/]")
    out.print(f"{verdict}  {escape(what)}")


def _print_findings(out: Console, findings: tuple[Finding, ...]) -> None:
    """One line per finding: code, field, sentence."""
    for finding in findings:
        out.print(
            f"  [red]{finding.code.value}[/red] ({say(f'cli.field.{finding.field.value}')}): "
            f"{escape(finding_said(finding.code.value, finding.message))}"
        )
