"""Synthetic PRC second-generation resident ID cards (居民身份证), front and back, as printed.

No mainland specimen image could be found, so the card's published layout is drawn: ID-1
size (85.6 x 54 mm); on the front (人像面) the labels 姓名, 性别 and 民族 on one row, 出生
(YYYY 年 M 月 D 日), 住址 (up to three lines), 公民身份号码 with the 18-character number
at the bottom, and the photo on the right; on the back (国徽面) an emblem at the top left,
中华人民共和国 / 居民身份证, then 签发机关 and 有效期限 (YYYY.MM.DD-YYYY.MM.DD, or
YYYY.MM.DD-长期 for a card valid for life). Positions are in millimetres from the card's
top-left corner, read off the card's public design; the colours are a pale approximation
of the printed guilloche (no security feature is imitated). Every card says SPECIMEN.

The card prints the holder's ethnicity (民族): a fixed placeholder is drawn, because the
reader must be shown never to read, keep or show it (`cn_card`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from simkyc.documents.card_geometry import CARD_SIZE, PX_PER_MM
from simkyc.synth.specimen import cjk_font_path, cover
from simkyc.types import Image

INK = (30, 30, 30)
LABEL_INK = (40, 110, 170)  # the labels are printed in blue
ETHNICITY_PLACEHOLDER = "\u6c49"  # drawn only; never read (see module docstring)
LIFELONG = "\u957f\u671f"  # 长期: valid for life


@dataclass(frozen=True)
class CnCardData:
    """What a resident ID card states (no sex or ethnicity: drawn as printed, never data)."""

    name: str  # in Chinese characters
    birth_date: date
    address: str
    number: str
    authority: str  # 签发机关
    valid_from: date
    valid_until: date | None  # None: 长期 (for life)
    sex_printed: str = "\u7537"  # drawn in the 性别 box; not part of what is read


# A man's number (sequence 001: odd) born 1987-03-09, for the readers' tests.
EXAMPLE_FIRST_17 = "11010519870309001"


def example_card() -> CnCardData:
    """One fictitious card, a man's (王伟, Beijing Dongcheng): the tests' common specimen."""
    from simkyc.documents.cn_id import check_character

    return CnCardData(
        name="\u738b\u4f1f",  # 王伟
        birth_date=date(1987, 3, 9),
        address="\u5317\u4eac\u5e02\u4e1c\u57ce\u533a\u666f\u5c71\u524d\u88574\u53f7",
        number=EXAMPLE_FIRST_17 + check_character(EXAMPLE_FIRST_17),
        authority="\u5317\u4eac\u5e02\u516c\u5b89\u5c40\u4e1c\u57ce\u5206\u5c40",
        valid_from=date(2015, 5, 1),
        valid_until=date(2035, 5, 1),
        sex_printed="\u7537",  # 男
    )


def _mm(x: float, y: float) -> tuple[float, float]:
    return x * PX_PER_MM, y * PX_PER_MM


def _cjk(size_mm: float) -> ImageFont.FreeTypeFont:
    path = cjk_font_path()
    if path is None:
        raise FileNotFoundError("a CJK font (Debian fonts-wqy-microhei) draws the PRC card")
    return ImageFont.truetype(str(path), round(size_mm * PX_PER_MM))


def _digits_font(size_mm: float) -> ImageFont.FreeTypeFont:
    ocrb = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
    if ocrb.is_file():
        return ImageFont.truetype(str(ocrb), round(size_mm * PX_PER_MM))
    return _cjk(size_mm)


def _base() -> PILImage.Image:
    """A pale card with a soft diagonal wash (the printed background, approximately)."""
    width, height = CARD_SIZE
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    wash = 0.5 + 0.5 * np.sin(6 * np.pi * (x + 0.6 * y))
    colour = np.array([236, 242, 246]) + wash * np.array([-8, -4, 4])
    card = np.clip(np.broadcast_to(colour, (height, width, 3)), 0, 255).astype(np.uint8)
    return PILImage.fromarray(card)


def _specimen_mark(draw: ImageDraw.ImageDraw) -> None:
    draw.text(_mm(62, 50.5), "SPECIMEN \u6837\u672c", font=_cjk(2.6), fill=(200, 60, 60))


def render_front(data: CnCardData, portrait_rgb: Image | None) -> Image:
    """The photo side (人像面), 1027 x 648 RGB."""
    card = _base()
    draw = ImageDraw.Draw(card)
    label, value = _cjk(3.0), _cjk(3.6)
    draw.text(_mm(6, 7.5), "\u59d3  \u540d", font=label, fill=LABEL_INK)  # 姓名
    draw.text(_mm(17, 7), data.name, font=value, fill=INK)
    draw.text(_mm(6, 14), "\u6027  \u522b", font=label, fill=LABEL_INK)  # 性别
    draw.text(_mm(17, 13.5), data.sex_printed, font=value, fill=INK)
    draw.text(_mm(27, 14), "\u6c11  \u65cf", font=label, fill=LABEL_INK)  # 民族
    draw.text(_mm(38, 13.5), ETHNICITY_PLACEHOLDER, font=value, fill=INK)
    draw.text(_mm(6, 20.5), "\u51fa  \u751f", font=label, fill=LABEL_INK)  # 出生
    born = data.birth_date
    draw.text(_mm(17, 20), f"{born.year}  \u5e74  {born.month}  \u6708  {born.day}  \u65e5",
              font=value, fill=INK)
    draw.text(_mm(6, 27), "\u4f4f  \u5740", font=label, fill=LABEL_INK)  # 住址
    for index, line in enumerate(_wrap(data.address, 11)[:3]):
        draw.text(_mm(17, 26.5 + 5.2 * index), line, font=value, fill=INK)
    draw.text(_mm(6, 45), "\u516c\u6c11\u8eab\u4efd\u53f7\u7801", font=label,
              fill=LABEL_INK)  # 公民身份号码
    draw.text(_mm(29, 44.3), data.number, font=_digits_font(4.2), fill=INK)
    left, top = _mm(56, 6)
    right, bottom = _mm(81, 38)
    box = (round(left), round(top), round(right), round(bottom))
    if portrait_rgb is not None:
        card.paste(PILImage.fromarray(cover(portrait_rgb, (box[2] - box[0], box[3] - box[1]))),
                   box[:2])
    _specimen_mark(draw)
    return np.asarray(card, dtype=np.uint8).copy()


def render_back(data: CnCardData) -> Image:
    """The emblem side (国徽面), 1027 x 648 RGB."""
    card = _base()
    draw = ImageDraw.Draw(card)
    centre, radius = _mm(14, 14), 9 * PX_PER_MM
    draw.ellipse((centre[0] - radius, centre[1] - radius, centre[0] + radius,
                  centre[1] + radius), outline=(200, 40, 40), width=6)
    draw.text(_mm(30, 8), "\u4e2d\u534e\u4eba\u6c11\u5171\u548c\u56fd", font=_cjk(5),
              fill=INK)  # 中华人民共和国
    draw.text(_mm(26, 19), "\u5c45\u6c11\u8eab\u4efd\u8bc1", font=_cjk(8),
              fill=INK)  # 居民身份证
    label, value = _cjk(3.0), _cjk(3.4)
    draw.text(_mm(14, 38), "\u7b7e\u53d1\u673a\u5173", font=label,
              fill=LABEL_INK)  # 签发机关
    draw.text(_mm(30, 37.6), data.authority, font=value, fill=INK)
    draw.text(_mm(14, 45), "\u6709\u6548\u671f\u9650", font=label,
              fill=LABEL_INK)  # 有效期限
    until = LIFELONG if data.valid_until is None else f"{data.valid_until:%Y.%m.%d}"
    draw.text(_mm(30, 44.6), f"{data.valid_from:%Y.%m.%d}-{until}", font=value, fill=INK)
    _specimen_mark(draw)
    return np.asarray(card, dtype=np.uint8).copy()


def _wrap(text: str, width: int) -> list[str]:
    """`text` cut into lines of `width` characters (the address wraps so on the card)."""
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]
