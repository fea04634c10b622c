"""Where each field sits in the three MRZ formats of ICAO Doc 9303.

Positions are 0-based offsets into the MRZ's lines joined into one string; the comments
give the standard's 1-based line/position numbers. Sources: Part 4 §4.2.2 (TD3), Part 5
§4.2.2 (TD1), Part 6 §4.2.2 (TD2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class MrzFormat(StrEnum):
    """The MRZ size: TD1 cards (3x30), TD2 cards (2x36), TD3 passport books (2x44)."""

    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRV_A = "MRV-A"  # visa, 2 x 44 (Part 7)
    MRV_B = "MRV-B"  # visa, 2 x 36 (Part 7)
    FRA_CNI = "FRA-CNI"  # France's national ID card, 1988-2021 model, 2 x 36 (national)


@dataclass(frozen=True)
class Layout:
    """The field spans of one format; the sex position is deliberately absent."""

    format: MrzFormat
    lines: int
    width: int
    document_letters: tuple[str, ...]
    document_code: slice
    issuing_state: slice
    name: slice
    document_number: slice
    document_number_check: int
    nationality: slice
    birth_date: slice
    birth_date_check: int
    expiry_date: slice  # empty where the format has none (FRA_CNI)
    expiry_date_check: int | None
    optional_data: tuple[slice, ...]
    personal_number_check: int | None
    composite: tuple[slice, ...]
    composite_check: int | None  # visas (Part 7) have none
    can_overflow: bool
    # Where the given names have a field of their own (FRA_CNI's line 2); else they follow
    # the surname in `name`, after `<<`.
    given_names: slice | None = None

    @property
    def letter_fields(self) -> tuple[slice, ...]:
        """The fields of letters: the document code, the state codes and the names."""
        names = (self.name,) if self.given_names is None else (self.name, self.given_names)
        return (self.document_code, self.issuing_state, self.nationality, *names)


TD3 = Layout(
    format=MrzFormat.TD3,
    lines=2,
    width=44,
    document_letters=("P",),
    document_code=slice(0, 2),  # line 1, 1-2
    issuing_state=slice(2, 5),  # line 1, 3-5
    name=slice(5, 44),  # line 1, 6-44
    document_number=slice(44, 53),  # line 2, 1-9
    document_number_check=53,  # line 2, 10
    nationality=slice(54, 57),  # line 2, 11-13
    birth_date=slice(57, 63),  # line 2, 14-19
    birth_date_check=63,  # line 2, 20
    expiry_date=slice(65, 71),  # line 2, 22-27 (21 is sex)
    expiry_date_check=71,  # line 2, 28
    optional_data=(slice(72, 86),),  # line 2, 29-42: personal number
    personal_number_check=86,  # line 2, 43
    composite=(slice(44, 54), slice(57, 64), slice(65, 87)),  # line 2, 1-10, 14-20, 22-43
    composite_check=87,  # line 2, 44
    can_overflow=False,
)

TD2 = Layout(
    format=MrzFormat.TD2,
    lines=2,
    width=36,
    document_letters=("A", "C", "I"),
    document_code=slice(0, 2),  # line 1, 1-2
    issuing_state=slice(2, 5),  # line 1, 3-5
    name=slice(5, 36),  # line 1, 6-36
    document_number=slice(36, 45),  # line 2, 1-9
    document_number_check=45,  # line 2, 10
    nationality=slice(46, 49),  # line 2, 11-13
    birth_date=slice(49, 55),  # line 2, 14-19
    birth_date_check=55,  # line 2, 20
    expiry_date=slice(57, 63),  # line 2, 22-27 (21 is sex)
    expiry_date_check=63,  # line 2, 28
    optional_data=(slice(64, 71),),  # line 2, 29-35
    personal_number_check=None,
    composite=(slice(36, 46), slice(49, 56), slice(57, 71)),  # line 2, 1-10, 14-20, 22-35
    composite_check=71,  # line 2, 36
    can_overflow=True,
)

TD1 = Layout(
    format=MrzFormat.TD1,
    lines=3,
    width=30,
    document_letters=("A", "C", "I"),
    document_code=slice(0, 2),  # line 1, 1-2
    issuing_state=slice(2, 5),  # line 1, 3-5
    document_number=slice(5, 14),  # line 1, 6-14
    document_number_check=14,  # line 1, 15
    optional_data=(slice(15, 30), slice(48, 59)),  # line 1, 16-30; line 2, 19-29
    birth_date=slice(30, 36),  # line 2, 1-6
    birth_date_check=36,  # line 2, 7
    expiry_date=slice(38, 44),  # line 2, 9-14 (8 is sex)
    expiry_date_check=44,  # line 2, 15
    nationality=slice(45, 48),  # line 2, 16-18
    personal_number_check=None,
    # line 1, 6-30; line 2, 1-7, 9-15, 19-29
    composite=(slice(5, 30), slice(30, 37), slice(38, 45), slice(48, 59)),
    composite_check=59,  # line 2, 30
    name=slice(60, 90),  # line 3, 1-30
    can_overflow=True,
)

# Machine readable visas (Part 7 §4.2.2): the passport's (MRV-A) and the TD2 card's (MRV-B)
# lines, except line 2 has no composite check digit (nor a personal number's), its optional
# data running to the end of the line.
MRV_A = replace(
    TD3,
    format=MrzFormat.MRV_A,
    document_letters=("V",),
    optional_data=(slice(72, 88),),  # line 2, 29-44
    personal_number_check=None,
    composite=(),
    composite_check=None,
)

MRV_B = replace(
    TD2,
    format=MrzFormat.MRV_B,
    document_letters=("V",),
    optional_data=(slice(64, 72),),  # line 2, 29-36
    composite=(),
    composite_check=None,
    can_overflow=False,
)

# France's national identity card of 1988-2021 (the "CNI", still in circulation): two lines
# of 36 that are not ICAO's TD2. Line 1: `ID`, `FRA`, the surname (25), the issuing office
# (department and office, 6). Line 2: the card number (12: year and month of issue,
# department, sequence) and its check digit, the given names (14), the birth date and its
# check digit, the sex, and a check digit over every character before it on both lines.
# No expiry date and no nationality (the card is a French national's). Check digits as
# ICAO 9303 Part 3's (weights 7, 3, 1): on the two specimens of the card whose check digits
# hold as printed (`fra-id-card-td2-1`, `-2`), all three hold under this layout and none
# under TD2's. Recognised only as `IDFRA` lines (`layout_for`).
FRA_CNI = Layout(
    format=MrzFormat.FRA_CNI,
    lines=2,
    width=36,
    document_letters=("I",),
    document_code=slice(0, 2),  # line 1, 1-2
    issuing_state=slice(2, 5),  # line 1, 3-5
    name=slice(5, 30),  # line 1, 6-30: the surname
    optional_data=(slice(30, 36),),  # line 1, 31-36: the issuing office
    document_number=slice(36, 48),  # line 2, 1-12
    document_number_check=48,  # line 2, 13
    given_names=slice(49, 63),  # line 2, 14-27
    birth_date=slice(63, 69),  # line 2, 28-33
    birth_date_check=69,  # line 2, 34
    expiry_date=slice(0, 0),  # none
    expiry_date_check=None,
    nationality=slice(2, 5),  # none of its own: the issuing state's
    personal_number_check=None,
    composite=(slice(0, 36), slice(36, 71)),  # line 1; line 2, 1-35 (35 is the sex)
    composite_check=71,  # line 2, 36
    can_overflow=False,
)

LAYOUTS = (TD1, TD2, TD3, MRV_A, MRV_B, FRA_CNI)
DOCUMENT_LAYOUTS = (TD1, TD2, TD3)  # without visas: what a card of that shape may be


def layout_for(rows: tuple[str, ...] | list[str]) -> Layout | None:
    """The format whose shape the lines have; a 2-line MRZ whose code starts with V is a
    visa's (MRV-A, MRV-B), 2 lines of 36 starting `IDFRA` France's old card (FRA_CNI),
    else a travel document's (TD2, TD3)."""
    widths = {len(row) for row in rows}
    visa = bool(rows) and rows[0][:1] == "V"
    french = len(rows) == 2 and widths == {36} and rows[0][:5] == "IDFRA"
    return next((x for x in LAYOUTS if x.lines == len(rows) and widths == {x.width}
                 and (x.format is MrzFormat.FRA_CNI) == french
                 and (x.lines == 3 or (x.document_letters == ("V",)) == visa)), None)
