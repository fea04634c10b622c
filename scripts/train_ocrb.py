"""Train simkyc's own OCR-B recognizer (`simkyc.documents.ocrb`) on synthetic MRZ lines.

Reproducible: every line is drawn from `numpy.random.default_rng(seed)` (`ocrb_lines`), the
MLP's initial weights and batches from the same generator; numpy only, on CPU. Never trained
on the real specimens (they are evaluation data). Writes the weights (float16, .npz) and
prints their SHA-256, which goes into `ocrb.WEIGHTS_SHA256`.

    PYTHONPATH=src nice -n 5 python scripts/train_ocrb.py --seed 7 \
        --out src/simkyc/documents/ocrb_mlp.npz
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simkyc.documents.ocrb import (
    CLASSES,
    TRAIN_STRIDE,
    OcrbRecognizer,
    grey,
    text_rows,
    windows,
)
from simkyc.synth.ocrb_lines import random_text, render_line

CENTRED, BETWEEN = 0.15, 0.3  # pitches from a character's centre: its label; blank


def samples(rng: np.random.Generator, lines: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Windows and labels (0 blank, 1.. CLASSES) from `lines` synthetic lines."""
    inputs, labels = [], []
    for _ in range(lines):
        width = int(rng.choice([30, 36, 44]))
        line = render_line(random_text(rng, width), rng)
        g = grey(line.strip)
        x, centres = windows(g, text_rows(g), stride=TRAIN_STRIDE)
        truth = np.asarray(line.centres)
        distance = np.abs(centres[:, None] - truth[None, :]) / line.pitch
        nearest = distance.argmin(axis=1)
        near = distance[np.arange(len(centres)), nearest]
        label = np.array([CLASSES.index(line.text[i]) for i in nearest], np.int64)
        label[near >= BETWEEN] = 0
        keep = (near <= CENTRED) | (near >= BETWEEN)
        inputs.append(x[keep])
        labels.append(label[keep])
    return np.concatenate(inputs), np.concatenate(labels)


def train(x: NDArray[np.float32], y: NDArray[np.int64], rng: np.random.Generator, *,
          hidden: tuple[int, ...], epochs: int, batch: int = 256, rate: float = 2e-3
          ) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """A ReLU MLP fitted by Adam on softmax cross-entropy."""
    sizes = (x.shape[1], *hidden, len(CLASSES))
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        w = rng.normal(0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)).astype(np.float32)
        params += [w, np.zeros(fan_out, np.float32)]
    moments = [np.zeros_like(p) for p in params] + [np.zeros_like(p) for p in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        lr = rate * (0.5 ** max(0, epoch - epochs // 2))
        total = 0.0
        for start in range(0, len(x) - batch + 1, batch):
            idx = order[start : start + batch]
            grads, loss = _gradients(params, x[idx], y[idx])
            total += loss
            step += 1
            for i, grad in enumerate(grads):
                m, v = moments[i], moments[len(params) + i]
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                m_hat = m / (1 - 0.9**step)
                v_hat = v / (1 - 0.999**step)
                params[i] -= (lr * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(np.float32)
        print(f"epoch {epoch}: loss {total / max(1, len(x) // batch):.4f}", flush=True)
    return [(params[i], params[i + 1]) for i in range(0, len(params), 2)]


def _gradients(params: list[NDArray[np.float32]], x: NDArray[np.float32],
               y: NDArray[np.int64]) -> tuple[list[NDArray[np.float32]], float]:
    activations = [x]
    count = len(params) // 2
    for i in range(count):
        z = activations[-1] @ params[2 * i] + params[2 * i + 1]
        activations.append(np.maximum(z, 0.0) if i < count - 1 else z)
    logits = activations[-1]
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = float(-np.log(probs[np.arange(len(y)), y] + 1e-12).mean())
    delta = probs
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    grads: list[NDArray[np.float32]] = [np.zeros(0, np.float32)] * len(params)
    for i in reversed(range(count)):
        grads[2 * i] = (activations[i].T @ delta).astype(np.float32)
        grads[2 * i + 1] = delta.sum(axis=0).astype(np.float32)
        if i > 0:
            delta = (delta @ params[2 * i].T) * (activations[i] > 0)
    return grads, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lines", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden", default="256,128")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    x, y = samples(rng, args.lines)
    print(f"{len(x)} windows from {args.lines} lines in {time.perf_counter() - start:.0f} s"
          f" ({(y == 0).mean():.0%} blank)", flush=True)
    held_x, held_y = samples(np.random.default_rng(args.seed + 1000), max(50, args.lines // 20))
    hidden = tuple(int(size) for size in args.hidden.split(","))
    layers = train(x, y, rng, hidden=hidden, epochs=args.epochs)
    arrays: dict[str, NDArray[np.float16]] = {}
    for i, (w, b) in enumerate(layers):
        arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float16), b.astype(np.float16)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # not compressed: the same bytes for the same weights
    args.out.write_bytes(buffer.getvalue())
    model = OcrbRecognizer.load(args.out, sha256=None)
    accuracy = float((model.log_probabilities(held_x).argmax(axis=1) == held_y).mean())
    print(f"held-out synthetic windows: {accuracy:.2%} right ({len(held_x)})")
    print(f"sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}  {args.out}")


if __name__ == "__main__":
    main()
