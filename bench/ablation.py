"""How far each step of the face pipeline moves each population: an ablation on one recognizer.

What it measures
    The same recognizer throughout (simkyc's ONNX port of the dlib ResNet,
    `FaceEncoder.from_settings(settings).embedder`), fed chips cut five ways:
      a         dlib HOG detector (upsample 1) -> dlib 5-point landmarks -> `dlib.get_face_chip`
                (150 px, padding 0.25): face_recognition's pipeline
      b-box     YuNet's box as the dlib rectangle -> dlib 5-point landmarks -> dlib chip
      b-square  a square built from YuNet's five landmarks, placed and sized as dlib's HOG box
                is on LFW (the 5-point predictor was trained on HOG-like boxes) -> dlib
                5-point landmarks -> dlib chip
      c         YuNet's five landmarks -> simkyc's template alignment (`encoder.aligner`)
      e         MediaPipe's five mesh landmarks -> simkyc's template alignment
      f         (not in the brief) YuNet finds the face; MediaPipe's mesh runs on a square
                crop around it (2x YuNet's box, resized to 256 px) and its five landmarks,
                mapped back, go to the template alignment (YuNet's own five points where the
                mesh finds nothing in the crop)
    each without and with flip averaging (the embedding of the chip and of its mirror, each
    unit length, summed and renormalised: exactly `OnnxEmbedder(flip=True)`, checked at start;
    the brief's d is c+flip, its e is e+flip). YuNet and MediaPipe are simkyc's detectors as
    the settings build them.
    Per data set and row, over all pairs of images (genuine: same identity): EER and FNMR at
    FMR 1e-3 and 1e-2 (`simkyc.eval.metrics.summary`; `*` marks an FMR below what the
    number of impostor pairs supports) and the images where no face was found. Where several
    faces are found the one nearest the image centre is used; a pair with an image without
    a face scores -1 (a non-match), as `simkyc eval faces` does.

Sets
    casia (CASIA-FaceV5 subset, 200 images), kpop (K-pop crops, ~360), lfw (the 7,701
    deep-funneled protocol images); all images of each, decoded by simkyc's decoder.

How
    One process, one thread per pool. Embeddings are cached per (set, chip pipeline) under
    `--cache` (default /tmp/simkyc-ablation), keyed by the image list, the model file and
    this script's CACHE_VERSION, so re-runs only score.

Run
    .venv/bin/python bench/ablation.py [--sets casia kpop lfw] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onecore import single_threaded

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from simkyc.config import Settings
    from simkyc.eval.datasets import FaceDataset
    from simkyc.faces.align import Aligner
    from simkyc.faces.detect import Detector
    from simkyc.faces.embed import OnnxEmbedder
    from simkyc.types import Face, Image

CACHE_VERSION = "1"
SETS = ("casia", "kpop", "lfw")
FMRS = (1e-3, 1e-2)
CHIP_SIZE, CHIP_PADDING = 150, 0.25
HOG_UPSAMPLE = 1
# dlib's HOG box relative to YuNet's five landmarks, in units of (eye distance + eye-to-mouth
# distance) along the eye line (x) and across it (y): medians over the 384 images of every
# 20th LFW image where HOG and YuNet both found the central face (spread of the side: 9%).
SQUARE_SIDE, SQUARE_DX, SQUARE_DY = 1.225, -0.054, -0.021
MESH_CROP_SCALE, MESH_CROP_SIZE = 2.0, 256


@dataclass(frozen=True)
class Row:
    """One line of the table: a chip pipeline, with or without flip averaging."""

    name: str
    chips: str
    flip: bool
    label: str


ROWS = (
    Row("a", "a", False, "HOG -> dlib 5pt -> dlib chip"),
    Row("a+flip", "a", True, "a + flip"),
    Row("b-box", "b-box", False, "YuNet box -> dlib 5pt -> dlib chip"),
    Row("b-box+flip", "b-box", True, "b-box + flip"),
    Row("b-square", "b-square", False, "YuNet 5pt square -> dlib 5pt -> chip"),
    Row("b-square+flip", "b-square", True, "b-square + flip"),
    Row("c", "c", False, "YuNet 5pt -> template"),
    Row("d", "c", True, "c + flip"),
    Row("e-noflip", "e", False, "MediaPipe 5pt -> template"),
    Row("e", "e", True, "MediaPipe 5pt -> template + flip"),
    Row("f-noflip", "f", False, "YuNet crop -> mesh 5pt -> template"),
    Row("f", "f", True, "YuNet crop -> mesh 5pt -> template + flip"),
)
CHIP_PIPELINES = tuple(dict.fromkeys(row.chips for row in ROWS))


# --- chips ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """Everything that cuts chips: dlib's detector and predictor, simkyc's detectors, aligner."""

    hog: Any
    predictor: Any
    yunet: Detector
    mediapipe: Detector
    aligner: Aligner


def build_tools(settings: Settings, aligner: Aligner) -> Tools:
    """dlib's HOG detector and 5-point predictor; YuNet and MediaPipe as the settings build."""
    import dlib

    from simkyc.config import DetectorKind
    from simkyc.faces.models import dlib_model_file
    from simkyc.faces.pipeline import build_detector

    predictor = dlib.shape_predictor(str(dlib_model_file("shape_predictor_5_face_landmarks.dat")))
    return Tools(
        hog=dlib.get_frontal_face_detector(),
        predictor=predictor,
        yunet=build_detector(settings.model_copy(update={"detector": DetectorKind.YUNET})),
        mediapipe=build_detector(settings.model_copy(update={"detector": DetectorKind.MEDIAPIPE})),
        aligner=aligner,
    )


def nearest_centre(centres: Sequence[tuple[float, float]], image: Image) -> int | None:
    """Index of the centre nearest the image's centre (LFW's labelled face), None if none."""
    if not centres:
        return None
    cx, cy = image.shape[1] / 2, image.shape[0] / 2
    return min(
        range(len(centres)), key=lambda i: (centres[i][0] - cx) ** 2 + (centres[i][1] - cy) ** 2
    )


def central_face(faces: Sequence[Face], image: Image) -> Face | None:
    """The face whose landmark centre is nearest the image centre."""
    centres = [(float(f.landmarks[:, 0].mean()), float(f.landmarks[:, 1].mean())) for f in faces]
    index = nearest_centre(centres, image)
    return None if index is None else faces[index]


@dataclass
class Detections:
    """One image's central face per detector, each found at most once, when first needed."""

    image: Image
    tools: Tools

    @cached_property
    def hog(self) -> Any:
        rects = list(self.tools.hog(self.image, HOG_UPSAMPLE))
        centres = [(r.center().x, r.center().y) for r in rects]
        index = nearest_centre(centres, self.image)
        return None if index is None else rects[index]

    @cached_property
    def yunet(self) -> Face | None:
        return central_face(self.tools.yunet.detect(self.image), self.image)

    @cached_property
    def mediapipe(self) -> Face | None:
        return central_face(self.tools.mediapipe.detect(self.image), self.image)

    @cached_property
    def yunet_mesh(self) -> Face | None:
        """YuNet's face with MediaPipe's five points, the mesh run on a crop around it."""
        return None if self.yunet is None else mesh_in_crop(self.image, self.yunet, self.tools)


def mesh_in_crop(image: Image, face: Face, tools: Tools) -> Face:
    """The face's landmarks from the mesh on a square crop (2x the box, 256 px) around it;
    YuNet's own landmarks when the mesh finds nothing there."""
    import cv2
    import numpy as np

    side = MESH_CROP_SCALE * max(face.box.width, face.box.height)
    scale = MESH_CROP_SIZE / side
    cx, cy = (float(v) for v in face.landmarks.mean(axis=0))
    half = MESH_CROP_SIZE / 2
    matrix = np.array([[scale, 0.0, half - scale * cx], [0.0, scale, half - scale * cy]])
    warped = cv2.warpAffine(
        image,
        matrix,
        (MESH_CROP_SIZE, MESH_CROP_SIZE),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    crop: Image = np.ascontiguousarray(warped, dtype=np.uint8)
    mesh = central_face(tools.mediapipe.detect(crop), crop)
    if mesh is None:
        return face
    points = ((mesh.landmarks - matrix[:, 2]) / scale).astype(np.float32)
    return dataclasses.replace(face, landmarks=points)


def dlib_chip(found: Detections, rect: Any) -> Image:
    """dlib's 5-point landmarks in `rect`, then dlib's own 150 px chip (face_recognition's)."""
    import dlib
    import numpy as np

    shape = found.tools.predictor(found.image, rect)
    chip = dlib.get_face_chip(found.image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
    return np.ascontiguousarray(chip)


def box_rect(face: Face) -> Any:
    """YuNet's box as a dlib rectangle."""
    import dlib

    box = face.box
    return dlib.rectangle(
        round(box.x), round(box.y), round(box.x + box.width), round(box.y + box.height)
    )


def square_rect(face: Face) -> Any:
    """A square placed and sized from the five landmarks as dlib's HOG box would be."""
    import dlib
    import numpy as np

    points = face.landmarks.astype(np.float64)
    eyes, mouth = (points[0] + points[1]) / 2, (points[3] + points[4]) / 2
    unit = float(np.linalg.norm(points[1] - points[0]) + np.linalg.norm(mouth - eyes))
    across = (points[1] - points[0]) / max(float(np.linalg.norm(points[1] - points[0])), 1e-6)
    down = np.array([-across[1], across[0]])
    centre = points.mean(axis=0) + unit * (SQUARE_DX * across + SQUARE_DY * down)
    half = SQUARE_SIDE * unit / 2
    return dlib.rectangle(
        round(centre[0] - half),
        round(centre[1] - half),
        round(centre[0] + half),
        round(centre[1] + half),
    )


def chip_a(found: Detections) -> Image | None:
    return None if found.hog is None else dlib_chip(found, found.hog)


def chip_b_box(found: Detections) -> Image | None:
    return None if found.yunet is None else dlib_chip(found, box_rect(found.yunet))


def chip_b_square(found: Detections) -> Image | None:
    return None if found.yunet is None else dlib_chip(found, square_rect(found.yunet))


def chip_c(found: Detections) -> Image | None:
    return None if found.yunet is None else found.tools.aligner.align(found.image, found.yunet)


def chip_e(found: Detections) -> Image | None:
    face = found.mediapipe
    return None if face is None else found.tools.aligner.align(found.image, face)


def chip_f(found: Detections) -> Image | None:
    face = found.yunet_mesh
    return None if face is None else found.tools.aligner.align(found.image, face)


CHIPPERS: dict[str, Callable[[Detections], Image | None]] = {
    "a": chip_a,
    "b-box": chip_b_box,
    "b-square": chip_b_square,
    "c": chip_c,
    "e": chip_e,
    "f": chip_f,
}


# --- embeddings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Embedded:
    """One set through one chip pipeline: embeddings without and with flip, found flags."""

    plain: NDArray[np.float32]
    flipped: NDArray[np.float32]
    found: NDArray[np.bool_]


def unit_rows(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length, as OnnxEmbedder does."""
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return unit


def embed_both(embedder: OnnxEmbedder, chips: list[Image]) -> tuple[NDArray[np.float32], ...]:
    """Embeddings of `chips` without and with flip averaging, from one batch (flip off)."""
    import numpy as np

    mirrors = [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
    raw = np.stack(embedder.embed(chips + mirrors))
    plain = raw[: len(chips)]
    return plain, unit_rows(plain + raw[len(chips) :])


def check_flip(embedder: OnnxEmbedder, chip: Image) -> None:
    """Fail loudly if the flip rows would differ from `OnnxEmbedder(flip=True)`."""
    import numpy as np

    reference = dataclasses.replace(embedder, flip=True).embed([chip])[0]
    ours = embed_both(embedder, [chip])[1][0]
    if not np.allclose(reference, ours, atol=1e-5):
        raise SystemExit("flip averaging here differs from OnnxEmbedder(flip=True)")


def cache_file(cache: Path, dataset: FaceDataset, chips: str, model: Path) -> Path:
    """Cache path keyed by set, chip pipeline, images, model file and CACHE_VERSION."""
    key = "\n".join([CACHE_VERSION, model.name, *map(str, dataset.images)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache / f"{dataset.name}-{chips}-{digest}.npz"


def embed_set(
    dataset: FaceDataset,
    wanted: Sequence[str],
    tools: Tools,
    embedder: OnnxEmbedder,
    decode: Callable[[bytes], Image],
) -> dict[str, Embedded]:
    """Every image through every wanted chip pipeline (detectors run once per image)."""
    import numpy as np

    plain: dict[str, list[Any]] = {name: [] for name in wanted}
    flipped: dict[str, list[Any]] = {name: [] for name in wanted}
    for number, path in enumerate(dataset.images):
        found = Detections(decode(path.read_bytes()), tools)
        chips = {name: CHIPPERS[name](found) for name in wanted}
        made = {name: chip for name, chip in chips.items() if chip is not None}
        if made:
            rows = embed_both(embedder, list(made.values()))
            for index, name in enumerate(made):
                plain[name].append(rows[0][index])
                flipped[name].append(rows[1][index])
        for name in set(wanted) - set(made):
            plain[name].append(None)
            flipped[name].append(None)
        if number % 500 == 499:
            print(f"  {dataset.name}: {number + 1}/{len(dataset.images)}", file=sys.stderr)
    return {
        name: Embedded(
            stack(plain[name]),
            stack(flipped[name]),
            np.array([v is not None for v in plain[name]], np.bool_),
        )
        for name in wanted
    }


def stack(rows: list[Any]) -> NDArray[np.float32]:
    """Embeddings as a matrix, zero rows where no face was found."""
    import numpy as np

    width = next((len(r) for r in rows if r is not None), 128)
    zero = np.zeros(width, np.float32)
    matrix: NDArray[np.float32] = np.stack([zero if r is None else r for r in rows])
    return matrix.astype(np.float32)


def load_or_embed(dataset: FaceDataset, context: Context) -> dict[str, Embedded]:
    """Cached embeddings per chip pipeline; the missing ones are computed and stored."""
    import numpy as np

    files = {
        name: cache_file(context.cache, dataset, name, context.embedder.model_path)
        for name in CHIP_PIPELINES
    }
    result = {
        name: Embedded(*(np.load(f)[k] for k in ("plain", "flipped", "found")))
        for name, f in files.items()
        if f.is_file()
    }
    missing = [name for name in CHIP_PIPELINES if name not in result]
    if missing:
        fresh = embed_set(dataset, missing, context.tools, context.embedder, context.decode)
        context.cache.mkdir(parents=True, exist_ok=True)
        for name, embedded in fresh.items():
            np.savez(
                files[name], plain=embedded.plain, flipped=embedded.flipped, found=embedded.found
            )
        result.update(fresh)
    return result


# --- scoring -------------------------------------------------------------------------------


def score(embedded: Embedded, flip: bool, identities: NDArray[np.intp]) -> dict[str, Any]:
    """All-pairs EER, FNMR at each FMR, and the no-face count of one row on one set."""
    from simkyc.eval import scoring
    from simkyc.eval.metrics import summary

    vectors = embedded.flipped if flip else embedded.plain
    matrix = scoring.similarity_matrix(vectors.copy(), embedded.found)
    result = summary(scoring.all_pairs(matrix, identities, embedded.found), FMRS)
    return {
        "no_face": int((~embedded.found).sum()),
        "eer": result.eer,
        "n_genuine": result.n_genuine,
        "n_impostor": result.n_impostor,
        **{f"fnmr@{p.target_fmr:g}": p.fnmr for p in result.operating_points},
        **{f"supported@{p.target_fmr:g}": p.supported for p in result.operating_points},
    }


def restricted(embedded: Embedded, keep: NDArray[np.bool_]) -> Embedded:
    """Only the images in `keep`."""
    return Embedded(embedded.plain[keep], embedded.flipped[keep], embedded.found[keep])


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every set needs: the chip tools, the recognizer, the decoder, the cache folder."""

    tools: Tools
    embedder: OnnxEmbedder
    decode: Callable[[bytes], Image]
    cache: Path


def build_context(settings: Settings, cache: Path) -> Context:
    """simkyc's encoder parts (recognizer with flip off, aligner, decoder) and dlib's tools."""
    from simkyc.faces.pipeline import FaceEncoder

    encoder = FaceEncoder.from_settings(settings)
    embedder = dataclasses.replace(encoder.embedder, flip=False)
    return Context(
        build_tools(settings, encoder.aligner),
        embedder,
        lambda data: encoder.decoder.decode(data).pixels,
        cache,
    )


def measure(settings: Settings, names: Sequence[str], context: Context) -> dict[str, Any]:
    """Every row on every named set (all images, and only those every pipeline found a face
    in: alignment without detection), with the wall time per set."""
    import numpy as np

    from simkyc.eval import datasets

    sets: dict[str, Any] = {}
    for name in names:
        start = time.perf_counter()
        dataset = datasets.load(name, settings.data_dir)
        embedded = load_or_embed(dataset, context)
        rows = {row.name: score(embedded[row.chips], row.flip, dataset.identities) for row in ROWS}
        common = np.logical_and.reduce([e.found for e in embedded.values()])
        rows_common = {
            row.name: score(
                restricted(embedded[row.chips], common), row.flip, dataset.identities[common]
            )
            for row in ROWS
        }
        sets[name] = {
            "images": len(dataset.images),
            "identities": int(dataset.identities.max()) + 1,
            "seconds": round(time.perf_counter() - start, 1),
            "rows": rows,
            "common": {"images": int(common.sum()), "rows": rows_common},
        }
        print(f"{name}: {len(dataset.images)} images, {sets[name]['seconds']} s", file=sys.stderr)
    return sets


def cell(entry: dict[str, Any], metric: str) -> str:
    """One table cell: a rate in %, `*` when the FMR is below what the set supports."""
    if metric == "no_face":
        return str(entry["no_face"])
    mark = "" if entry.get(f"supported@{metric[5:]}", True) else "*"
    return f"{entry[metric]:.2%}{mark}"


METRICS = (("no_face", "noface"), ("eer", "EER"), ("fnmr@0.001", "FNMR3"), ("fnmr@0.01", "FNMR2"))
STEPS = (
    ("b-box", "a", "YuNet box, not HOG"),
    ("b-square", "a", "YuNet square, not HOG"),
    ("c", "b-square", "template, not dlib 5pt + chip"),
    ("d", "c", "flip"),
    ("e", "d", "MediaPipe, not YuNet"),
    ("f", "d", "mesh points in YuNet's crop"),
    ("f", "e", "YuNet, then mesh, not mesh alone"),
    ("d", "a", "simkyc's steps together"),
)
LABEL = 46


def table(blocks: dict[str, dict[str, Any]], note: str) -> list[str]:
    """Rows: pipelines; columns: set x metric; then the step deltas."""
    width = 9 * len(METRICS)
    titles = [f"{name} ({entry['images']} images)" for name, entry in blocks.items()]
    top = f"{'':<14}" + "".join(f"{title:^{width}}" for title in titles)
    head = f"{'pipeline':<14}" + "".join(f"{label:>9}" for _ in blocks for _, label in METRICS)
    lines = [note, "", top, head, "-" * len(head)]
    for row in ROWS:
        entries = [block["rows"][row.name] for block in blocks.values()]
        lines.append(
            f"{row.name:<14}" + "".join(f"{cell(e, m):>9}" for e in entries for m, _ in METRICS)
        )
    lines += [
        "",
        "steps, percentage points (negative: fewer errors)",
        f"{'':<{LABEL}}" + "".join(f"{name + ' EER':>13}{name + ' FNMR3':>13}" for name in blocks),
    ]
    for new, old, label in STEPS:
        deltas = "".join(
            f"{delta(b, new, old, 'eer'):>13}{delta(b, new, old, 'fnmr@0.001'):>13}"
            for b in blocks.values()
        )
        lines.append(f"{f'{new} vs {old}: {label}':<{LABEL}}" + deltas)
    return lines


def report(result: dict[str, Any]) -> str:
    """Both tables (all images; images every pipeline found a face in) and a legend."""
    sets = result["sets"]
    lines = table(sets, "ALL IMAGES (no face: its pairs score -1)")
    common = {name: entry["common"] for name, entry in sets.items()}
    lines += ["", "", *table(common, "ONLY IMAGES WHERE EVERY PIPELINE FOUND A FACE")]
    lines += [
        "",
        "FNMR3 / FNMR2: FNMR at FMR 1e-3 / 1e-2, all pairs; * FMR below what the "
        "impostor pairs support; noface: images without a face",
    ]
    lines += [f"  {row.name:<14}{row.label}" for row in ROWS]
    lines += ["", f"wall time {result['seconds']:.0f} s"]
    return "\n".join(lines)


def delta(entry: dict[str, Any], new: str, old: str, metric: str) -> str:
    """new - old in percentage points."""
    return f"{(entry['rows'][new][metric] - entry['rows'][old][metric]) * 100:+.2f}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/simkyc-ablation"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    single_threaded()
    import cv2
    import numpy as np

    from simkyc.config import get_settings

    cv2.setNumThreads(1)
    start = time.perf_counter()
    settings = get_settings()
    context = build_context(settings, args.cache)
    check_flip(
        context.embedder, np.random.default_rng(0).integers(0, 256, (150, 150, 3), dtype=np.uint8)
    )
    result: dict[str, Any] = {
        "model": str(context.embedder.model_path),
        "rows": {row.name: row.label for row in ROWS},
        "sets": measure(settings, args.sets, context),
    }
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
