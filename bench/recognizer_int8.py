"""The OMZ recognizer's embed time on one core: the FP16-INT8 IR on ONNX Runtime's int8 kernels
against the FP16 IR in float32, in the same run; and which kernels ONNX Runtime really runs.

What it measures
    Both graphs come from the project's own IR reader (`omz-face-reid-0095`: FP16 weights in
    float32; `omz-face-reid-0095-int8`: FakeQuantize as QDQ, see `simkyc.convert.qdq`), each
    in an ONNX Runtime session with one thread and the options `OnnxEmbedder` uses.
    - per chip: one 128x128 chip per run (batch 1);
    - per pair: what `bench/verify.py`'s embed stage runs, two faces, each a batch of two
      (the chip and its mirror);
    CPU time (this process, pinned to one core) and wall time, median over `--runs`, the two
    models alternating run by run. The chips are fixed pseudo-random pixels (the kernels'
    time does not depend on the pixel values).
    - kernels: ONNX Runtime's own profiler over the int8 session; the kernel time by
      operator type, so a float fallback (Conv instead of QLinearConv) shows.

Run
    PYTHONPATH=src .venv/bin/python bench/recognizer_int8.py [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from onecore import pin_to_one_core

HEAVY_MODULES = ("numpy", "cv2", "onnxruntime")
MODELS = ("omz-face-reid-0095", "omz-face-reid-0095-int8")


def session(path: Path, profile_prefix: str | None = None) -> Any:
    """One-thread ONNX Runtime session, as `OnnxEmbedder` makes it (plus profiling if asked)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(CPU ms, wall ms) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def measure(paths: dict[str, Path], runs: int) -> dict[str, dict[str, float]]:
    """Median CPU and wall ms per chip and per pair for each model, runs interleaved."""
    import numpy as np

    rng = np.random.default_rng(128)
    chip = rng.uniform(0, 255, (1, 3, 128, 128)).astype(np.float32)
    face = np.concatenate([chip, chip[..., ::-1]])  # the chip and its mirror
    sessions = {name: session(path) for name, path in paths.items()}
    work: dict[str, Callable[[Any], object]] = {
        "chip": lambda s: s.run(None, {"chips": chip}),
        "pair": lambda s: [s.run(None, {"chips": face}) for _ in range(2)],
    }
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for warm in sessions.values():  # warm-up
        for call in work.values():
            call(warm)
    for index in range(runs):
        order = list(sessions.items())
        for name, s in order[index % 2 :] + order[: index % 2]:
            for kind, call in work.items():
                samples.setdefault((name, kind), []).append(timed(lambda c=call, t=s: c(t)))
    return {
        name: {
            f"{kind}_{clock}": statistics.median(v[i] for v in samples[(name, kind)])
            for kind in work
            for i, clock in enumerate(("cpu_ms", "wall_ms"))
        }
        for name in sessions
    }


def kernels(path: Path, runs: int) -> Counter[str]:
    """Kernel microseconds by operator type over `runs` pair-embeds, ONNX Runtime's profiler."""
    import numpy as np

    face = np.random.default_rng(1).uniform(0, 255, (2, 3, 128, 128)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        s = session(path, str(Path(tmp) / "int8"))
        for _ in range(runs):
            s.run(None, {"chips": face})
        events = json.loads(Path(s.end_profiling()).read_text())
    totals: Counter[str] = Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += int(event["dur"])
    return totals


def report(times: dict[str, dict[str, float]], by_op: Counter[str], runs: int) -> str:
    fp32, int8 = (times[name] for name in MODELS)
    lines = [f"{'ms, one core, median':<34}{'chip cpu':>10}{'chip wall':>10}"
             f"{'pair cpu':>10}{'pair wall':>10}"]
    for name in MODELS:
        t = times[name]
        lines.append(f"{name:<34}{t['chip_cpu_ms']:>10.2f}{t['chip_wall_ms']:>10.2f}"
                     f"{t['pair_cpu_ms']:>10.2f}{t['pair_wall_ms']:>10.2f}")
    lines += [
        f"fp32 / int8: {fp32['chip_cpu_ms'] / int8['chip_cpu_ms']:.2f}x per chip, "
        f"{fp32['pair_cpu_ms'] / int8['pair_cpu_ms']:.2f}x per pair (CPU time)",
        "",
        f"int8 graph, kernel time by operator ({runs} runs of a batch of two; wall ms per run, "
        "which a busy machine inflates: read the shares):",
    ]
    total = sum(by_op.values())
    for op, micros in by_op.most_common():
        lines.append(f"  {op:<28}{micros / runs / 1000:>8.3f}  {100 * micros / total:5.1f}%")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per model and kind")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cpu = pin_to_one_core(HEAVY_MODULES)
    from simkyc.config import get_settings
    from simkyc.faces.recognizers import BUILTIN

    settings = get_settings()
    paths = {name: BUILTIN[name].locate(settings.models_dir, settings.cache_dir)
             for name in MODELS}
    times = measure(paths, args.runs)
    by_op = kernels(paths[MODELS[1]], max(args.runs // 4, 10))
    print(f"cpu {cpu}; graphs: " + ", ".join(f"{k}: {v.name}" for k, v in paths.items()))
    print(report(times, by_op, max(args.runs // 4, 10)))


if __name__ == "__main__":
    main()
