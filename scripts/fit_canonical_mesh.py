"""Fit the mean 3-D face of MediaPipe's 478-point mesh, the reference for head pose.

MediaPipe's face mesh gives x, y (normalised) and z (relative depth, in units of image width)
for 478 points. Averaging many faces after removing each one's rotation, scale and position
(generalised Procrustes analysis) gives a neutral, frontal reference: the pose of a frame is
then the rotation that fits this reference to the frame's 3-D landmarks.

Run: python scripts/fit_canonical_mesh.py [N_IMAGES]   (SIMKYC_DATA_DIR: LFW + CASIA)
Writes src/simkyc/liveness/data/canonical_face.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mediapipe as mp
import numpy as np
from numpy.typing import NDArray

from simkyc.config import get_settings
from simkyc.faces.decode import Decoder
from simkyc.liveness.pose import kabsch

OUT = Path(__file__).resolve().parents[1] / "src" / "simkyc" / "liveness" / "data"


def meshes(paths: list[Path]) -> list[NDArray[np.float64]]:
    """3-D landmarks (pixels; z scaled like x) of every image where one face is found."""
    decoder = Decoder(10**8, 10**8, 1600)
    found = []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as mesh:
        for path in paths:
            image = decoder.decode(path.read_bytes()).pixels
            result = mesh.process(image)
            if result.multi_face_landmarks and len(result.multi_face_landmarks) == 1:
                height, width = image.shape[:2]
                points = result.multi_face_landmarks[0].landmark
                found.append(np.array([(p.x * width, p.y * height, p.z * width) for p in points]))
    return found


def procrustes_mean(shapes: list[NDArray[np.float64]], rounds: int = 5) -> NDArray[np.float64]:
    """The mean shape after aligning every shape to it (unit size, centred)."""
    normalised = [(s - s.mean(axis=0)) / np.linalg.norm(s - s.mean(axis=0)) for s in shapes]
    mean = normalised[0]
    for _ in range(rounds):
        aligned = []
        for shape in normalised:
            rotation, scale, shift = kabsch(shape, mean)
            aligned.append(scale * shape @ rotation.T + shift)
        mean = np.mean(aligned, axis=0)
        mean = (mean - mean.mean(axis=0)) / np.linalg.norm(mean - mean.mean(axis=0))
    return mean


def main(limit: int) -> None:
    data = get_settings().data_dir
    paths = sorted((data / "lfw" / "images_deepfunneled").glob("*/*_0001.jpg"))[:limit]
    paths += sorted((data / "east-asian" / "casia-facev5-40").glob("*/*_0.bmp"))
    shapes = meshes(paths)
    mean = procrustes_mean(shapes)
    # Express the reference with the eyes level and the face looking down -z (frontal):
    # the mean of many slightly turned faces is frontal up to a small offset, which the
    # challenge checks cancel by measuring turns relative to the applicant's own start.
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "canonical_face.json").write_text(json.dumps({
        "source": f"{len(shapes)} faces: LFW *_0001.jpg (first {limit}) + CASIA-FaceV5 *_0.bmp",
        "command": f"python scripts/fit_canonical_mesh.py {limit}",
        "points": np.round(mean, 6).tolist(),
    }))
    print(f"{len(shapes)} faces -> {OUT / 'canonical_face.json'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 600)
