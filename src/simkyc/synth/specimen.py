"""Synthetic specimen identity documents for tests and evaluation: data, card and layout.

No real person's document may be used, so simkyc draws its own: a neutral layout of its own
(pastel background, wavy guilloche lines, a "SPECIMEN - SIMKYC TEST DOCUMENT" header, a big
diagonal SPECIMEN watermark), never a copy of a national design. The holder's names are
invented, the issuing state is ICAO's fictitious Utopia (UTO), and every number and MRZ is
valid for simkyc's own validators (`cn_id`, `mrz`). Only the face is real (from the
evaluation data), and the cards live in memory, never on disk.

`virtual_photo.photograph` then takes a picture of a card on a desk.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from simkyc.documents.card_geometry import CARD_SIZE, PX_PER_MM
from simkyc.documents.cn_id import Province, check_character
from simkyc.documents.mrz import check_digit
from simkyc.types import BBox, Image

# The portrait box, 26 x 32 mm, on the left below the header.
PORTRAIT_BOX = (48, 100, 48 + round(26 * PX_PER_MM), 100 + round(32 * PX_PER_MM))
ISSUING_STATE = "UTO"  # ICAO Doc 9303's fictitious Utopia: no real state's document.
HEADER = "SPECIMEN \u2014 SIMKYC TEST DOCUMENT"
# Fonts beside the DejaVu family that matplotlib (a dependency) ships; CJK ones only if the
# system has them (Debian: fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk).
_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)

# Invented Latin names (no LFW or data-set name is ever printed on a card).
_SURNAMES = (
    "ANDERBERG",
    "BALOGUN",
    "CASTELLO",
    "DRAVEN",
    "ESPARZA",
    "FONTAINE",
    "GRAYWOOD",
    "HOLLOWAY",
    "IVERSEN",
    "JARDINE",
    "KOVALENKO",
    "LINDQVIST",
    "MARCHETTI",
    "NOVAK",
    "OKONJO",
    "PELLETIER",
    "QUINLAN",
    "ROSSETTI",
    "SANTORO",
    "TREMBLAY",
    "UDALL",
    "VASQUEZ",
    "WHITLOCK",
    "YAMADERA",
    "ZELENKA",
)
_GIVEN = (
    "ALEX",
    "ROBIN",
    "SAM",
    "JORDAN",
    "TAYLOR",
    "CASEY",
    "MORGAN",
    "JAMIE",
    "AVERY",
    "RILEY",
    "DREW",
    "KAI",
    "NOA",
    "ELI",
    "MIKA",
    "REMY",
    "SASHA",
    "LEE",
    "ARI",
    "QUINN",
)
# Common Chinese surnames and given-name characters, with their pinyin.
_CN_SURNAMES = (
    ("WANG", "\u738b"),
    ("LI", "\u674e"),
    ("ZHANG", "\u5f20"),
    ("LIU", "\u5218"),
    ("CHEN", "\u9648"),
    ("YANG", "\u6768"),
    ("HUANG", "\u9ec4"),
    ("ZHAO", "\u8d75"),
    ("WU", "\u5434"),
    ("ZHOU", "\u5468"),
    ("XU", "\u5f90"),
    ("SUN", "\u5b59"),
)
_CN_GIVEN = (
    ("WEI", "\u4f1f"),
    ("FANG", "\u82b3"),
    ("NA", "\u5a1c"),
    ("MIN", "\u654f"),
    ("JING", "\u9759"),
    ("LEI", "\u78ca"),
    ("YANG", "\u6d0b"),
    ("YONG", "\u52c7"),
    ("JIE", "\u6770"),
    ("JUAN", "\u5a1f"),
    ("TAO", "\u6d9b"),
    ("MING", "\u660e"),
    ("CHAO", "\u8d85"),
    ("XIA", "\u971e"),
    ("PING", "\u5e73"),
    ("HUI", "\u8f89"),
)
_PROVINCES = tuple(
    p for p in Province if p not in {Province.TAIWAN, Province.HONG_KONG, Province.MACAO}
)
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I or O: they read as 1 and 0
_T = TypeVar("_T")


class DocumentKind(StrEnum):
    """The specimens simkyc draws: number and MRZ formats, on a neutral card of its own."""

    CN_RESIDENT_ID = "cn-resident-id"  # an 18-digit GB 11643 number, no MRZ
    TD1_ID_CARD = "td1-id-card"  # ICAO 9303 TD1 MRZ (3 x 30)
    TD3_PASSPORT = "td3-passport"  # ICAO 9303 TD3 MRZ (2 x 44), here on an ID-1 card


@dataclass(frozen=True)
class SpecimenData:
    """What a specimen card says; `mrz` is empty for a resident ID card."""

    kind: DocumentKind
    surname: str
    given_names: str
    name_zh: str | None
    birth_date: date
    issue_date: date
    expiry_date: date
    number: str
    mrz: tuple[str, ...]


def random_specimen(rng: np.random.Generator, kind: DocumentKind) -> SpecimenData:
    """Invented holder data with a valid number and MRZ; the same `rng` state, the same data."""
    birth = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 55 * 365)))
    # Issued 2021-2025, so every specimen stays current (10 years) into 2031.
    issued = date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 5 * 365)))
    expiry = issued.replace(year=issued.year + 10, day=min(issued.day, 28))
    if kind is DocumentKind.CN_RESIDENT_ID:
        (sur_py, sur_zh), (given_py, given_zh) = _pick(rng, _CN_SURNAMES), _pick(rng, _CN_GIVEN)
        number = cn_resident_number(rng, birth)
        return SpecimenData(
            kind, sur_py, given_py, sur_zh + given_zh, birth, issued, expiry, number, ()
        )
    surname, given = _pick(rng, _SURNAMES), _pick(rng, _GIVEN)
    number = "".join(_pick(rng, tuple(_LETTERS)) for _ in range(2))
    number += "".join(str(d) for d in rng.integers(0, 10, size=7))
    make = td1_mrz if kind is DocumentKind.TD1_ID_CARD else td3_mrz
    mrz = make(number, surname, given, birth, expiry)
    return SpecimenData(kind, surname, given, None, birth, issued, expiry, number, mrz)


def _pick(rng: np.random.Generator, options: tuple[_T, ...]) -> _T:
    """One of `options`, drawn from `rng`."""
    return options[int(rng.integers(0, len(options)))]


def cn_resident_number(rng: np.random.Generator, birth: date) -> str:
    """A GB 11643 number: a plausible region code, the birth date, a sequence, its check."""
    province = _pick(rng, _PROVINCES).value
    region = f"{province}{int(rng.integers(1, 20)):02d}{int(rng.integers(1, 30)):02d}"
    first_17 = f"{region}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    return first_17 + check_character(first_17)


def _mrz_name(surname: str, given: str, width: int) -> str:
    """SURNAME<<GIVEN<NAMES, filled with `<` (or cut) to `width`."""
    text = f"{surname}<<{given.replace(' ', '<')}"
    return text[:width].ljust(width, "<")


def td1_mrz(number: str, surname: str, given: str, birth: date, expiry: date) -> tuple[str, ...]:
    """A TD1 MRZ (Doc 9303 Part 5): sex unspecified (`<`), empty optional data."""
    line1 = f"I<{ISSUING_STATE}{number}{check_digit(number)}".ljust(30, "<")
    born, ends = f"{birth:%y%m%d}", f"{expiry:%y%m%d}"
    head = f"{born}{check_digit(born)}<{ends}{check_digit(ends)}{ISSUING_STATE}" + "<" * 11
    composite = line1[5:30] + head[0:7] + head[8:15] + head[18:29]
    line2 = head + str(check_digit(composite))
    return line1, line2, _mrz_name(surname, given, 30)


def td3_mrz(number: str, surname: str, given: str, birth: date, expiry: date) -> tuple[str, ...]:
    """A TD3 MRZ (Doc 9303 Part 4): sex unspecified, empty personal number (check `<`)."""
    line1 = f"P<{ISSUING_STATE}" + _mrz_name(surname, given, 39)
    born, ends = f"{birth:%y%m%d}", f"{expiry:%y%m%d}"
    head = (
        f"{number}{check_digit(number)}{ISSUING_STATE}{born}{check_digit(born)}<"
        f"{ends}{check_digit(ends)}" + "<" * 14 + "<"
    )
    composite = head[0:10] + head[13:20] + head[21:43]
    return line1, head + str(check_digit(composite))


# --------------------------------------------------------------------------- #
# The card
# --------------------------------------------------------------------------- #

_BACKGROUNDS = {
    DocumentKind.CN_RESIDENT_ID: (236, 232, 246),  # lavender
    DocumentKind.TD1_ID_CARD: (226, 242, 234),  # mint
    DocumentKind.TD3_PASSPORT: (246, 238, 222),  # sand
}
_TITLES = {
    DocumentKind.CN_RESIDENT_ID: "RESIDENT NUMBER CARD (GB 11643 NUMBER)",
    DocumentKind.TD1_ID_CARD: "IDENTITY CARD \u00b7 ICAO TD1 MRZ",
    DocumentKind.TD3_PASSPORT: "TRAVEL CARD \u00b7 ICAO TD3 MRZ",
}
_INK = (34, 38, 48)
_LABEL = (96, 104, 120)


def render_card(data: SpecimenData, portrait_rgb: Image | None, *, ghost: bool = True) -> Image:
    """The card's face at ID-1 size (1027 x 648 RGB); `portrait_rgb` None leaves the box empty."""
    card = PILImage.new("RGB", CARD_SIZE, _BACKGROUNDS[data.kind])
    _guilloche(card, _BACKGROUNDS[data.kind])
    draw = ImageDraw.Draw(card)
    _header(draw, data.kind)
    _portrait(card, portrait_rgb)
    _fields(draw, data)
    if ghost and portrait_rgb is not None:
        _ghost(card, portrait_rgb)
    _machine_zone(draw, data)
    return np.asarray(_watermark(card), dtype=np.uint8).copy()


def _font(size: int, *, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu from matplotlib's package data, else Pillow's scalable default font."""
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
        file = path / f"{name}{'-Bold' if bold else ''}.ttf"
        if file.is_file():
            return ImageFont.truetype(str(file), size)
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def cjk_font_path() -> Path | None:
    """A font with Chinese characters, if the system has one (none ships with Python)."""
    return next((path for path in _CJK_FONTS if path.is_file()), None)


def _guilloche(card: PILImage.Image, base: tuple[int, int, int]) -> None:
    """Thin interleaved sine waves, a shade darker than the background: a neutral pattern."""
    draw = ImageDraw.Draw(card)
    width, height = card.size
    tone = tuple(max(0, c - 22) for c in base)
    xs = np.arange(0, width + 8, 8, dtype=np.float64)
    for row in range(0, height + 40, 18):
        for phase in (0.0, np.pi):
            ys = row + 7 * np.sin(xs / 37.0 + phase + row / 53.0)
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=tone, width=1)


def _header(draw: ImageDraw.ImageDraw, kind: DocumentKind) -> None:
    """The SPECIMEN banner and the kind of document."""
    width = CARD_SIZE[0]
    draw.rectangle((0, 0, width, 78), fill=(70, 84, 112))
    draw.text((width / 2, 28), HEADER, font=_font(34, bold=True), fill="white", anchor="mm")
    draw.text((width / 2, 64), _TITLES[kind], font=_font(20), fill=(220, 226, 240), anchor="mm")


def _portrait(card: PILImage.Image, portrait_rgb: Image | None) -> None:
    """The portrait, cover-fitted into its box; an empty pale box when there is none."""
    left, top, right, bottom = PORTRAIT_BOX
    if portrait_rgb is None:
        ImageDraw.Draw(card).rectangle((left, top, right, bottom), fill=(244, 244, 240))
    else:
        card.paste(
            PILImage.fromarray(cover(portrait_rgb, (right - left, bottom - top))), (left, top)
        )
    ImageDraw.Draw(card).rectangle((left, top, right, bottom), outline=(120, 128, 140), width=2)


def cover(image: Image, size: tuple[int, int]) -> Image:
    """`image` scaled to fill `size` (width, height) and centre-cropped to it."""
    width, height = size
    factor = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(
        image,
        (max(width, round(image.shape[1] * factor)), max(height, round(image.shape[0] * factor))),
        interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC,
    )
    top = (scaled.shape[0] - height) // 2
    left = (scaled.shape[1] - width) // 2
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


def _fields(draw: ImageDraw.ImageDraw, data: SpecimenData) -> None:
    """Labelled text fields right of the portrait."""
    rows = [
        ("SURNAME", data.surname),
        ("GIVEN NAMES", data.given_names),
        ("DATE OF BIRTH", f"{data.birth_date:%d.%m.%Y}"),
        ("DOCUMENT NO.", data.number),
        ("ISSUED / EXPIRES", f"{data.issue_date:%d.%m.%Y} \u2013 {data.expiry_date:%d.%m.%Y}"),
    ]
    if data.kind is DocumentKind.CN_RESIDENT_ID:
        pinyin = f"{data.surname} {data.given_names}"
        chinese = data.name_zh if data.name_zh and cjk_font_path() is not None else None
        rows[:2] = [("NAME", chinese), ("NAME (PINYIN)", pinyin)] if chinese else [("NAME", pinyin)]
    label, value = _font(17), _font(28, bold=True)
    for index, (title, text) in enumerate(rows):
        y = 104 + index * 64
        draw.text((400, y), title, font=label, fill=_LABEL)
        font = value
        if any(ord(char) > 0x2FFF for char in text):
            font = ImageFont.truetype(str(cjk_font_path()), 28)
        draw.text((400, y + 20), text, font=font, fill=_INK)


def _ghost(card: PILImage.Image, portrait_rgb: Image) -> None:
    """A faint, small grey copy of the portrait, as many real cards carry."""
    left, top = 880, 300
    size = (110, 135)
    small = cv2.cvtColor(cover(portrait_rgb, size), cv2.COLOR_RGB2GRAY)
    region = np.asarray(card.crop((left, top, left + size[0], top + size[1])), np.float32)
    blended = 0.72 * region + 0.28 * small[:, :, None].astype(np.float32)
    card.paste(PILImage.fromarray(blended.astype(np.uint8)), (left, top))


def _machine_zone(draw: ImageDraw.ImageDraw, data: SpecimenData) -> None:
    """The MRZ in a monospace font on a white band; the number alone for a resident card."""
    width, height = CARD_SIZE
    draw.rectangle((0, 496, width, height), fill=(250, 250, 247))
    if not data.mrz:
        draw.text((48, 520), "ID NUMBER", font=_font(18), fill=_LABEL)
        draw.text((48, 548), data.number, font=_font(54, mono=True), fill=_INK)
        return
    size = 42 if len(data.mrz[0]) == 30 else 36
    font = _font(size, mono=True)
    pitch = (height - 496 - 12) / len(data.mrz)
    for index, line in enumerate(data.mrz):
        draw.text(
            (width / 2, 496 + 6 + pitch * (index + 0.5)), line, font=font, fill=_INK, anchor="mm"
        )


def _watermark(card: PILImage.Image) -> PILImage.Image:
    """A big diagonal translucent SPECIMEN across the text, clear of the portrait.

    Real documents carry no such mark over the face; over it, it would make the portrait
    harder to read than on any real card and bias the evaluation.
    """
    layer = PILImage.new("RGBA", card.size, (0, 0, 0, 0))
    centre = ((PORTRAIT_BOX[2] + card.size[0]) / 2 + 10, 300)
    ImageDraw.Draw(layer).text(
        centre, "SPECIMEN", font=_font(112, bold=True), fill=(200, 40, 40, 52), anchor="mm"
    )
    rotated = layer.rotate(24, resample=PILImage.Resampling.BICUBIC, center=centre)
    return PILImage.alpha_composite(card.convert("RGBA"), rotated).convert("RGB")


def portrait_from_photo(photo: Image, face: BBox) -> Image:
    """A passport-style crop of `photo` around a detected face box, padded with a plain backdrop.

    The crop is 26:32 and 1.7 times the box's height, so the head fills most of the frame as on
    a document portrait (ICAO: 70-80% chin to crown), whatever the framing of the source photo.
    """
    height = 1.7 * face.height
    width = height * 26 / 32
    cx, cy = face.x + face.width / 2, face.y + face.height * 0.55
    left, top = round(cx - width / 2), round(cy - height / 2)
    crop = np.full((round(height), round(width), 3), (214, 222, 230), np.uint8)
    src_top, src_left = max(top, 0), max(left, 0)
    src_bottom = min(top + crop.shape[0], photo.shape[0])
    src_right = min(left + crop.shape[1], photo.shape[1])
    if src_bottom > src_top and src_right > src_left:
        crop[src_top - top : src_bottom - top, src_left - left : src_right - left] = photo[
            src_top:src_bottom, src_left:src_right
        ]
    return crop
