"""Face detectors on one core: YuNet against MediaPipe, recall and speed, on the same images.

What it measures
    For simkyc's two detectors with their defaults,
    `YuNetDetector(<models_dir>/yunet/face_detection_yunet_2023mar.onnx)` (score threshold
    0.6, faces down to 0.35 when none reaches it, rolled faces re-detected upright) and
    `MediaPipeDetector()` (the refined face mesh, detection confidence 0.5), both detecting on
    a copy no larger than 640 px, and MediaPipe again as `mp@0.6` at the pipeline's
    `min_detection_score` (0.6 by default; the row is left out when it is 0.5), over every
    image of each set:
    - recall: the share of images where at least one face was found (every image here holds
      exactly one labelled face). On the canvases below a face only counts when its landmark
      centre lies on the pasted photo, so a false positive on the grey background is no hit;
    - recall >= thr: the same, counting only faces at or above the detector's score
      threshold (YuNet returns faces down to 0.35 when none reaches 0.6; MediaPipe's faces
      all pass its own threshold, so both columns agree for it);
    - multi: the share of images where more than one face was found (extra faces are
      bystanders in LFW, otherwise false positives);
    - p50 / p95 / mean milliseconds of `detector.detect(rgb)` per image, decoding excluded.

Sets
    lfw          every 5th of LFW's 7,701 deep-funneled protocol images (250x250)
    casia        CASIA-FaceV5 subset, all 200 images (East Asian, 168x193 BMP)
    kpop         K-pop idol crops, all images (East Asian, tight 160x160 crops)
    Made from every 25th LFW image (as an ID portrait or a selfie might be):
    small        scaled so the face is ~30 px wide (LFW's face is ~95 px wide in YuNet's and
                 the mesh's boxes), pasted at a seeded random spot on a 640x480 grey canvas
    low-contrast contrast x0.35 (PIL ImageEnhance.Contrast: towards the image's mean grey),
                 as on a washed-out ID print
    dark         brightness x0.3 (PIL ImageEnhance.Brightness)
    selfie-size  scaled to 960x960, centred on a 1280x960 grey canvas: the speed at a phone
                 photo's size (both detectors shrink it to 640 px first)

How
    The process pins itself to one CPU and sets every thread pool to one thread before numpy
    or cv2 is imported. Each detector is warmed up on the first image of a set (untimed);
    then, image by image, every detector runs on the same pixels, taking turns to go
    first. Other processes on the machine slow them alike; the load average is recorded.

Run
    .venv/bin/python bench/detectors.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onecore import pin_to_one_core

if TYPE_CHECKING:
    from simkyc.faces.detect import Detector
    from simkyc.types import Face, Image

HEAVY_MODULES = ("numpy", "cv2", "onnxruntime", "mediapipe")
YUNET_FILE = "yunet/face_detection_yunet_2023mar.onnx"
LFW_STEP = 5
HARD_STEP = 25
LFW_FACE_WIDTH = 95.0  # px: median YuNet box / mesh extent width on deep-funneled LFW
SMALL_FACE_WIDTH = 30.0
CANVAS = (640, 480)
SELFIE = (1280, 960)
CONTRAST = 0.35
BRIGHTNESS = 0.3
GREY = (128, 128, 128)
SEED = 30640480

Region = tuple[float, float, float, float]  # x0, y0, x1, y1: where the photo lies


# --- one core ------------------------------------------------------------------------------


# --- images --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One RGB image and the region of it that shows the source photo."""

    image: Image
    region: Region


@dataclass(frozen=True)
class ImageSet:
    """A named, lazily built set of samples (the large canvases are never all in memory)."""

    name: str
    description: str
    paths: tuple[Path, ...]
    make: Callable[[Path, int], Sample]

    def samples(self) -> Iterator[Sample]:
        for index, path in enumerate(self.paths):
            yield self.make(path, index)


def read_rgb(path: Path) -> Image:
    """The file's pixels as RGB uint8."""
    import numpy as np
    from PIL import Image as PILImage

    with PILImage.open(path) as opened:
        return np.ascontiguousarray(np.asarray(opened.convert("RGB"), dtype=np.uint8))


def whole(path: Path, _index: int) -> Sample:
    """The photo as it is."""
    image = read_rgb(path)
    return Sample(image, (0.0, 0.0, float(image.shape[1]), float(image.shape[0])))


def on_canvas(
    photo: Image, scale: float, canvas: tuple[int, int], corner: tuple[int, int] | None = None
) -> Sample:
    """`photo` resized by `scale`, pasted on a grey canvas at `corner` (centred if None)."""
    import numpy as np
    from PIL import Image as PILImage

    source = PILImage.fromarray(photo)
    size = (round(source.width * scale), round(source.height * scale))
    resized = source.resize(size, PILImage.Resampling.LANCZOS)
    if corner is None:
        corner = ((canvas[0] - size[0]) // 2, (canvas[1] - size[1]) // 2)
    board = PILImage.new("RGB", canvas, GREY)
    board.paste(resized, corner)
    region = (
        float(corner[0]),
        float(corner[1]),
        float(corner[0] + size[0]),
        float(corner[1] + size[1]),
    )
    return Sample(np.ascontiguousarray(np.asarray(board, dtype=np.uint8)), region)


def small(path: Path, index: int) -> Sample:
    """Face ~30 px wide at a seeded random spot of a 640x480 grey canvas."""
    import numpy as np

    photo = read_rgb(path)
    scale = SMALL_FACE_WIDTH / LFW_FACE_WIDTH
    width, height = round(photo.shape[1] * scale), round(photo.shape[0] * scale)
    rng = np.random.default_rng(SEED + index)
    corner = (int(rng.integers(0, CANVAS[0] - width)), int(rng.integers(0, CANVAS[1] - height)))
    return on_canvas(photo, scale, CANVAS, corner)


def enhanced(kind: str, factor: float) -> Callable[[Path, int], Sample]:
    """A maker applying PIL's ImageEnhance `kind` ("Contrast", "Brightness") by `factor`."""

    def make(path: Path, index: int) -> Sample:
        import numpy as np
        from PIL import Image as PILImage
        from PIL import ImageEnhance

        sample = whole(path, index)
        enhancer = getattr(ImageEnhance, kind)(PILImage.fromarray(sample.image))
        pixels = np.asarray(enhancer.enhance(factor), dtype=np.uint8)
        return Sample(np.ascontiguousarray(pixels), sample.region)

    return make


def selfie_size(path: Path, _index: int) -> Sample:
    """Scaled to fit 1280x960 (aspect kept), centred on grey."""
    photo = read_rgb(path)
    scale = min(SELFIE[0] / photo.shape[1], SELFIE[1] / photo.shape[0])
    return on_canvas(photo, scale, SELFIE)


def image_sets(data_dir: Path) -> list[ImageSet]:
    """The sets measured, in table order."""
    from simkyc.eval import datasets

    lfw = datasets.load("lfw", data_dir).images
    hard = lfw[::HARD_STEP]
    return [
        ImageSet("lfw", f"LFW, every {LFW_STEP}th image", lfw[::LFW_STEP], whole),
        ImageSet(
            "casia", "CASIA-FaceV5 subset, all", datasets.load("casia", data_dir).images, whole
        ),
        ImageSet("kpop", "K-pop crops, all", datasets.load("kpop", data_dir).images, whole),
        ImageSet("small", "LFW, face ~30 px on 640x480 grey", hard, small),
        ImageSet("low-contrast", "LFW, contrast x0.35", hard, enhanced("Contrast", CONTRAST)),
        ImageSet("dark", "LFW, brightness x0.3", hard, enhanced("Brightness", BRIGHTNESS)),
        ImageSet("selfie-size", "LFW, 960x960 on 1280x960 grey", hard, selfie_size),
    ]


# --- detectors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """A detector under test and the score at or above which its faces are confident."""

    name: str
    detector: Detector
    threshold: float


def contenders(models_dir: Path, pipeline_score: float) -> list[Contender]:
    """YuNet and MediaPipe with their defaults; MediaPipe also at the pipeline's detection
    score (`min_detection_score`) when that differs from its default."""
    from simkyc.faces.detect import MediaPipeDetector, YuNetDetector

    yunet = YuNetDetector(models_dir / YUNET_FILE)
    mediapipe = MediaPipeDetector()
    rivals = [
        Contender("yunet", yunet, yunet.score_threshold),
        Contender("mediapipe", mediapipe, mediapipe.score_threshold),
    ]
    if pipeline_score != mediapipe.score_threshold:
        strict = MediaPipeDetector(score_threshold=pipeline_score)
        rivals.append(Contender(f"mp@{pipeline_score:g}", strict, pipeline_score))
    return rivals


def inside(face: Face, region: Region) -> bool:
    """Whether the centre of the face's landmarks lies in `region`."""
    x, y = (float(v) for v in face.landmarks.mean(axis=0))
    return region[0] <= x <= region[2] and region[1] <= y <= region[3]


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Tally:
    """One detector's counts and timings over one set."""

    images: int = 0
    found: int = 0
    confident: int = 0
    multi: int = 0
    ms: list[float] = field(default_factory=list)

    def add(self, faces: Sequence[Face], region: Region, threshold: float, ms: float) -> None:
        hits = [face for face in faces if inside(face, region)]
        self.images += 1
        self.found += bool(hits)
        self.confident += any(face.score >= threshold for face in hits)
        self.multi += len(faces) > 1
        self.ms.append(ms)


def timed_detect(detector: Detector, image: Image) -> tuple[list[Face], float]:
    """The detector's faces and the milliseconds it took."""
    start = time.perf_counter()
    faces = detector.detect(image)
    return faces, (time.perf_counter() - start) * 1000


def measure_set(image_set: ImageSet, rivals: Sequence[Contender]) -> dict[str, Tally]:
    """Run every detector on every sample, taking turns to go first; warm-up untimed."""
    tallies = {c.name: Tally() for c in rivals}
    for index, sample in enumerate(image_set.samples()):
        if index == 0:
            for contender in rivals:
                contender.detector.detect(sample.image)
        shift = index % len(rivals)
        order = [*rivals[shift:], *rivals[:shift]]
        for contender in order:
            faces, ms = timed_detect(contender.detector, sample.image)
            tallies[contender.name].add(faces, sample.region, contender.threshold, ms)
    return tallies


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method); the value itself for a single one."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def figures(tally: Tally) -> dict[str, float | int]:
    """JSON-ready rates and timings of one tally."""
    n = tally.images
    return {
        "images": n,
        "recall": tally.found / n,
        "recall_confident": tally.confident / n,
        "multi": tally.multi / n,
        "no_face": n - tally.found,
        "p50_ms": percentile(tally.ms, 50),
        "p95_ms": percentile(tally.ms, 95),
        "mean_ms": statistics.fmean(tally.ms),
    }


# --- report --------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> str:
    """The table: one row per set and detector."""
    header = (
        f"{'set':<13}{'n':>6}  {'detector':<10}{'recall':>8}{'>=thr':>8}{'multi':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'mean':>7}"
    )
    lines = [
        f"face detectors, one core (cpu {result['cpu']}), detect() only, warm-up excluded; "
        f"load average {result['load_before']} before, {result['load_after']} after",
        "",
        header,
        "-" * len(header),
    ]
    for name, entry in result["sets"].items():
        for detector, f in entry["detectors"].items():
            lines.append(
                f"{name:<13}{f['images']:>6}  {detector:<10}{f['recall']:>8.2%}"
                f"{f['recall_confident']:>8.2%}{f['multi']:>7.2%}{f['p50_ms']:>8.2f}"
                f"{f['p95_ms']:>8.2f}{f['mean_ms']:>7.2f}"
            )
    lines += [
        "",
        "recall: >=1 face (on the photo, for canvases); >=thr: counting only faces "
        "at or above the detector's threshold (YuNet 0.6); multi: >1 face found",
    ]
    return "\n".join(lines)


def load_average() -> str:
    """The 1-minute load average, for the record (other processes slow the timings)."""
    return f"{os.getloadavg()[0]:.2f}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cpu = pin_to_one_core(HEAVY_MODULES)
    import cv2

    from simkyc.config import get_settings

    cv2.setNumThreads(1)
    settings = get_settings()
    rivals = contenders(settings.models_dir, settings.min_detection_score)
    result: dict[str, Any] = {"cpu": cpu, "load_before": load_average(), "sets": {}}
    for image_set in image_sets(settings.data_dir):
        start = time.perf_counter()
        tallies = measure_set(image_set, rivals)
        result["sets"][image_set.name] = {
            "description": image_set.description,
            "detectors": {name: figures(t) for name, t in tallies.items()},
        }
        print(
            f"{image_set.name}: {len(image_set.paths)} images, {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
    result["load_after"] = load_average()
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
