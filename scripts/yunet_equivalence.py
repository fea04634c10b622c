"""YuNet in ONNX Runtime (simkyc's runner) against OpenCV's cv2.FaceDetectorYN, on real images.

For up to `--per-set` images of each folder below (a seeded sample, under SIMKYC_DATA_DIR),
each at its own size and as a copy whose longer side is 640 px (what the detector runs
first), both runners detect at the detector's fallback threshold (0.35). It prints how many
images were compared, how many gave a different number of faces, the largest difference in
any box, landmark or score value, and each runner's total seconds.

Run: PYTHONPATH=src .venv/bin/python scripts/yunet_equivalence.py [--per-set 60]
"""

from __future__ import annotations

import argparse
import random
import time

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.config import get_settings
from simkyc.faces.detect import YuNetDetector
from simkyc.faces.pipeline import YUNET_FILE
from simkyc.types import Face, Image

FOLDERS = ("lfw", "east-asian", "faces-examples", "pad", "documents-specimens")
SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def _rows(faces: list[Face]) -> NDArray[np.float32]:
    return np.array([[f.box.x, f.box.y, f.box.width, f.box.height, *f.landmarks.reshape(-1),
                      f.score] for f in faces], np.float32).reshape(-1, 15)


def _sorted(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    ordered: NDArray[np.float32] = rows[np.lexsort(rows.T[::-1])]
    return ordered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-set", type=int, default=60)
    args = parser.parse_args()
    settings = get_settings()
    model = settings.models_dir / YUNET_FILE
    ours = YuNetDetector(model)
    theirs = cv2.FaceDetectorYN.create(str(model), "", (320, 320), ours.fallback_threshold,
                                       0.3, 5000)
    rng = random.Random(1)
    files = []
    for folder in FOLDERS:
        found = sorted(p for p in (settings.data_dir / folder).rglob("*")
                       if p.suffix.lower() in SUFFIXES)
        rng.shuffle(found)
        files += found[: args.per_set]
    compared = differing = 0
    largest = 0.0
    seconds = {"onnxruntime": 0.0, "opencv": 0.0}
    for path in files:
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        rgb: Image = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
        factor = 640 / max(rgb.shape[:2])
        small: Image = np.asarray(
            cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), np.uint8)
        for image in (rgb, small):
            start = time.perf_counter()
            a = _rows(ours._detect_raw(image))
            middle = time.perf_counter()
            theirs.setInputSize((image.shape[1], image.shape[0]))
            _, rows = theirs.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            b = np.zeros((0, 15), np.float32) if rows is None else np.asarray(rows, np.float32)
            seconds["onnxruntime"] += middle - start
            seconds["opencv"] += time.perf_counter() - middle
            compared += 1
            if a.shape != b.shape:
                differing += 1
            elif len(a):
                largest = max(largest, float(np.abs(_sorted(a) - _sorted(b)).max()))
    print(f"{compared} images ({len(files)} files, own size and 640 px); "
          f"a different number of faces: {differing}; largest difference: {largest:.2g}; "
          f"seconds: ONNX Runtime {seconds['onnxruntime']:.1f}, OpenCV {seconds['opencv']:.1f}")


if __name__ == "__main__":
    main()
