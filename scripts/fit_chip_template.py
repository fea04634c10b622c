"""Fit where YuNet's five landmarks fall, on average, in dlib's 150x150 face chip.

dlib's ResNet was trained on chips that dlib cuts with its own 5-point landmark model
(`get_face_chip(img, shape, size=150, padding=0.25)`). To cut the same chips from YuNet's
landmarks alone, we need YuNet's points in that chip's frame. A chip of size 300 with
padding 1.0 has the same scale (100 px per template unit) with 75 px more margin, so YuNet
run on it gives the points in the 150-chip's frame after subtracting 75.

Run: python scripts/fit_chip_template.py N_IMAGES [--mesh]   (needs dlib-bin, SIMKYC_DATA_DIR)
(--mesh: the points of MediaPipe's face mesh in YuNet's crop, as the pipeline takes them)
Prints the mean and spread of each point; align.py quotes the result.
"""

from __future__ import annotations

import sys

import dlib
import numpy as np

from simkyc.config import get_settings
from simkyc.faces.decode import Decoder
from simkyc.faces.detect import MeshLandmarks, YuNetDetector
from simkyc.faces.models import dlib_model_file


def main(limit: int) -> None:
    settings = get_settings()
    images = sorted((settings.data_dir / "lfw" / "images_deepfunneled").glob("*/*_0001.jpg"))
    hog = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dlib_model_file("shape_predictor_5_face_landmarks.dat")))
    yunet = YuNetDetector(settings.models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    decoder = Decoder(10**8, 10**8, 4000)
    mesh = MeshLandmarks() if "--mesh" in sys.argv else None
    points = []
    for path in images[:limit]:
        image = decoder.decode(path.read_bytes()).pixels
        boxes = hog(image, 1)
        if len(boxes) != 1:
            continue
        chip = dlib.get_face_chip(image, predictor(image, boxes[0]), size=300, padding=1.0)
        faces = yunet.detect(np.ascontiguousarray(chip))
        if len(faces) == 1:
            face = mesh.refine(np.ascontiguousarray(chip), faces[0]) if mesh else faces[0]
            points.append(face.landmarks - 75.0)
    stack = np.stack(points)
    print(f"{len(stack)} faces")
    print("mean:", np.array2string(stack.mean(axis=0), precision=3, separator=", "))
    print("std: ", np.array2string(stack.std(axis=0), precision=3, separator=", "))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
