"""The issue's CASIA-FaceV5 recipe, as literally as it is described, against our pipelines.

Issue 10 reports FNMR 6.2% at FMR 1e-3 on the CASIA-FaceV5 subset with "YuNet boxes, 5-point
similarity alignment, flip averaging and cosine"; `simkyc eval faces` says 8.75% for our
`yunet+flip`. This script rebuilds that recipe with nothing of our pipeline but the data set
list, the template and the converted network: OpenCV reads the BMP (BGR), cv2.FaceDetectorYN
at the image's own size (score threshold 0.6, no low-score fallback, no roll re-detection),
the largest face, a similarity transform of its five points onto the model card's template
x 128 (least squares, or `--lmeds` for cv2.estimateAffinePartial2D), a bilinear warp
(replicated borders, or `--constant` for black), the network on the chip and its mirror, the
two unit vectors summed. It prints FNMR at FMR 1e-3 two ways, for the recipe and for the
cached embeddings of each of our pipelines (`SIMKYC_CACHE_DIR/eval/casia-*.npz`, made by
`simkyc eval faces`):
  all pairs   every pair of the 200 images; a pair with an image where no face was found
              is a non-match (our headline and calibration convention);
  acquired    only pairs of images where a face was found, the failure-to-acquire rate
              apart (ISO/IEC 19795-1's FNMR, the usual convention of outside figures).

Run: PYTHONPATH=src .venv/bin/python scripts/casia_recipe.py [--lmeds] [--constant]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from simkyc.config import get_settings
from simkyc.eval import datasets, scoring
from simkyc.eval.metrics import ScoreSet, summary
from simkyc.faces.align import OMZ_REID_128, similarity_transform
from simkyc.faces.recognizers import BUILTIN, OMZ_REID_ID

YUNET = "yunet/face_detection_yunet_2023mar.onnx"


def recipe_embeddings(
    images: list[Path], lmeds: bool, constant: bool
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Embeddings (zero rows where YuNet found nothing) by the issue's recipe."""
    settings = get_settings()
    detector = cv2.FaceDetectorYN.create(str(settings.models_dir / YUNET), "", (320, 320),
                                         0.6, 0.3, 5000)
    model = BUILTIN[OMZ_REID_ID].locate(settings.models_dir, settings.cache_dir)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    rows, found = [], []
    for path in images:
        image = cv2.imread(str(path))
        detector.setInputSize((image.shape[1], image.shape[0]))
        _, faces = detector.detect(image)
        if faces is None:
            rows.append(np.zeros(256, np.float32))
            found.append(False)
            continue
        points = max(faces, key=lambda f: f[2] * f[3])[4:14].reshape(5, 2).astype(np.float32)
        if lmeds:
            matrix, _ = cv2.estimateAffinePartial2D(points, OMZ_REID_128, method=cv2.LMEDS)
        else:
            matrix = similarity_transform(points, OMZ_REID_128)
        border = cv2.BORDER_CONSTANT if constant else cv2.BORDER_REPLICATE
        chip = cv2.warpAffine(image, matrix, (128, 128), flags=cv2.INTER_LINEAR,
                              borderMode=border)
        batch = np.stack([chip, chip[:, ::-1]]).astype(np.float32).transpose(0, 3, 1, 2)
        out = session.run(None, {"chips": np.ascontiguousarray(batch)})[0].reshape(2, -1)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        rows.append((out[0] + out[1]) / np.linalg.norm(out[0] + out[1]))
        found.append(True)
    return np.stack(rows).astype(np.float32), np.array(found)


def fnmr(scores: ScoreSet) -> str:
    """FNMR at FMR 1e-3 with its counts."""
    point = summary(scores, (1e-3,)).operating_points[0]
    misses = round(point.fnmr * scores.genuine.size)
    return f"{point.fnmr:6.2%} ({misses}/{scores.genuine.size}, {scores.impostor.size} impostors)"


def line(label: str, embeddings: NDArray[np.float32], found: NDArray[np.bool_],
         identities: NDArray[np.intp]) -> str:
    """One row: faces found, FNMR over all pairs and over acquired pairs."""
    matrix = scoring.similarity_matrix(embeddings, found)
    every = scoring.all_pairs(matrix, identities, found)
    acquired = scoring.acquired_pairs(matrix, identities, found)
    return (f"{label:34s} found {int(found.sum())}/{found.size}  all pairs {fnmr(every)}  "
            f"acquired {fnmr(acquired)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lmeds", action="store_true", help="cv2.estimateAffinePartial2D")
    parser.add_argument("--constant", action="store_true", help="black borders")
    args = parser.parse_args()
    settings = get_settings()
    casia = datasets.load("casia", settings.data_dir, None)
    embeddings, found = recipe_embeddings(list(casia.images), args.lmeds, args.constant)
    print(line("the issue's recipe", embeddings, found, casia.identities))
    for cache in sorted((settings.cache_dir / "eval").glob(f"casia-{OMZ_REID_ID}-[ym]*.npz")):
        stored = np.load(cache)
        label = cache.stem.removeprefix(f"casia-{OMZ_REID_ID}-").rsplit("-", 1)[0]
        print(line(f"ours, {label}", stored["embeddings"], stored["found"], casia.identities))


if __name__ == "__main__":
    main()
