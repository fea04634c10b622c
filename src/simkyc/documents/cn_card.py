"""The PRC resident ID card (居民身份证) read by its printed labels, front and back.

Front: 姓名 (name), 出生 (birth date, YYYY 年 M 月 D 日), 住址 (address, up to three
lines), 公民身份号码 (the 18-character number, checked by `cn_id`). Back: 签发机关 (issuing
authority) and 有效期限 (validity, YYYY.MM.DD-YYYY.MM.DD or -长期 for life). A label is
found in OCR's lines wherever it sits (OCR often joins a label and its value into one line,
or splits a label's spaced characters); its value is the rest of that line, else the next
text on the same row.

Never read: 民族 (ethnicity). Text after 民族 on the row it starts is cut off before
anything is kept, and no field holds it; simkyc never classifies people by ethnicity.

性别 (sex) is read for one purpose only: a document-consistency check. The number's 17th
digit is odd for a man and even for a woman (GB 11643-1999 sequence code); a card whose
printed 性别 disagrees with its own number has been altered or badly forged. The printed
value is compared with that digit inside `read_cn_lines` and dropped there: what leaves is
`sex_consistent` (True, False, or None when either was not read) and, when False, a
document finding that names neither value. No field, log or report holds the sex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from simkyc.documents.card_text import resident_number
from simkyc.documents.findings import DocumentError, DocumentField, Finding
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.types import Image


class CnField(StrEnum):
    """What the card states that simkyc reads."""

    NAME = "name"
    BIRTH_DATE = "birth_date"
    ADDRESS = "address"
    NUMBER = "number"
    AUTHORITY = "authority"
    VALIDITY = "validity"


# Each label as printed, letters only (OCR may read the spacing between them or not).
LABELS = {
    "\u59d3\u540d": CnField.NAME,  # 姓名
    "\u51fa\u751f": CnField.BIRTH_DATE,  # 出生
    "\u4f4f\u5740": CnField.ADDRESS,  # 住址
    "\u516c\u6c11\u8eab\u4efd\u53f7\u7801": CnField.NUMBER,  # 公民身份号码
    "\u7b7e\u53d1\u673a\u5173": CnField.AUTHORITY,  # 签发机关
    "\u6709\u6548\u671f\u9650": CnField.VALIDITY,  # 有效期限
}
# Labels whose value is never kept: 民族 (ethnicity) and 性别 (sex; compared with the
# number, then dropped: see the module docstring).
NEVER_READ = ("\u6c11\u65cf", "\u6027\u522b")
SEX_LABEL = "\u6027\u522b"  # 性别
# The printed values and the parity of the number's 17th digit each stands for (1: odd).
_SEX_PARITY = {"\u7537": 1, "\u5973": 0}  # 男, 女
INCONSISTENT = Finding(
    DocumentError.INCONSISTENT_DOCUMENT, DocumentField.NUMBER,
    "The card's printed details disagree with its own ID number (an altered card?).")
LIFELONG = "\u957f\u671f"  # 长期
_BIRTH = re.compile(r"(\d{4})\D{0,3}?(\d{1,2})\D{0,3}?(\d{1,2})")
_VALIDITY = re.compile(r"(\d{4})\.?(\d{2})\.?(\d{2})\s*[-\u2014\u2013~\u81f3]+\s*"
                       r"(?:(\d{4})\.?(\d{2})\.?(\d{2})|(\u957f\u671f))")


@dataclass(frozen=True)
class CnCardText:
    """What was read on one side of a resident ID card (None where not read)."""

    values: dict[CnField, str]
    # Whether the printed 性别 agrees with the number's 17th digit (None: either unread).
    # Only this outcome is kept, never the value.
    sex_consistent: bool | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Document-consistency findings: the printed 性别 disagreeing with the number."""
        return (INCONSISTENT,) if self.sex_consistent is False else ()

    @property
    def birth_date(self) -> date | None:
        match = _BIRTH.search(self.values.get(CnField.BIRTH_DATE, "").replace(" ", ""))
        return _date(*match.groups()) if match else None

    @property
    def number(self) -> str | None:
        return resident_number(self.values.get(CnField.NUMBER, ""))

    @property
    def validity(self) -> tuple[date | None, date | None, bool]:
        """Valid from, valid until (None when for life or unread), and whether for life."""
        match = _VALIDITY.search(self.values.get(CnField.VALIDITY, "").replace(" ", ""))
        if not match:
            return None, None, False
        y1, m1, d1, y2, m2, d2, lifelong = match.groups()
        until = None if lifelong else _date(y2, m2, d2)
        return _date(y1, m1, d1), until, bool(lifelong)


def read_cn_card(reader: CardReader, card: Image) -> CnCardText:
    """Read an upright card side (either) by its labels."""
    return read_cn_lines(reader.read(card))


def read_cn_lines(lines: Sequence[TextLine]) -> CnCardText:
    """The labelled values among OCR's lines (card pixels); 民族 and 性别 dropped first
    (性别 once compared with the number's sex digit)."""
    parity = _printed_sex_parity(lines)
    kept = [_without_never_read(line) for line in lines]
    cleaned = [line for line in kept if line is not None and _squeeze(line.text)]
    values: dict[CnField, str] = {}
    for index, line in enumerate(cleaned):
        squeezed = _squeeze(line.text)
        for label, field in LABELS.items():
            if squeezed.startswith(label) and field not in values:
                rest = squeezed[len(label):]
                value = rest or _right_of(line, cleaned)
                if field is CnField.ADDRESS:
                    value += _continuation(line, cleaned[index + 1 :])
                if value:
                    values[field] = value
    text = CnCardText(values)
    number = text.number
    if parity is None or number is None:
        return text
    return CnCardText(values, sex_consistent=int(number[16]) % 2 == parity)


def _printed_sex_parity(lines: Sequence[TextLine]) -> int | None:
    """The parity (1: odd, 0: even) the printed 性别 stands for, or None if unread: the
    first character after the label on its line, else the text to its right on its row.
    The character itself is not returned, only its parity."""
    for line in lines:
        squeezed = _squeeze(line.text)
        if SEX_LABEL not in squeezed:
            continue
        rest = squeezed[squeezed.index(SEX_LABEL) + len(SEX_LABEL):]
        if not rest:
            right = [other for other in lines if other is not line
                     and other.left > line.right - 2
                     and abs(other.centre_y - line.centre_y) < 0.6 * line.height]
            rest = _squeeze(min(right, key=lambda other: other.left).text) if right else ""
        return _SEX_PARITY.get(rest[:1])
    return None


def _without_never_read(line: TextLine) -> TextLine | None:
    """The line cut before 民族 or 性别 (a label and whatever follows it on the line)."""
    text = line.text
    for label in NEVER_READ:
        squeezed = _squeeze(text)
        if label in squeezed:
            text = squeezed[: squeezed.index(label)]
    if text == line.text:
        return line
    if not text:
        return None
    return TextLine(text, line.score, line.left, line.top, line.right, line.bottom)


def _right_of(label: TextLine, lines: Sequence[TextLine]) -> str:
    """The text nearest right of `label` on its row (a value OCR found apart from it)."""
    row = [line for line in lines if line is not label and line.left > label.right - 2
           and abs(line.centre_y - label.centre_y) < 0.6 * label.height]
    if not row:
        return ""
    nearest = min(row, key=lambda line: line.left)
    return "" if _is_label(nearest.text) else _squeeze(nearest.text)


def _continuation(first: TextLine, following: Sequence[TextLine]) -> str:
    """An address's further lines: below it, before the next label (at most two)."""
    out = ""
    bottom = first.bottom
    labels = [line.centre_y for line in following if _is_label(line.text)]
    for line in sorted(following, key=lambda item: item.top)[:4]:
        on_label_row = any(abs(line.centre_y - y) < 0.6 * line.height for y in labels)
        if _is_label(line.text) or on_label_row or line.top - bottom > 1.5 * first.height:
            break
        if line.left >= first.left - first.height:
            out += _squeeze(line.text)
            bottom = line.bottom
    return out


def _is_label(text: str) -> bool:
    squeezed = _squeeze(text)
    return any(squeezed.startswith(label) for label in (*LABELS, *NEVER_READ))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
