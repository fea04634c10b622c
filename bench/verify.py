"""Speed of 1:1 verification on one core: simkyc against face_recognition, in the same run.

What it measures
    Wall-clock milliseconds per pair, from the two files on disk to a decision, for
    - simkyc: reading both files' bytes + `FacePipeline.verify(bytes_a, bytes_b)`
      (decode -> detect -> align -> quality -> embed -> match), pipeline built once, untimed;
    - simkyc with the dlib ResNet (`dlib-resnet-v1`), the default before the OMZ model, the
      same way (the target: simkyc's p50 no slower than this);
    - face_recognition (dlib HOG detector + ResNet, the usual peer): for each image
      `load_image_file` -> `face_locations` (HOG, upsample 1) -> `face_encodings`,
      then `face_distance`, a match when the distance is <= 0.6 (its default tolerance).
    It prints p50/p95 per pair for each, the median and mean ms per stage (simkyc's own
    `timings_ms` stages), the ratio peer/simkyc at p50 and p95 (the target is >= 10x), and
    each system's decisions against the ground truth of these pairs (a sanity check, not an
    accuracy evaluation). Timings compare the pairs both systems decided: a photo a system
    rejects (no face, poor quality) ends its run early; 'all pairs' figures include those.
    The process's CPU time per pair is shown too: on a shared machine it is the steadier one.

How
    The process pins itself to one CPU (the first one it may use) and sets every thread
    pool it can to one thread (OMP/BLAS variables, SIMKYC_THREADS=1, cv2.setNumThreads)
    before numpy, cv2, onnxruntime or dlib are imported. Both systems run in this process
    on the same files; a warm-up pair is run untimed; then, `--repeat` times over the pairs,
    the two systems alternate per pair (simkyc first on even pairs, the peer first on odd
    ones) so machine noise and cache effects hit both.

Images
    Real press photos from `<SIMKYC_DATA_DIR>/faces-examples/examples` (default data dir:
    `<checkout>/../shared/data`; ageitgey/face_recognition's examples, MIT):
    `knn_examples/train/<person>/*` (identity = folder: obama, biden, kit_harington,
    rose_leslie, alex_lacamoire) and `*.jpg` (identity = the file name up to its first
    `-`, `_` or digit: obama, obama2, obama-720p, obama_small, ... -> obama; biden), without
    `two_people.jpg` and without byte-identical duplicates; a same-person pair never joins
    two resolutions of one frame (obama-1080p/-720p/-480p/-240p). Each photo keeps its aspect
    ratio and is scaled to fit 1280x960 (smaller photos are upscaled), centred on a grey
    canvas of exactly 1280x960, and saved as JPEG quality 90 in a temporary directory.
    Pairs: half same-person (spread over the identities), half different-person, drawn
    with a fixed seed; the list is printed and written with `--json`.

    `--also RECOGNIZER` (repeatable) adds simkyc with that recognizer to the same
    interleaved run, e.g. `--also omz-face-reid-0095-int8` (the FP16-INT8 IR on int8 kernels);
    each is printed with its ratio to the dlib pipeline.

Run
    bash bench/setup.sh            # .venv-bench: simkyc + dlib-bin + face_recognition
    .venv-bench/bin/python bench/verify.py [--pairs 20] [--repeat 3] [--json out.json]
        [--also omz-face-reid-0095-int8]
        [--cprofile simkyc.prof]     # where simkyc's time goes, function by function
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import json
import os
import pstats
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onecore import pin_to_one_core

if TYPE_CHECKING:
    from simkyc.faces.pipeline import FacePipeline

WIDTH, HEIGHT = 1280, 960
JPEG_QUALITY = 90
PEER_TOLERANCE = 0.6
TARGET_SPEEDUP = 10.0
SEED = 1280960
HEAVY_MODULES = ("numpy", "cv2", "onnxruntime", "dlib", "face_recognition")


# --- one core ------------------------------------------------------------------------------


def pin_for_bench() -> int:
    """One core, one thread per pool, and the population these photos come from."""
    cpu = pin_to_one_core(HEAVY_MODULES)
    # These photos are of Western public figures: judge them with the population they come
    # from (LFW's calibration), unless told otherwise.
    os.environ.setdefault("SIMKYC_POPULATION", "lfw")
    return cpu


# --- images and pairs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    """One source photo and the 1280x960 JPEG made from it."""

    identity: str
    source: Path
    path: Path


@dataclass(frozen=True)
class Pair:
    """Two photos and whether they show the same person."""

    a: Photo
    b: Photo

    @property
    def same(self) -> bool:
        return self.a.identity == self.b.identity


def source_photos(data_dir: Path) -> list[tuple[str, Path]]:
    """(identity, path) of every usable source photo, byte-identical copies dropped."""
    examples = data_dir / "faces-examples" / "examples"
    found = [(p.parent.name, p) for p in sorted((examples / "knn_examples" / "train").glob("*/*"))]
    found += [
        (re.split(r"[-_\d]", p.stem, maxsplit=1)[0], p)
        for p in sorted(examples.glob("*.jpg"))
        if p.stem != "two_people"
    ]
    if not found:
        raise SystemExit(f"No photos under {examples}; set SIMKYC_DATA_DIR.")
    seen: set[str] = set()
    unique = []
    for identity, path in found:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append((identity, path))
    return unique


def to_bench_jpeg(source: Path, target: Path) -> None:
    """Scale to fit 1280x960 (aspect kept, small photos upscaled), centre on grey, JPEG q90."""
    from PIL import Image, ImageOps

    with Image.open(source) as opened:
        photo = ImageOps.exif_transpose(opened).convert("RGB")
    scale = min(WIDTH / photo.width, HEIGHT / photo.height)
    size = (round(photo.width * scale), round(photo.height * scale))
    photo = photo.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(photo, ((WIDTH - size[0]) // 2, (HEIGHT - size[1]) // 2))
    canvas.save(target, "JPEG", quality=JPEG_QUALITY)


def scene(path: Path) -> str:
    """The photo a file was made from: obama-1080p, -720p, -480p and -240p are one frame."""
    return re.sub(r"-\d+p$", "", path.stem)


def choose_pairs(sources: list[tuple[str, Path]], count: int) -> list[tuple[int, int]]:
    """Indices of `count` pairs: half same-person, round-robin over identities; half not."""
    rng = random.Random(SEED)
    by_identity: dict[str, list[int]] = {}
    for index, (identity, _) in enumerate(sources):
        by_identity.setdefault(identity, []).append(index)
    per_identity = []
    for indices in by_identity.values():
        combos = [
            (i, j)
            for i, j in itertools.combinations(indices, 2)
            if scene(sources[i][1]) != scene(sources[j][1])
        ]
        rng.shuffle(combos)
        per_identity.append(combos)
    genuine = [pair for group in itertools.zip_longest(*per_identity) for pair in group if pair]
    impostor = [
        (i, j)
        for i, j in itertools.combinations(range(len(sources)), 2)
        if sources[i][0] != sources[j][0]
    ]
    rng.shuffle(impostor)
    n_genuine = min(count // 2, len(genuine))
    chosen = genuine[:n_genuine] + impostor[: count - n_genuine]
    rng.shuffle(chosen)
    return chosen


def build_pairs(data_dir: Path, count: int, workdir: Path) -> list[Pair]:
    """The benchmark pairs, their photos written as 1280x960 JPEGs under `workdir`."""
    sources = source_photos(data_dir)
    chosen = choose_pairs(sources, count)
    photos: dict[int, Photo] = {}
    for index in sorted({i for pair in chosen for i in pair}):
        identity, source = sources[index]
        target = workdir / f"{index:02d}-{identity}.jpg"
        to_bench_jpeg(source, target)
        photos[index] = Photo(identity, source, target)
    return [Pair(photos[i], photos[j]) for i, j in chosen]


# --- the two systems -----------------------------------------------------------------------


@dataclass
class Run:
    """One timed pair: total ms, ms per stage, the outcome (decision or error code), and
    whether the score alone is on the match side of the threshold (None when rejected)."""

    total_ms: float
    cpu_ms: float
    stages_ms: dict[str, float]
    outcome: str
    score_match: bool | None = None


@dataclass
class Clock:
    """Wall-clock and CPU time of this process since the clock was made."""

    wall: float = field(default_factory=time.perf_counter)
    cpu: float = field(default_factory=time.process_time)

    def ms(self) -> tuple[float, float]:
        """(wall ms, CPU ms) elapsed; CPU time is what another busy process cannot inflate."""
        return (time.perf_counter() - self.wall) * 1000, (time.process_time() - self.cpu) * 1000


@contextmanager
def lap(laps: dict[str, float], stage: str) -> Iterator[None]:
    """Add the milliseconds the block takes to `laps[stage]` (summed over both images)."""
    start = time.perf_counter()
    yield
    laps[stage] = laps.get(stage, 0.0) + (time.perf_counter() - start) * 1000


def run_simkyc(pipeline: FacePipeline, pair: Pair) -> Run:
    """Read both files and verify; an error (no face, poor quality) is an outcome too."""
    from simkyc.errors import SimkycError

    laps: dict[str, float] = {}
    score_match = None
    clock = Clock()
    try:
        with lap(laps, "read"):
            document, selfie = pair.a.path.read_bytes(), pair.b.path.read_bytes()
        result = pipeline.verify(document, selfie)
        outcome = result.decision.value
        score_match = result.score >= result.threshold
        laps.update(result.timings_ms)
    except SimkycError as error:
        outcome = f"error:{error.code}"
    return Run(*clock.ms(), laps, outcome, score_match)


def run_peer(pair: Pair) -> Run:
    """face_recognition's documented path; the largest face when it finds several."""
    import face_recognition  # type: ignore[import-not-found,import-untyped,unused-ignore]

    laps: dict[str, float] = {}
    clock = Clock()
    encodings: list[Any] = []
    outcome = ""
    for photo in (pair.a, pair.b):
        with lap(laps, "load"):
            image = face_recognition.load_image_file(str(photo.path))
        with lap(laps, "detect"):
            boxes = face_recognition.face_locations(image)
        if not boxes:
            outcome = "error:NO_FACE"
            break
        largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        with lap(laps, "encode"):
            encodings.append(face_recognition.face_encodings(image, [largest])[0])
    if not outcome:
        with lap(laps, "match"):
            distance = float(face_recognition.face_distance([encodings[0]], encodings[1])[0])
        outcome = "match" if distance <= PEER_TOLERANCE else "no_match"
    return Run(*clock.ms(), laps, outcome, outcome == "match")


def build_pipeline(recognizer: str | None = None) -> FacePipeline:
    """simkyc's pipeline from the environment's settings (with another recognizer when
    given), or a clear exit if uncalibrated."""
    from simkyc.config import get_settings
    from simkyc.errors import SimkycError
    from simkyc.faces.pipeline import FacePipeline

    settings = get_settings()
    if recognizer is not None:
        settings = settings.model_copy(update={"recognizer": recognizer})
    try:
        return FacePipeline.from_settings(settings)
    except SimkycError as error:
        message = f"Cannot build simkyc's pipeline: {error.code}: {error.message}"
        raise SystemExit(message) from error


# --- the run -------------------------------------------------------------------------------


BASELINE = "dlib-resnet-v1"  # today's simkyc pipeline before the OMZ model, same settings


@dataclass
class Results:
    """Every timed run of each system, in order: simkyc, simkyc with dlib, the peer, and
    simkyc with each `--also` recognizer."""

    simkyc: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)
    peer: list[Run] = field(default_factory=list)
    also: dict[str, list[Run]] = field(default_factory=dict)


def measure(
    pipeline: FacePipeline,
    baseline: FacePipeline,
    pairs: Sequence[Pair],
    repeat: int,
    *,
    profiler: cProfile.Profile | None = None,
    also: dict[str, FacePipeline] | None = None,
) -> Results:
    """Warm every system up on the first pair, then take turns pair by pair (the order
    rotates, so no system is always first). With `profiler`, simkyc's own timed runs (the
    default recognizer only) are profiled: where its time goes, function by function."""
    run_simkyc(pipeline, pairs[0])
    run_simkyc(baseline, pairs[0])
    run_peer(pairs[0])
    also = also or {}
    for extra in also.values():
        run_simkyc(extra, pairs[0])
    results = Results(also={name: [] for name in also})

    def ours(pair: Pair) -> Run:
        if profiler is None:
            return run_simkyc(pipeline, pair)
        profiler.enable()
        try:
            return run_simkyc(pipeline, pair)
        finally:
            profiler.disable()

    systems: list[tuple[Callable[[Pair], Run], list[Run]]] = [
        (ours, results.simkyc),
        (lambda pair: run_simkyc(baseline, pair), results.baseline),
        (run_peer, results.peer),
    ]
    systems += [(lambda pair, p=extra: run_simkyc(p, pair), results.also[name])
                for name, extra in also.items()]
    passes = itertools.chain.from_iterable(enumerate(pairs) for _ in range(repeat))
    for index, pair in passes:
        shift = index % len(systems)
        for run, runs in systems[shift:] + systems[:shift]:
            runs.append(run(pair))
    return results


# --- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method); the value itself for a single one."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def decided(run: Run) -> bool:
    """Whether the run reached a decision (match, no_match, review) rather than a rejection."""
    return not run.outcome.startswith("error:")


def timing(runs: Sequence[Run]) -> dict[str, Any]:
    """p50/p95/mean ms per pair, and median/mean ms per stage (in pipeline order), over `runs`."""
    if not runs:
        return {"runs": 0}
    totals = [r.total_ms for r in runs]
    per_stage = {
        stage: {"p50": statistics.median(v), "mean": statistics.fmean(v)}
        for stage in dict.fromkeys(k for r in runs for k in r.stages_ms)
        if (v := [r.stages_ms[stage] for r in runs if stage in r.stages_ms])
    }
    return {
        "runs": len(runs),
        "p50_ms": percentile(totals, 50),
        "p95_ms": percentile(totals, 95),
        "mean_ms": statistics.fmean(totals),
        "cpu_p50_ms": statistics.median(r.cpu_ms for r in runs),
        "stages_ms": per_stage,
    }


def summarise(runs: Sequence[Run], timed: Sequence[int], pairs: Sequence[Pair]) -> dict[str, Any]:
    """Timings over the `timed` runs and over all, and the decisions against the truth."""
    first = runs[: len(pairs)]  # the first pass; later ones repeat it
    outcomes = [r.outcome for r in first]
    correct = sum(
        o in {"match", "no_match"} and (o == "match") == p.same
        for o, p in zip(outcomes, pairs, strict=True)
    )
    by_score = sum(r.score_match == p.same for r, p in zip(first, pairs, strict=True))
    return {
        **timing([runs[k] for k in timed]),
        "all_pairs": timing(runs),
        "correct": correct,
        "correct_by_score": by_score,
        "pairs": len(pairs),
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "decisions": outcomes,
        "pair_p50_ms": [
            statistics.median(r.total_ms for r in runs[k :: len(pairs)]) for k in range(len(pairs))
        ],
    }


def figures(results: Results, pairs: Sequence[Pair], cpu: int, repeat: int) -> dict[str, Any]:
    """Everything printed, as one JSON-ready dict.

    The timings compare runs of the pairs both systems decided: a rejected photo (no face,
    poor quality, several faces) stops a system early and would flatter it. The rejections
    still count against its accuracy, and `all_pairs` times every run.
    """
    timed = [
        k
        for k, runs in enumerate(
            zip(results.simkyc, results.baseline, results.peer, *results.also.values(),
                strict=True)
        )
        if all(decided(run) for run in runs)
    ]
    if not timed:
        raise SystemExit("No pair was decided by every system; nothing to compare.")
    ours = summarise(results.simkyc, timed, pairs)
    base = summarise(results.baseline, timed, pairs)
    peer = summarise(results.peer, timed, pairs)
    also = {f"simkyc ({name})": summarise(runs, timed, pairs)
            for name, runs in results.also.items()}
    return {
        "image": f"{WIDTH}x{HEIGHT} JPEG q{JPEG_QUALITY}",
        "cpu": cpu,
        "load_average": os.getloadavg(),
        "repeat": repeat,
        "pairs": [{"a": str(p.a.source), "b": str(p.b.source), "same": p.same} for p in pairs],
        "simkyc": ours,
        f"simkyc ({BASELINE})": base,
        "face_recognition": peer,
        "vs_baseline_p50": ours["p50_ms"] / base["p50_ms"],
        "vs_baseline_cpu_p50": ours["cpu_p50_ms"] / base["cpu_p50_ms"],
        "speedup_p50": peer["p50_ms"] / ours["p50_ms"],
        "speedup_p95": peer["p95_ms"] / ours["p95_ms"],
        "speedup_cpu_p50": peer["cpu_p50_ms"] / ours["cpu_p50_ms"],
        "target_speedup": TARGET_SPEEDUP,
        **also,
        "also": list(also),
        "also_vs_baseline_p50": {k: v["p50_ms"] / base["p50_ms"] for k, v in also.items()},
        "also_vs_baseline_cpu_p50": {
            k: v["cpu_p50_ms"] / base["cpu_p50_ms"] for k, v in also.items()
        },
    }


def report(result: dict[str, Any]) -> str:
    """The human-readable summary."""
    pairs = result["pairs"]
    same = sum(p["same"] for p in pairs)
    names = ("simkyc", f"simkyc ({BASELINE})", "face_recognition", *result["also"])
    timed = result["simkyc"]["runs"] // result["repeat"]
    load = " / ".join(f"{v:.2f}" for v in result["load_average"])
    lines = [
        f"simkyc vs face_recognition, 1:1 verify, {result['image']}, one core (cpu "
        f"{result['cpu']}), {len(pairs)} pairs ({same} same, {len(pairs) - same} different) "
        f"x {result['repeat']} repeats, interleaved, warm-up excluded",
        f"timed: the {timed} of {len(pairs)} pairs that both systems decided (rejections are "
        "faster and would flatter a system; 'all pairs' includes them)",
        "",
        f"machine load average at the end (1/5/15 min): {load}; 'cpu p50' is this process's "
        "CPU time, which other processes cannot inflate",
        "",
        f"{'ms per pair':<30}{'p50':>9}{'p95':>9}{'mean':>9}{'cpu p50':>9}   all pairs p50 / p95",
    ]
    for name in names:
        s, a = result[name], result[name]["all_pairs"]
        lines.append(
            f"{name:<30}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['mean_ms']:>9.1f}"
            f"{s['cpu_p50_ms']:>9.1f}   {a['p50_ms']:>9.1f} / {a['p95_ms']:.1f}"
        )
    for name in names:
        lines += ["", f"{name + ' stages':<24}{'p50':>9}{'mean':>9}   (ms per pair, both images)"]
        for stage, v in result[name]["stages_ms"].items():
            lines.append(f"  {stage:<22}{v['p50']:>9.2f}{v['mean']:>9.2f}")
    lines.append("")
    for name in names:
        s = result[name]
        outcomes = ", ".join(f"{k} {v}" for k, v in s["outcomes"].items())
        lines.append(
            f"decisions vs truth, {name:<30}{s['correct']:>3}/{s['pairs']} correct ({outcomes})"
        )
    lines.append(
        "score vs the accept threshold alone: "
        f"simkyc {result['simkyc']['correct_by_score']}/{len(pairs)}, "
        f"simkyc ({BASELINE}) {result[names[1]]['correct_by_score']}/{len(pairs)}, "
        f"face_recognition {result['face_recognition']['correct_by_score']}/{len(pairs)} correct"
    )
    p50, p95 = result["speedup_p50"], result["speedup_p95"]
    verdict = "met" if min(p50, p95) >= result["target_speedup"] else "NOT met"
    lines += [
        "",
        f"speed-up face_recognition/simkyc: {p50:.1f}x at p50, {p95:.1f}x at p95 "
        f"(target >= {result['target_speedup']:.0f}x: {verdict}); "
        f"{result['speedup_cpu_p50']:.1f}x on CPU time at p50",
        f"simkyc / simkyc ({BASELINE}): {result['vs_baseline_p50']:.2f}x at p50, "
        f"{result['vs_baseline_cpu_p50']:.2f}x on CPU time at p50 (target <= 1)",
    ]
    for name in result["also"]:
        lines.append(
            f"{name} / simkyc ({BASELINE}): {result['also_vs_baseline_p50'][name]:.2f}x at p50, "
            f"{result['also_vs_baseline_cpu_p50'][name]:.2f}x on CPU time at p50"
        )
    return "\n".join(lines)


def pair_list(pairs: Sequence[Pair], data_dir: Path) -> str:
    """Which photos make each pair, relative to the data directory."""

    def rel(photo: Photo) -> str:
        return str(photo.source.relative_to(data_dir))

    return "\n".join(f"  {'same' if p.same else 'diff'}  {rel(p.a)}  |  {rel(p.b)}" for p in pairs)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="pairs (half same-person)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the pairs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--cprofile",
        type=Path,
        help="profile simkyc's timed runs (cProfile) into this file and print the top functions "
        "by cumulative time (profiling slows simkyc: read its timings from a run without it)",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="RECOGNIZER",
        help="also time simkyc with this recognizer in the same run (repeatable), e.g. "
        "omz-face-reid-0095-int8",
    )
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.repeat < 1:
        parser.error("--pairs and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cpu = pin_for_bench()
    import cv2

    from simkyc.config import get_settings

    cv2.setNumThreads(1)
    data_dir = get_settings().data_dir
    pipeline, baseline = build_pipeline(), build_pipeline(BASELINE)
    with tempfile.TemporaryDirectory(prefix="simkyc-bench-") as tmp:
        pairs = build_pairs(data_dir, args.pairs, Path(tmp))
        print(f"pairs (photos from {data_dir}):\n{pair_list(pairs, data_dir)}\n")
        profiler = cProfile.Profile() if args.cprofile else None
        also = {name: build_pipeline(name) for name in args.also}
        results = measure(pipeline, baseline, pairs, args.repeat, profiler=profiler, also=also)
    if profiler is not None:
        profiler.dump_stats(args.cprofile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    result = figures(results, pairs, cpu, args.repeat)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
