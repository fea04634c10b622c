"""`simkyc eval documents`: the document reader on real specimen images, per type and country.

The data set is a folder with `manifest.csv` (file, country, doc_type, has_mrz,
has_portrait, mrz_lines: the MRZ transcribed, lines joined by `|`) and the images, e.g.
`../shared/data/documents-specimens/` (99 public specimens, 68 with their MRZ). For each
image, from its bytes (decode as an upload is decoded), the service's own reader
(`reading.DocumentReader`, what the proofing flow and `simkyc document check` run): the
portrait, the card's text and the MRZ searched anywhere. Reported, per document type and
per country:
- MRZ found: a reading of a format's shape came out of a band (of those with an MRZ);
- MRZ read: its lines are exactly the transcribed ones;
- MRZ verified: every check digit holds and no character outside them is in doubt;
  `verified_wrong` counts verified readings that differ from the transcription (the figure
  that must stay 0);
- fields agreeing: of document number, birth date, expiry date, surname, given names,
  nationality and issuing state, how many the reading states as the transcription does;
- portrait found (of those that show one); seconds per document (p50, p95).
Specimens whose printed check digits do not hold ("INVALID as printed") can never be
verified: they count in `mrz` but are listed apart (`invalid_as_printed`). A verified MRZ
is read as printed; the document may still be invalid (an impossible date, digits in a
name): its fields are evidence only when it is valid too.
"""

from __future__ import annotations

import csv
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from simkyc.config import Settings
from simkyc.documents.mrz import MrzResult, parse_mrz
from simkyc.documents.reading import DocumentReader, DocumentReading
from simkyc.errors import SimkycError
from simkyc.faces.pipeline import FaceEncoder

FIELDS = ("document_number", "birth_date", "expiry_date", "surname", "given_names",
          "nationality", "issuing_state")


@dataclass(frozen=True)
class Specimen:
    """One row of the manifest."""

    path: Path
    country: str
    doc_type: str
    has_portrait: bool
    mrz_lines: tuple[str, ...] | None  # None: no MRZ, or none transcribed


@dataclass(frozen=True)
class SpecimenOutcome:
    """What the reader made of one specimen."""

    specimen: Specimen
    mrz_found: bool
    mrz_read: bool
    mrz_verified: bool
    verified_wrong: bool
    fields_agreeing: int
    fields_total: int
    portrait_found: bool
    portrait_error: str | None
    issuing_state: str | None
    seconds: float
    mrz_lines: tuple[str, ...] | None
    truth_valid: bool


def load_manifest(data_dir: Path) -> list[Specimen]:
    """The specimens a folder's manifest.csv lists."""
    with (data_dir / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        return [Specimen(data_dir / row["file"], row["country"], row["doc_type"],
                         row["has_portrait"] == "yes",
                         tuple(row["mrz_lines"].split("|")) if row["mrz_lines"] else None)
                for row in csv.DictReader(handle)]


def evaluate(specimen: Specimen, *, read: Callable[[bytes], DocumentReading],
             today: date) -> SpecimenOutcome:
    """Read one specimen and compare what was read with its transcription."""
    start = time.perf_counter()
    try:
        reading: DocumentReading | None = read(specimen.path.read_bytes())
    except SimkycError:
        reading = None
    seconds = time.perf_counter() - start
    found = reading.mrz if reading is not None else None
    truth = specimen.mrz_lines
    verified = reading is not None and reading.mrz_verified
    agreeing, total = _fields(found.result if found else None, truth, today)
    return SpecimenOutcome(
        specimen=specimen,
        mrz_found=found is not None,
        mrz_read=found is not None and found.lines == truth,
        mrz_verified=verified and truth is not None,
        verified_wrong=verified and (found is None or found.lines != truth),
        fields_agreeing=agreeing,
        fields_total=total,
        portrait_found=reading is not None and reading.portrait is not None,
        portrait_error=None if reading is None else reading.portrait_error,
        issuing_state=None if reading is None else reading.issuing_state,
        seconds=seconds,
        mrz_lines=found.lines if found else None,
        truth_valid=truth is not None and _checks_hold(truth, today),
    )


def _checks_hold(lines: tuple[str, ...], today: date) -> bool:
    """Every check digit of the transcribed MRZ holds under ICAO 9303's rules for its
    format: a reading of it can verify (the document may still be invalid, e.g. the Czech
    specimen's birth date 29 February 2011)."""
    result = parse_mrz(lines, today=today)
    return result.format is not None and all(check.ok for check in result.checks)


def _fields(result: MrzResult | None, truth: tuple[str, ...] | None,
            today: date) -> tuple[int, int]:
    """How many of FIELDS the reading states as the transcription does, of how many."""
    if truth is None:
        return 0, 0
    if result is None:
        return 0, len(FIELDS)
    expected = parse_mrz(truth, today=today)
    return sum(getattr(result, f) == getattr(expected, f) for f in FIELDS), len(FIELDS)


def summary(outcomes: Iterable[SpecimenOutcome]) -> dict[str, object]:
    """The figures of a group of outcomes."""
    group = list(outcomes)
    with_mrz = [o for o in group if o.specimen.mrz_lines is not None]
    with_portrait = [o for o in group if o.specimen.has_portrait]
    times = sorted(o.seconds for o in group)
    return {
        "documents": len(group),
        "mrz": len(with_mrz),
        "mrz_found": sum(o.mrz_found for o in with_mrz),
        "mrz_read": sum(o.mrz_read for o in with_mrz),
        "mrz_verified": sum(o.mrz_verified for o in with_mrz),
        "verified_wrong": sum(o.verified_wrong for o in group),
        "invalid_as_printed": sum(not o.truth_valid for o in with_mrz),
        "fields_agreeing": sum(o.fields_agreeing for o in with_mrz),
        "fields_total": sum(o.fields_total for o in with_mrz),
        "portrait": len(with_portrait),
        "portrait_found": sum(o.portrait_found for o in with_portrait),
        "seconds_p50": round(statistics.median(times), 3) if times else None,
        "seconds_p95": round(times[int(0.95 * (len(times) - 1))], 3) if times else None,
    }


def report(outcomes: list[SpecimenOutcome]) -> dict[str, object]:
    """Totals, then the same figures per document type and per country."""
    by_type: dict[str, list[SpecimenOutcome]] = defaultdict(list)
    by_country: dict[str, list[SpecimenOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_type[outcome.specimen.doc_type].append(outcome)
        by_country[outcome.specimen.country].append(outcome)
    return {
        "total": summary(outcomes),
        "by_type": {key: summary(group) for key, group in sorted(by_type.items())},
        "by_country": {key: summary(group) for key, group in sorted(by_country.items())},
        "documents": [_row(outcome) for outcome in outcomes],
    }


def _row(outcome: SpecimenOutcome) -> dict[str, object]:
    return {
        "file": outcome.specimen.path.name,
        "mrz_found": outcome.mrz_found,
        "mrz_read": outcome.mrz_read,
        "mrz_verified": outcome.mrz_verified,
        "verified_wrong": outcome.verified_wrong,
        "portrait_found": outcome.portrait_found,
        "portrait_error": outcome.portrait_error,
        "issuing_state": outcome.issuing_state,
        "seconds": round(outcome.seconds, 3),
    }


def run_specimen_evaluation(settings: Settings, data_dir: Path, *, today: date,
                            limit: int | None = None, out: Path | None = None,
                            progress: Callable[[SpecimenOutcome], None] | None = None,
                            own_ocrb: bool = True) -> dict[str, object]:
    """Read every specimen of `data_dir` (the first `limit`) and report; the JSON report
    goes to `out` when given. `own_ocrb=False` reads without the project's own OCR-B
    recognizer (RapidOCR and Tesseract only), for comparison: not what the service does."""
    encoder = FaceEncoder.from_settings(settings)
    documents = DocumentReader.from_settings(settings)
    if not own_ocrb:
        documents = replace(documents, own=None)

    def read(data: bytes) -> DocumentReading:
        pixels = encoder.decoder.decode(data).pixels
        return documents.read(pixels, encoder=encoder, today=today)

    outcomes = []
    for specimen in load_manifest(data_dir)[:limit]:
        outcome = evaluate(specimen, read=read, today=today)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    result = report(outcomes)
    second = documents.second
    result["second_reader"] = "tesseract" if second is not None and second.available else None
    result["own_ocrb"] = own_ocrb
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    return result


def format_table(result: dict[str, object], key: str) -> list[str]:
    """Plain-text rows of one grouping of the report ("by_type" or "by_country")."""
    groups = result[key]
    assert isinstance(groups, dict)
    lines = [f"{'':28s} {'docs':>4s} {'mrz':>4s} {'found':>5s} {'read':>4s} {'verif':>5s} "
             f"{'wrong':>5s} {'fields':>7s} {'portr':>7s} {'p50 s':>6s}"]
    for name, figures in [*groups.items(), ("TOTAL", result["total"])]:
        f = figures
        lines.append(
            f"{name:28s} {f['documents']:4d} {f['mrz']:4d} {f['mrz_found']:5d} "
            f"{f['mrz_read']:4d} {f['mrz_verified']:5d} {f['verified_wrong']:5d} "
            f"{f['fields_agreeing']:3d}/{f['fields_total']:<3d} "
            f"{f['portrait_found']:3d}/{f['portrait']:<3d} {f['seconds_p50']:6.2f}")
    return lines
