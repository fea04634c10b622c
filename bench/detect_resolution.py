"""Does detecting on a smaller copy change embeddings or decisions on large photos?

Why
    Detection is the dearest stage of a 1280x960 pair (YuNet on a 640 px copy, ~14 ms per
    image on one core). Every calibration image is at most 320 px on its longer side (LFW
    250x250, CASIA-FaceV5 168x193, K-pop 160x160, the public figures' crops), so a detection
    copy of 320 px changes no calibration embedding: only larger photos (selfies, documents)
    are affected, and this script measures how much, with each pipeline as configured.

What it measures
    Each photo is embedded twice by simkyc's encoder (`FaceEncoder.sample`, decode included),
    with `detect_max_side` = --reference (default 640) and = --candidate (default 320), all
    other settings from the environment. Per set: photos with a face at each size, the cosine
    between the two embeddings of each photo (min, p1, p50), and over all pairs of photos:
    the largest score change and how many pairs' decisions (the deployed policy of the set's
    population at the configured targets) differ. Then detect-stage p50 ms at each size.

Sets (large photos made from real ones; the data dir is SIMKYC_DATA_DIR, default
<checkout>/../shared/data)
    press       faces-examples' photos (the same as bench/verify.py's), fitted to 1280x960 on a
                grey canvas, JPEG q90; population lfw
    selfie      every LFW person with 3+ protocol images, first 3 images each (up to --people),
                scaled to 960x960 and centred on a 1280x960 canvas; population lfw
    document    the same LFW photos scaled to 320x320 (face ~120 px) at a seeded random spot of
                a 1280x960 light canvas, as an ID portrait photographed with its card
    casia       CASIA-FaceV5 subset, every image scaled x5 (840x965, face ~300 px) and JPEG q90;
                population east-asian

Run
    .venv/bin/python bench/detect_resolution.py [--people 60] [--reference 640] [--candidate 320]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onecore import pin_to_one_core

CANVAS = (1280, 960)
SEED = 320640


@dataclass(frozen=True)
class LargeSet:
    """Photos as JPEG bytes, their identities and the population whose policy judges them."""

    name: str
    population: str
    photos: list[bytes]
    identities: list[str]


def _jpeg(image: Any) -> bytes:
    """JPEG q90 bytes of a PIL image."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _on_canvas(photo: Any, side: int, spot: tuple[int, int] | None, grey: int) -> bytes:
    """`photo` scaled to side x side, pasted centred (or at `spot`) on a 1280x960 canvas."""
    from PIL import Image

    scaled = photo.resize((side, side), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", CANVAS, (grey, grey, grey))
    canvas.paste(scaled, spot or ((CANVAS[0] - side) // 2, (CANVAS[1] - side) // 2))
    return _jpeg(canvas)


def lfw_people(data_dir: Path, people: int) -> list[tuple[str, Path]]:
    """(person, image) of the first 3 images of every LFW person with 3+ of them."""
    root = data_dir / "lfw" / "images_deepfunneled"
    chosen: list[tuple[str, Path]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(folder.glob("*.jpg"))
        if len(images) >= 3:
            chosen += [(folder.name, image) for image in images[:3]]
        if len(chosen) >= 3 * people:
            break
    return chosen


def build_sets(data_dir: Path, people: int) -> list[LargeSet]:
    """The four sets of large photos described in the module docstring."""
    from PIL import Image, ImageOps

    rng = random.Random(SEED)
    press = LargeSet("press", "lfw", [], [])
    for path in sorted((data_dir / "faces-examples" / "examples").glob("*.jpg")):
        if path.stem == "two_people":
            continue
        with Image.open(path) as opened:
            photo = ImageOps.exif_transpose(opened).convert("RGB")
        scale = min(CANVAS[0] / photo.width, CANVAS[1] / photo.height)
        photo = photo.resize((round(photo.width * scale), round(photo.height * scale)))
        canvas = Image.new("RGB", CANVAS, (128, 128, 128))
        canvas.paste(photo, ((CANVAS[0] - photo.width) // 2, (CANVAS[1] - photo.height) // 2))
        press.photos.append(_jpeg(canvas))
        press.identities.append(path.stem.split("-")[0].split("_")[0].rstrip("0123456789"))
    selfie = LargeSet("selfie", "lfw", [], [])
    document = LargeSet("document", "lfw", [], [])
    for person, path in lfw_people(data_dir, people):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        selfie.photos.append(_on_canvas(photo, 960, None, 128))
        spot = (rng.randrange(0, CANVAS[0] - 320), rng.randrange(0, CANVAS[1] - 320))
        document.photos.append(_on_canvas(photo, 320, spot, 225))
        selfie.identities.append(person)
        document.identities.append(person)
    casia = LargeSet("casia", "east-asian", [], [])
    for path in sorted((data_dir / "east-asian" / "casia-facev5-40").glob("*/*.bmp")):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        casia.photos.append(_jpeg(photo.resize((photo.width * 5, photo.height * 5))))
        casia.identities.append(path.parent.name)
    return [press, selfie, document, casia]


def embed_all(encoder: Any, photos: Sequence[bytes]) -> tuple[list[Any], list[float]]:
    """Each photo's embedding (None where no usable face) and its detect-stage ms."""
    from simkyc.errors import SimkycError

    embeddings: list[Any] = []
    detect_ms: list[float] = []
    for data in photos:
        try:
            sample = encoder.sample(data, require_quality=False)
        except SimkycError:
            embeddings.append(None)
            continue
        embeddings.append(sample.embedding)
        detect_ms.append(sample.timings_ms["detect"])
    return embeddings, detect_ms


def compare(name: str, policy: Any, ref: list[Any], cand: list[Any], ids: list[str]) -> str:
    """One line: faces found, embedding cosines, score changes and decision changes."""
    import numpy as np

    both = [i for i, (a, b) in enumerate(zip(ref, cand, strict=True))
            if a is not None and b is not None]
    cosines = sorted(float(np.dot(ref[i], cand[i])) for i in both)
    changed = pairs = 0
    largest = 0.0
    for k, i in enumerate(both):
        for j in both[k + 1:]:
            old, new = float(np.dot(ref[i], ref[j])), float(np.dot(cand[i], cand[j]))
            largest = max(largest, abs(old - new))
            pairs += 1
            changed += policy.decide(old).decision != policy.decide(new).decision
    genuine = sum(ids[i] == ids[j] for k, i in enumerate(both) for j in both[k + 1:])
    found = (sum(e is not None for e in ref), sum(e is not None for e in cand))
    p1 = cosines[max(0, len(cosines) // 100 - 1)] if cosines else float("nan")
    return (f"{name:9s} {len(ref):4d} photos  face found {found[0]:4d} / {found[1]:4d}  "
            f"cosine min {cosines[0]:.4f} p1 {p1:.4f} p50 {statistics.median(cosines):.4f}  "
            f"pairs {pairs} ({genuine} genuine): |score change| max {largest:.4f}, "
            f"decision changed {changed}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=60, help="LFW people (3 photos each)")
    parser.add_argument("--reference", type=int, default=640, help="detect_max_side today")
    parser.add_argument("--candidate", type=int, default=320, help="detect_max_side proposed")
    args = parser.parse_args(argv)
    pin_to_one_core(("numpy", "cv2", "onnxruntime"))
    from simkyc.config import get_settings
    from simkyc.faces.pipeline import FaceEncoder, face_policy, pipeline_id

    settings = get_settings()
    encoders = {side: FaceEncoder.from_settings(
        settings.model_copy(update={"detect_max_side": side}))
        for side in (args.reference, args.candidate)}
    print(f"{settings.recognizer} ({pipeline_id(settings)}): detect_max_side "
          f"{args.reference} (reference) vs {args.candidate}; face found ref / candidate")
    timings: dict[int, list[float]] = {side: [] for side in encoders}
    for large in build_sets(settings.data_dir, args.people):
        policy = face_policy(settings.model_copy(update={"population": large.population}))
        runs = {}
        for side, encoder in encoders.items():
            runs[side] = embed_all(encoder, large.photos)
            timings[side] += runs[side][1]
        print(compare(large.name, policy, runs[args.reference][0], runs[args.candidate][0],
                      large.identities))
    for side, values in timings.items():
        print(f"detect stage at {side} px: p50 {statistics.median(values):.2f} ms per image "
              f"({len(values)} images)")


if __name__ == "__main__":
    main()
