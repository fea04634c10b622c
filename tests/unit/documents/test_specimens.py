"""`simkyc eval documents`' bookkeeping: the manifest, what counts as found / read / verified,
and a verified reading that differs from the transcription counted apart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from simkyc.documents.card_text import CardText
from simkyc.documents.crosscheck import TextCheck
from simkyc.documents.mrz_correct import correct_mrz
from simkyc.documents.reading import DocumentReading
from simkyc.errors import NoPortraitFound
from simkyc.eval.document_specimens import evaluate, load_manifest, report

TODAY = date(2026, 12, 4)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
HEADER = "file,country,doc_type,has_mrz,has_portrait,mrz_lines,notes\n"


def _manifest(tmp_path: Path) -> Path:
    (tmp_path / "images").mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / "images" / name).write_bytes(b"x")
    (tmp_path / "manifest.csv").write_text(
        HEADER + f"images/a.jpg,UTO,passport-td3,yes,yes,{'|'.join(TD3)},\n"
        f"images/b.jpg,UTO,passport-td3,yes,yes,{'|'.join(TD3)},\n"
        "images/c.jpg,HKG,id-card,no,no,,\n")
    return tmp_path


def _reading(lines: tuple[str, ...] | None) -> DocumentReading:
    found = None if lines is None else correct_mrz(lines, today=TODAY)
    text = TextCheck(CardText({}, {}, found, None), ())
    return DocumentReading(None, NoPortraitFound("no portrait"), text, 0.1, 0.1)


def test_the_manifest_is_read(tmp_path: Path) -> None:
    specimens = load_manifest(_manifest(tmp_path))
    assert [s.mrz_lines for s in specimens] == [TD3, TD3, None]
    assert [s.country for s in specimens] == ["UTO", "UTO", "HKG"]


def test_a_verified_reading_that_differs_from_the_truth_is_counted_apart(
    tmp_path: Path,
) -> None:
    a, b, c = load_manifest(_manifest(tmp_path))
    wrong_name = (TD3[0].replace("ANNA", "ANNE"), TD3[1])  # no check digit covers it
    outcomes = [evaluate(a, read=lambda _: _reading(TD3), today=TODAY),
                evaluate(b, read=lambda _: _reading(wrong_name), today=TODAY),
                evaluate(c, read=lambda _: _reading(None), today=TODAY)]
    total = report(outcomes)["total"]
    assert isinstance(total, dict)
    assert (total["mrz"], total["mrz_found"], total["mrz_read"]) == (2, 2, 1)
    assert (total["mrz_verified"], total["verified_wrong"]) == (2, 1)
    assert (total["fields_agreeing"], total["fields_total"]) == (7 + 6, 14)
    assert (total["portrait"], total["portrait_found"]) == (2, 0)
    assert outcomes[0].issuing_state == "UTO" and outcomes[2].issuing_state is None
