"""The README's screenshots of the web pages, from the browser tests' artefacts, with every
real face pixelated (the head-turn video and LFW may not be redistributed).

    pytest tests/e2e/web                      # writes artifacts/web/*.png and *.json
    python scripts/web_screenshots.py         # writes docs/web/*.png

Each artefact's JSON lists the boxes of the elements that can show a face (the camera's
video); those regions are pixelated to blocks of 1/6 of their width, so no face survives.
The camera's overlays are then put back: the guide redrawn, the hint and prompt labels
(opaque enough to hide what is behind them) copied from the original.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
# The pages the README shows, in its order.
CHOSEN = ("agent-1-home", "agent-3-selfie", "agent-4-liveness", "agent-5-decision",
          "agent-6-line", "attack-1-refused", "citizen-0-start", "citizen-2-not-mine",
          # The same pages in Simplified Chinese (tests/e2e/web/test_pages_in_chinese.py).
          "zh-agent-1-home", "zh-agent-3-selfie", "zh-agent-4-liveness", "zh-agent-5-decision",
          "zh-agent-6-line", "zh-citizen-0-start", "zh-citizen-1-lines", "zh-citizen-2-not-mine")
BLOCKS = 6
MAX_HEIGHT = 1100


def pixelate(image: Image.Image, boxes: list[dict[str, float]]) -> Image.Image:
    """`image` with each box reduced to BLOCKS columns of flat colour."""
    out = image.copy()
    for box in boxes:
        left, top = max(int(box["x"]), 0), max(int(box["y"]), 0)
        right = min(int(box["x"] + box["width"]) + 1, image.width)
        bottom = min(int(box["y"] + box["height"]) + 1, image.height)
        if right <= left or bottom <= top:
            continue
        region = out.crop((left, top, right, bottom))
        rows = max(1, round(BLOCKS * region.height / region.width))
        small = region.resize((BLOCKS, rows), Image.Resampling.BOX)
        out.paste(small.resize(region.size, Image.Resampling.NEAREST), (left, top))
    return out


def _corners(box: dict[str, float]) -> tuple[int, int, int, int]:
    x, y = round(box["x"]), round(box["y"])
    return x, y, x + round(box["width"]), y + round(box["height"])


def overlays(image: Image.Image, original: Image.Image, boxes: dict[str, list[dict[str, float]]],
             ) -> Image.Image:
    """The camera's guides redrawn and its labels copied back onto the pixelated image."""
    draw = ImageDraw.Draw(image)
    for box in boxes.get("ovals", []):
        draw.ellipse(_corners(box), outline=(255, 255, 255), width=3)
    for box in boxes.get("frames", []):
        draw.rounded_rectangle(_corners(box), radius=12, outline=(255, 255, 255), width=3)
    for box in boxes.get("labels", []):
        corners = _corners(box)
        image.paste(original.crop(corners), corners[:2])
    return image


def publish(source: Path, target: Path) -> Path:
    """One screenshot: faces pixelated, cut to MAX_HEIGHT, a 64-colour PNG."""
    boxes = json.loads(source.with_suffix(".json").read_text())
    with Image.open(source) as opened:
        original = opened.convert("RGB")
    image = overlays(pixelate(original, boxes["faces"]), original, boxes)
    image = image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
    small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(target, optimize=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts" / "web")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in CHOSEN:
        written = publish(args.artifacts / f"{name}.png", args.out / f"{name}.png")
        print(f"{written.relative_to(ROOT)}: {written.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
