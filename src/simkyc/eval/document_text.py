"""Evaluation of the card OCR cross-check, card by card, inside the document evaluation.

Each photographed specimen's upright card (as portrait extraction hands it over) is read
once; its text is compared with the card's own data as an agent would type it (the Chinese
name on resident ID cards when the CJK font printed it, else given names then surname: the
other order than the card's) and with another specimen's data of the same kind (a typo or
the wrong applicant). Measured: per-field agreement with the true data (match), false
mismatches, mismatches caught on the other data, the MRZ read-and-valid rate, and seconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from simkyc.documents.crosscheck import FieldStatus, TextCheck, Typed, TypedField, cross_check
from simkyc.synth.specimen import DocumentKind, SpecimenData, cjk_font_path


@dataclass(frozen=True)
class TextOutcome:
    """One card's cross-check: the statuses with its own and with other data, the MRZ."""

    kind: DocumentKind
    own: dict[TypedField, FieldStatus]
    other: dict[TypedField, FieldStatus]
    mrz_valid: bool
    mrz_exact: bool
    seconds: float


def typed_as_agent(data: SpecimenData) -> Typed:
    """The data an agent types from the card."""
    chinese = data.kind is DocumentKind.CN_RESIDENT_ID and cjk_font_path() is not None
    name = data.name_zh if chinese and data.name_zh else f"{data.given_names} {data.surname}"
    return Typed(data.number, name, data.birth_date, data.expiry_date,
                 resident_id=data.kind is DocumentKind.CN_RESIDENT_ID)


def measure_text(
    checked: TextCheck | None, data: SpecimenData, other: SpecimenData, *, seconds: float,
    sure_score: float,
) -> TextOutcome:
    """The card's text as the document reader checked it against the agent's typing of
    `data` (None: no card was found: every field unreadable), and against `other`."""
    if checked is None:
        unread = dict.fromkeys(TypedField, FieldStatus.UNREADABLE)
        return TextOutcome(data.kind, unread, unread, False, False, 0.0)
    wrong = cross_check(checked.text, typed_as_agent(other), sure_score=sure_score,
                        cn=checked.cn)
    mrz = checked.text.mrz
    return TextOutcome(
        kind=data.kind,
        own={check.field: check.status for check in checked.fields},
        other={check.field: check.status for check in wrong},
        mrz_valid=mrz is not None and mrz.valid,
        mrz_exact=mrz is not None and mrz.valid and mrz.lines == data.mrz,
        seconds=seconds,
    )


def text_figures(outcomes: list[TextOutcome]) -> dict[str, object]:
    """Every OCR figure, JSON-ready: overall, per field and per kind of card."""
    with_mrz = [o for o in outcomes if o.kind is not DocumentKind.CN_RESIDENT_ID]
    return {
        "cards": len(outcomes),
        "agreement": _share(o.own[f] is FieldStatus.MATCH for o in outcomes for f in TypedField),
        "fields": {field.value: _field(outcomes, field) for field in TypedField},
        "by_kind": {
            kind.value: {field.value: _field(group, field) for field in TypedField}
            for kind in DocumentKind
            if (group := [o for o in outcomes if o.kind is kind])
        },
        "mrz": {"cards": len(with_mrz), "read_and_valid": _share(o.mrz_valid for o in with_mrz),
                "exact": _share(o.mrz_exact for o in with_mrz)},
        "ocr_seconds": {"p50": float(np.percentile([o.seconds for o in outcomes], 50)),
                        "p95": float(np.percentile([o.seconds for o in outcomes], 95))},
    }


def _field(outcomes: list[TextOutcome], field: TypedField) -> dict[str, object]:
    """One field: agreement on the true data, and what the other data gave."""
    own = Counter(o.own[field].value for o in outcomes)
    other = Counter(o.other[field].value for o in outcomes)
    return {
        "match": own["match"] / max(len(outcomes), 1),
        "false_mismatch": own["mismatch"] / max(len(outcomes), 1),
        "unreadable": own["unreadable"] / max(len(outcomes), 1),
        "other_data_mismatch": other["mismatch"] / max(len(outcomes), 1),
        "other_data_match": other["match"] / max(len(outcomes), 1),
    }


def _share(flags: object) -> float:
    values = list(flags)  # type: ignore[call-overload]
    return sum(bool(v) for v in values) / max(len(values), 1)


def print_text(figures: dict[str, object], console: Console) -> None:
    """The OCR figures as a table: one row per field, then the MRZ."""
    fields = figures["fields"]
    mrz = figures["mrz"]
    assert isinstance(fields, dict) and isinstance(mrz, dict)
    table = Table(title=f"Card text vs typed data ({figures['cards']} card photos, "
                  f"agreement {figures['agreement']:.1%})")
    for column in ("field", "match", "false mismatch", "unreadable", "other data: mismatch",
                   "other data: match"):
        table.add_column(column)
    for name, row in fields.items():
        table.add_row(name, *(f"{row[k]:.1%}" for k in ("match", "false_mismatch", "unreadable",
                                                       "other_data_mismatch",
                                                       "other_data_match")))
    console.print(table)
    console.print(f"MRZ read and valid: {mrz['read_and_valid']:.1%} of {mrz['cards']} "
                  f"(exactly the printed MRZ: {mrz['exact']:.1%})")
