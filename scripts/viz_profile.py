"""Where a card-shaped document's visual-zone (VIZ) reading spends its time, per document.

For each real specimen with a transcribed MRZ (resampled to about `--megapixels` million
pixels as `bench/documents.py` does), the reader's stages run one after another on this
thread, each timed (wall) with the process's CPU seconds: the portrait, then on a
card-shaped document the card's text (RapidOCR's detector and recognizer, timed apart,
with the number of boxes recognised and their widths at the recognizer's 48 px height),
the band's MRZ strips, the PRC card's second reading, and the MRZ search over the image.
The search ahead is not used, so each stage's CPU is its own.

Run
    PYTHONPATH=src .venv/bin/python scripts/viz_profile.py \
        --specimens ../shared/data/documents-specimens --megapixels 2 [--limit N] \
        [--only-cards] --out /tmp/viz-profile.json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Laps:
    """Wall and CPU seconds per named stage, and counters."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.count: dict[str, float] = defaultdict(float)

    @contextmanager
    def lap(self, name: str) -> Iterator[None]:
        """Time `name`; a model's call is named after the stage it runs in (`text/det`),
        or `ahead/...` on the search ahead's thread (its wall time overlaps the reader's)."""
        ahead = threading.current_thread().name == "mrz-ahead"
        if ahead:
            name = f"ahead/{name.removeprefix('ocr.')}"
        elif name.startswith("ocr.") and self.stack:
            name = f"{self.stack[-1]}/{name[4:]}"
        start, cpu = time.perf_counter(), _cpu()
        if not ahead:
            self.stack.append(name)
        try:
            yield
        finally:
            if not ahead:
                self.stack.pop()
            self.wall[name] += time.perf_counter() - start
            self.cpu[name] += _cpu() - cpu


def _wrap(owner: Any, attribute: str, laps: Callable[[], Laps], name: str,
          counter: Callable[[tuple[Any, ...], Any, Laps], None] | None = None) -> None:
    original = getattr(owner, attribute)

    def timed(*args: Any, **kwargs: Any) -> Any:
        current = laps()
        with current.lap(name):
            result = original(*args, **kwargs)
        if counter is not None:
            counter(args, result, current)
        return result

    setattr(owner, attribute, timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--specimens", type=Path, required=True)
    parser.add_argument("--megapixels", type=float, default=2.0)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--only-cards", action="store_true",
                        help="Skip the MRZ search on documents that are not card-shaped.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from documents import _resampled  # bench/documents.py

    from simkyc.config import get_settings
    from simkyc.documents import card_text, reading
    from simkyc.documents.crosscheck import Typed
    from simkyc.documents.portrait import extract_portrait
    from simkyc.errors import SimkycError
    from simkyc.eval.document_specimens import load_manifest
    from simkyc.faces.pipeline import FaceEncoder

    settings = get_settings()
    encoder = FaceEncoder.from_settings(settings)
    reader = reading.DocumentReader.from_settings(settings)
    reader.warm()
    from simkyc.documents.mrz_ahead import SearchAhead
    from simkyc.documents.ocr import CardReader
    state: dict[str, Laps] = {"laps": Laps()}

    def current() -> Laps:
        return state["laps"]

    def count_rec(args: tuple[Any, ...], result: Any, laps: Laps) -> None:
        boxes = args[2]
        laps.count["rec_boxes"] += len(boxes)
        for box in boxes:
            width = float(np.linalg.norm(box[0] - box[1]))
            height = max(1.0, float(np.linalg.norm(box[0] - box[3])))
            laps.count["rec_width48"] += 48 * width / height
            laps.count["text_height_px_sum"] += height

    _wrap(CardReader, "detect", current, "ocr.det")
    _wrap(CardReader, "recognise", current, "ocr.rec", count_rec)
    _wrap(CardReader, "frame_probabilities", current, "ocr.strip")
    _wrap(SearchAhead, "quick", current, "card.wait_quick")
    _wrap(SearchAhead, "take", current, "mrz.take")
    _wrap(reading, "read_band_mrz", current, "card.band_mrz")
    _wrap(reading, "find_mrz", current, "mrz.search")
    _wrap(reading.DocumentReader, "_cn_card", current, "card.cn")
    _wrap(reading.DocumentReader, "_verified_card", current, "card.column_only")

    today = date.today()
    specimens = [s for s in load_manifest(args.specimens) if s.mrz_lines is not None]
    scratch = Path(tempfile.mkdtemp(prefix="viz-profile-"))
    rows: list[dict[str, object]] = []
    for index, specimen in enumerate(specimens[: args.limit]):
        path = _resampled(specimen.path, args.megapixels, scratch / f"{index}.jpg")
        pixels = encoder.decoder.decode(path.read_bytes()).pixels
        laps = state["laps"] = Laps()
        with laps.lap("total"):
            with laps.lap("portrait"):
                try:
                    portrait = extract_portrait(pixels, encoder, require_quality=False)
                    card = portrait.card
                except SimkycError:
                    card = None
            shaped = card is not None and reading.card_shaped(card)
            if shaped or not args.only_cards:
                with laps.lap("text"):
                    found = reader.text(pixels, card=card, typed=Typed(), today=today)
            else:
                found = None
        verified = bool(found and found.text.mrz and found.text.mrz.valid)
        row = {"file": specimen.path.name, "card_shaped": shaped, "verified": verified,
               "card_size": None if card is None else list(card.shape[:2]),
               "wall": {k: round(v, 3) for k, v in laps.wall.items()},
               "cpu": {k: round(v, 3) for k, v in laps.cpu.items()},
               "count": dict(laps.count)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    cards = [r for r in rows if r["card_shaped"]]
    summary: dict[str, dict[str, float]] = {}
    for key in ("wall", "cpu"):
        names = {name for r in cards for name in r[key]}  # type: ignore[attr-defined]
        summary[key] = {name: round(statistics.median(
            [r[key].get(name, 0.0) for r in cards]), 3) for name in sorted(names)}  # type: ignore[attr-defined]
    report = {"documents": len(rows), "card_shaped": len(cards),
              "card_shaped_p50": summary, "rows": rows}
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
