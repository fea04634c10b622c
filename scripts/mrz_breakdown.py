"""Where the MRZ misses on real specimens fall: no band found, a band read to the wrong
shape, characters misread, read right but not verified, and how long each took.

For each specimen with a transcribed MRZ: the bands `mrz_locate` finds (RapidOCR text
detection), the reading `mrz_read.find_mrz` makes of them, and one bucket:
- `no_band`: no band of MRZ-like rows found;
- `no_shape`: bands found, none read to a format's shape;
- `wrong_lines`: a reading of another line count or width than the transcription (the wrong
  band, or a band cut short);
- `misread`: the right shape, N characters differ from the transcription;
- `unverified_right`: every character right, but not verified (a doubt on an unprotected
  character);
- `verified`; `verified_wrong` (must stay 0).
With `--strips DIR` the located bands' rows are saved (both ways up, PNG) for measuring
recognizers on the same cuts without detecting again. Evaluation data: never train on it.

    PYTHONPATH=src nice -n 5 python scripts/mrz_breakdown.py \
        --specimens ../shared/data/documents-specimens --out /tmp/mrz-breakdown.json \
        [--no-own-ocrb] [--megapixels 2]

With `--megapixels 2` each image is first resampled as `bench/documents.py` does (about 2
million pixels, JPEG quality 92): a phone photo's size.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from simkyc.config import get_settings
from simkyc.documents.mrz_locate import band_strips, detection_copy, find_bands, text_boxes
from simkyc.documents.mrz_read import find_mrz
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.tesseract import TesseractLines
from simkyc.eval.document_specimens import load_manifest


def bucket(truth: tuple[str, ...], lines: tuple[str, ...] | None, verified: bool,
           bands: int) -> tuple[str, int]:
    """The bucket of one specimen, and how many characters differ (misread only)."""
    if lines is None:
        return ("no_band" if bands == 0 else "no_shape"), 0
    if [len(line) for line in lines] != [len(line) for line in truth]:
        return "wrong_lines", 0
    pairs = zip("".join(lines), "".join(truth), strict=True)
    wrong = sum(a != b for a, b in pairs)
    if verified:
        return ("verified" if wrong == 0 else "verified_wrong"), wrong
    return ("unverified_right" if wrong == 0 else "misread"), wrong


def resampled(bgr: np.ndarray, megapixels: float) -> np.ndarray:
    """`bgr` scaled to about `megapixels` million pixels and through JPEG quality 92, as
    `bench/documents.py --megapixels` does."""
    scale = (megapixels * 1e6 / (bgr.shape[0] * bgr.shape[1])) ** 0.5
    size = (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    small = cv2.resize(bgr, size, interpolation=interpolation)
    _, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specimens", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--strips", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--today", default="2026-12-01")
    parser.add_argument("--megapixels", type=float, default=None)
    parser.add_argument("--no-own-ocrb", action="store_true",
                        help="RapidOCR and Tesseract only (the readers before the own one)")
    args = parser.parse_args()
    today = date.fromisoformat(args.today)
    reader = CardReader.from_settings(get_settings())
    second = TesseractLines()
    own = None if args.no_own_ocrb else OcrbRecognizer.load()
    rows = []
    for specimen in load_manifest(args.specimens)[: args.limit]:
        if specimen.mrz_lines is None:
            continue
        bgr = cv2.imread(str(specimen.path), cv2.IMREAD_COLOR)
        if args.megapixels is not None:
            bgr = resampled(bgr, args.megapixels)
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        start = time.perf_counter()
        small, scale = detection_copy(image)
        bands = find_bands(image, text_boxes(reader.detect(small), scale))
        detect_s = time.perf_counter() - start
        start = time.perf_counter()
        found = find_mrz(reader, image, today=today, second=second, own=own)
        total_s = time.perf_counter() - start
        lines = found.reading.lines if found.reading is not None else None
        name, wrong = bucket(specimen.mrz_lines, lines, found.verified, found.bands)
        if args.strips is not None:
            for b, band in enumerate(bands):
                for upside_down in (False, True):
                    for i, strip in enumerate(band_strips(image, band, upside_down=upside_down)):
                        path = args.strips / specimen.path.stem / f"b{b}_{int(upside_down)}_{i}.png"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
        row = {"file": specimen.path.name, "doc_type": specimen.doc_type, "bucket": name,
               "wrong_chars": wrong, "bands": len(bands), "detect_s": round(detect_s, 3),
               "find_mrz_s": round(total_s, 3), "read": lines,
               "truth": specimen.mrz_lines}
        print(json.dumps(row), flush=True)
        rows.append(row)
    counts = Counter(str(r["bucket"]) for r in rows)
    result = {"specimens": len(rows), "buckets": dict(counts.most_common()), "rows": rows}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["buckets"]))


if __name__ == "__main__":
    main()
