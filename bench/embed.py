"""The embed stage on one core: the default recognizer against the dlib ResNet, in the same run,
and where each network's time goes.

What it measures
    The embed stage exactly as `bench/verify.py`'s pipelines run it: `OnnxEmbedder.embed([chip])`
    of the pipeline built from settings (the chip and its mirror in one batch of two, flip
    averaging on), on real aligned chips (the face_recognition example photos that
    `bench/verify.py` uses, detected, mesh-aligned, cut by each recognizer's own aligner;
    untimed). Per image: the process's CPU time (the steadier figure on a shared machine) of
    - the whole `embed` call,
    - building the input tensor (`InputSpec.tensor`),
    - the network alone (`session.run` on a ready tensor);
    median over `--rounds`, the recognizers alternating round by round. Then ONNX Runtime's own
    profiler over `--profile-runs` batches of two: kernel time by operator class, with each
    convolution class's multiply-adds (from the shapes) and the rate it ran at, so the
    floor each network has on this CPU shows: the multiply-adds of the convolutions that run
    near the machine's peak, and the time of everything else.

How
    One CPU and one thread per pool (`onecore.pin_to_one_core`) before numpy, cv2 or
    onnxruntime are imported; the same session options as the pipeline (`OnnxEmbedder`).

Run
    PYTHONPATH=src .venv/bin/python bench/embed.py [--rounds 15] [--also RECOGNIZER]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onecore import pin_to_one_core

if TYPE_CHECKING:
    from simkyc.faces.embed import OnnxEmbedder
    from simkyc.faces.pipeline import FaceEncoder

HEAVY_MODULES = ("numpy", "cv2", "onnxruntime")
BASELINE = "dlib-resnet-v1"


def encoder_for(recognizer: str | None) -> FaceEncoder:
    """The pipeline's encoder from settings, with another recognizer when given."""
    from simkyc.config import get_settings
    from simkyc.faces.pipeline import FaceEncoder

    settings = get_settings()
    if recognizer is not None:
        settings = settings.model_copy(update={"recognizer": recognizer})
    return FaceEncoder.from_settings(settings)


def real_chips(encoder: FaceEncoder, photos: Sequence[Path]) -> list[Any]:
    """Each photo's applicant, aligned for this encoder's recognizer (photos without one are
    left out)."""
    from simkyc.errors import SimkycError
    from simkyc.faces.detect import central_face

    chips = []
    for photo in photos:
        try:
            pixels = encoder.decoder.decode(photo.read_bytes()).pixels
            face = central_face(encoder.detector.detect(pixels), pixels.shape[1],
                                pixels.shape[0])
            chips.append(encoder.align_face(pixels, face))
        except SimkycError:
            continue
    return chips


def cpu_ms(run: Callable[[], object]) -> float:
    """CPU milliseconds of one call of `run`."""
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1000


def measure(encoders: dict[str, FaceEncoder], chips: dict[str, list[Any]],
            rounds: int) -> dict[str, dict[str, float]]:
    """Median CPU ms per image of the embed call, the tensor and the network, interleaved."""
    samples: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in encoders}
    for name, encoder in encoders.items():
        encoder.embedder.embed([chips[name][0]])  # session created, warm
    for index in range(rounds):
        order = list(encoders) if index % 2 == 0 else list(encoders)[::-1]
        for name in order:
            for part, ms in one_round(encoders[name].embedder, chips[name]).items():
                samples[name][part].append(ms)
    return {name: {part: statistics.median(v) for part, v in parts.items()}
            for name, parts in samples.items()}


def one_round(embedder: OnnxEmbedder, chips: list[Any]) -> dict[str, float]:
    """CPU ms per image of the whole embed call, the input tensor and the network alone."""
    tensors = [embedder.spec.tensor([chip], mirrors=embedder.flip) for chip in chips]
    return {
        "embed": cpu_ms(lambda: [embedder.embed([chip]) for chip in chips]) / len(chips),
        "tensor": cpu_ms(lambda: [embedder.spec.tensor([chip], mirrors=embedder.flip)
                                  for chip in chips]) / len(chips),
        "network": cpu_ms(lambda: [embedder.infer(tensor) for tensor in tensors]) / len(chips),
    }


def conv_class(weights: Sequence[int], output: Sequence[int]) -> str:
    """depthwise / pointwise / squeeze-excitation / other, from a Conv's weight and output
    shapes."""
    if output[2] == 1 and output[3] == 1:
        return "Conv to a 1x1 map (SE, global)"
    if weights[1] == 1 and weights[0] > 1:
        return "Conv depthwise"
    if weights[2] == 1 and weights[3] == 1:
        return "Conv pointwise (1x1)"
    return "Conv kxk"


def kernel_profile(encoder: FaceEncoder, chips: list[Any], runs: int) -> dict[str, list[float]]:
    """ONNX Runtime's profiler over `runs` batches of chip + mirror: [kernel us per batch,
    multiply-adds (millions) per batch] by operator class."""
    import onnxruntime as ort

    embedder = encoder.embedder
    with tempfile.TemporaryDirectory(prefix="simkyc-embed-") as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        session = ort.InferenceSession(str(embedder.model_path), options,
                                       providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        for index in range(runs):
            chip = chips[index % len(chips)]
            session.run(None, {name: embedder.spec.tensor([chip], mirrors=embedder.flip)})
        events = json.loads(Path(session.end_profiling()).read_text())
    per_node: dict[str, list[float]] = defaultdict(list)
    kind: dict[str, tuple[str, float]] = {}
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        per_node[event["name"]].append(float(event["dur"]))
        kind[event["name"]] = _op_class(event["args"])
    by_class: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for node, durations in per_node.items():
        op, macs = kind[node]
        by_class[op][0] += statistics.median(durations[len(durations) // 4:])
        by_class[op][1] += macs / 1e6
    return dict(by_class)


def _op_class(args: dict[str, Any]) -> tuple[str, float]:
    """(operator class, multiply-adds) of one profiled node."""
    op = str(args["op_name"])
    if op != "Conv":
        return op, 0.0
    shapes = [next(iter(s.values())) for s in args["input_type_shape"]]
    out = next(iter(args["output_type_shape"][0].values()))
    weights = shapes[1]
    macs = float(out[0] * out[1] * out[2] * out[3] * weights[1] * weights[2] * weights[3])
    return conv_class(weights, out), macs


def report(times: dict[str, dict[str, float]], profiles: dict[str, dict[str, list[float]]],
           cpu: int, count: dict[str, int], rounds: int) -> str:
    """The human-readable summary."""
    lines = [
        f"embed stage, one core (cpu {cpu}), chip + mirror in one batch, {rounds} rounds "
        "interleaved; CPU ms per image, median",
        f"{'recognizer':<28}{'chips':>6}{'embed':>9}{'tensor':>9}{'network':>9}",
    ]
    for name, t in times.items():
        lines.append(f"{name:<28}{count[name]:>6}{t['embed']:>9.2f}{t['tensor']:>9.3f}"
                     f"{t['network']:>9.2f}")
    base = times[BASELINE]
    for name, t in times.items():
        if name != BASELINE:
            lines.append(f"{name} / {BASELINE}: embed {t['embed'] / base['embed']:.3f}x, "
                         f"network {t['network'] / base['network']:.3f}x")
    for name, by_class in profiles.items():
        total = sum(us for us, _ in by_class.values())
        macs = sum(m for _, m in by_class.values())
        lines += ["", f"{name}: ONNX Runtime kernel time per batch of two, {total / 1000:.2f} ms, "
                  f"{macs:.0f} M multiply-adds",
                  f"  {'operator class':<34}{'ms':>7}{'share':>8}{'M MAC':>9}{'GMAC/s':>8}"]
        for op, (us, m) in sorted(by_class.items(), key=lambda kv: -kv[1][0]):
            rate = f"{m / us * 1000:8.1f}" if m else ""  # M MAC per us = 1000 GMAC/s
            lines.append(f"  {op:<34}{us / 1000:>7.3f}{us / total:>8.1%}{m:>9.1f}{rate}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--profile-runs", type=int, default=60,
                        help="batches run under ONNX Runtime's profiler per recognizer")
    parser.add_argument("--also", action="append", default=[], metavar="RECOGNIZER",
                        help="also time this recognizer (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.profile_runs < 1:
        parser.error("--rounds and --profile-runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cpu = pin_to_one_core(HEAVY_MODULES)
    import cv2
    from verify import source_photos

    from simkyc.config import get_settings

    cv2.setNumThreads(1)
    photos = [path for _, path in source_photos(get_settings().data_dir)]
    default = encoder_for(None)
    names = [get_settings().recognizer, BASELINE, *args.also]
    encoders = {name: default if name == names[0] else encoder_for(name)
                for name in dict.fromkeys(names)}
    chips = {name: real_chips(encoder, photos) for name, encoder in encoders.items()}
    times = measure(encoders, chips, args.rounds)
    profiles = {name: kernel_profile(encoder, chips[name], args.profile_runs)
                for name, encoder in encoders.items()}
    count = {name: len(c) for name, c in chips.items()}
    print(report(times, profiles, cpu, count, args.rounds))
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu, "times_ms": times, "kernels": profiles,
                                         "chips": count}, indent=2) + "\n")


if __name__ == "__main__":
    main()
