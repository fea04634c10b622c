"""How far each recognizer's embedding moves when the landmarks move by a hundredth of a pixel.

A quantised network rounds its activations to int8; a tiny change of its input flips some of
those roundings, and their steps flip more downstream. This measures that noise: for every
5th CASIA-FaceV5 image (40 faces, through the product's detector and mesh landmarks) each
recognizer embeds the aligned chip, then `--draws` chips aligned on the five landmarks
shifted by Gaussian noise of `--shift` px (seeded), and prints the cosine of each to the
unshifted embedding (median, 5th percentile, minimum), with the share of chip values the
shift changed (uint8 chips: a value changes by one level when its sample point crosses a
1/32-px step of cv2.warpAffine's interpolation table).

Run: PYTHONPATH=src .venv/bin/python scripts/recognizer_jitter.py [--shift 0.01] [--draws 3]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from simkyc.config import Settings, get_settings
from simkyc.faces.pipeline import FaceEncoder

RECOGNIZERS = ("omz-face-reid-0095", "omz-face-reid-0095-q8", "omz-face-reid-0095-int8",
               "dlib-resnet-v1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shift", type=float, default=0.01, help="landmark noise, px (sd)")
    parser.add_argument("--draws", type=int, default=3, help="shifted chips per face")
    args = parser.parse_args()
    base = get_settings()
    folder = base.data_dir / "east-asian" / "casia-facev5-40"
    files = sorted(folder.rglob("*.bmp"))[::5][:40]
    encoders = {r: FaceEncoder.from_settings(Settings(**{**base.model_dump(), "recognizer": r}))
                for r in RECOGNIZERS}
    reference = encoders[RECOGNIZERS[0]]
    rng = np.random.default_rng(0)
    cosines: dict[str, list[float]] = {r: [] for r in RECOGNIZERS}
    changed: list[float] = []
    for path in files:
        pixels = reference.decoder.decode(path.read_bytes()).pixels
        face = reference.detector.detect(pixels)[0]
        if reference.landmarks is not None:
            face = reference.landmarks.refine(pixels, face)
        shifts = [rng.normal(0.0, args.shift, face.landmarks.shape).astype(np.float32)
                  for _ in range(args.draws)]
        for name, encoder in encoders.items():
            chip = encoder.aligner.align(pixels, face)
            still = encoder.embedder.embed([chip])[0]
            for shift in shifts:
                shifted = replace(face, landmarks=face.landmarks + shift)
                moved = encoder.aligner.align(pixels, shifted)
                if name == RECOGNIZERS[0]:
                    changed.append(float((moved != chip).mean()))
                cosines[name].append(float(still @ encoder.embedder.embed([moved])[0]))
    print(f"{len(files)} faces x {args.draws} draws, landmarks shifted by N(0, {args.shift} px); "
          f"chip values changed: median {100 * np.median(changed):.1f}%")
    for name, values in cosines.items():
        v = np.array(values)
        print(f"{name:26s} cosine to the unshifted chip's: median {np.median(v):.6f}  "
              f"p5 {np.percentile(v, 5):.6f}  min {v.min():.6f}")


if __name__ == "__main__":
    main()
