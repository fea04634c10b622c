"""The pages' colours meet WCAG 2.1 AA for normal text (contrast ratio >= 4.5:1), read from
the stylesheet the pages ship: each text colour on each background it is drawn on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import simkyc.web

CSS = (Path(simkyc.web.__file__).parent / "static" / "app.css").read_text()
PALETTE = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", CSS))

# (text, background) as the stylesheet pairs them; literals are the tinted boxes.
PAIRS = [
    ("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"),
    ("accent", "paper"), ("accent-ink", "accent"), ("accent-ink", "bad"),
    ("ok", "paper"), ("warn", "paper"), ("bad", "paper"), ("warn", "wash"),
    ("ink", "#fdecec"), ("ink", "#fff4e0"),
]


def _luminance(colour: str) -> float:
    """WCAG relative luminance of an sRGB colour `#rrggbb`."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_on_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just fails AA


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_meet_aa(text: str, background: str) -> None:
    fg, bg = (PALETTE.get(name, name) for name in (text, background))
    assert contrast(fg, bg) >= 4.5, (text, background, round(contrast(fg, bg), 2))
