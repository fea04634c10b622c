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

    from simkyc.config import get_settings
    from simkyc.documents.reading import DocumentReader
    from simkyc.faces.pipeline import FaceEncoder

    settings = get_settings()
    encoder = FaceEncoder.from_settings(settings)
    reader = DocumentReader.from_settings(settings)
    reader.warm()
    state: dict[str, Laps] = {"laps": Laps()}
    _instrument(lambda: state["laps"])
    rows = []
    for name, pixels in _images(args.specimens, args.megapixels, args.limit,
                                 encoder.decoder):
        state["laps"] = Laps()
        row = _profile(reader, encoder, pixels, state["laps"], only_cards=args.only_cards)
        rows.append({"file": name, **row})
        print(json.dumps(rows[-1]), flush=True)
    report = {"documents": len(rows), **_summary(rows), "rows": rows}
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


def _instrument(current: Callable[[], Laps]) -> None:
    """Time the reader's stages and models (the class or module attribute replaced)."""
    from simkyc.documents import reading
    from simkyc.documents.mrz_ahead import SearchAhead
    from simkyc.documents.ocr import CardReader

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


def _images(folder: Path, megapixels: float, limit: int | None,
            decoder: Any) -> Iterator[tuple[str, Any]]:
    """Each specimen with a transcribed MRZ, resampled as bench/documents.py does, decoded."""
    from documents import _resampled  # bench/documents.py

    from simkyc.eval.document_specimens import load_manifest

    scratch = Path(tempfile.mkdtemp(prefix="viz-profile-"))
    specimens = [s for s in load_manifest(folder) if s.mrz_lines is not None][:limit]
    for index, specimen in enumerate(specimens):
        path = _resampled(specimen.path, megapixels, scratch / f"{index}.jpg")
        yield specimen.path.name, decoder.decode(path.read_bytes()).pixels


def _profile(reader: Any, encoder: Any, pixels: Any, laps: Laps, *,
             only_cards: bool) -> dict[str, object]:
    """One document through the portrait, then `DocumentReader.text`, timed."""
    from simkyc.documents.crosscheck import Typed
    from simkyc.documents.portrait import extract_portrait
    from simkyc.documents.reading import card_shaped
    from simkyc.errors import SimkycError

    found = card = None
    with laps.lap("total"):
        with laps.lap("portrait"):
            try:
                card = extract_portrait(pixels, encoder, require_quality=False).card
            except SimkycError:
                card = None
        shaped = card is not None and card_shaped(card)
        if shaped or not only_cards:
            with laps.lap("text"):
                found = reader.text(pixels, card=card, typed=Typed(), today=date.today())
    return {"card_shaped": shaped,
            "verified": bool(found and found.text.mrz and found.text.mrz.valid),
            "wall": {k: round(v, 3) for k, v in laps.wall.items()},
            "cpu": {k: round(v, 3) for k, v in laps.cpu.items()},
            "count": dict(laps.count)}


def _summary(rows: list[dict[str, Any]]) -> dict[str, object]:
    """The card-shaped documents' p50 seconds per stage (wall and CPU)."""
    cards = [row for row in rows if row["card_shaped"]]
    summary = {key: {name: round(statistics.median(row[key].get(name, 0.0) for row in cards), 3)
                     for name in sorted({name for row in cards for name in row[key]})}
               for key in ("wall", "cpu")}
    return {"card_shaped": len(cards), "card_shaped_p50": summary}


if __name__ == "__main__":
    main()
