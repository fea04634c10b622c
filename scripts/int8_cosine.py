"""How close the INT8 recognizer's embeddings are to OpenVINO's int8 and to the FP16 model.

Real face chips (every 4th CASIA-FaceV5 image and every 150th LFW image, through the
product's detector, mesh landmarks and the model's alignment template, each chip and its
mirror) are embedded four ways:
  - `omz-face-reid-0095-int8`: the FP16-INT8 IR as our QDQ graph in ONNX Runtime (int8 kernels);
  - OpenVINO's own execution of the same IR (the `openvino` dev dependency; its CPU plugin runs
    the FakeQuantize regions on int8 kernels whatever the inference precision hint);
  - the same IR with each FakeQuantize emulated in float32 (our reader without int8 kernels);
  - `omz-face-reid-0095`: the FP16 IR in float32 (the default recognizer);
  - `omz-face-reid-0095-q8`: the FP16 IR's own weights quantised by us (per-channel int8
    weights, activation ranges from scripts/calibrate_q8.py) on ONNX Runtime's int8 kernels.
It prints the cosine (min, 5th percentile, median) of each comparison.

Run: PYTHONPATH=src .venv/bin/python scripts/int8_cosine.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from simkyc.config import get_settings
from simkyc.convert.openvino_ir import convert_openvino_ir
from simkyc.faces.detect import central_face
from simkyc.faces.models import cpu_session
from simkyc.faces.pipeline import FaceEncoder
from simkyc.faces.recognizers import BUILTIN, OMZ_REID_ID, OMZ_REID_INT8_SPEC, OMZ_REID_Q8_ID

Array = npt.NDArray[np.float32]


def chips(data_dir: Path) -> list[npt.NDArray[np.uint8]]:
    """The default pipeline's 128x128 chips and their mirrors."""
    settings = get_settings()
    encoder = FaceEncoder.from_settings(settings.model_copy(update={"recognizer": OMZ_REID_ID}))
    photos = (sorted((data_dir / "east-asian" / "casia-facev5-40").rglob("*.bmp"))[::4]
              + sorted((data_dir / "lfw" / "images_deepfunneled").rglob("*.jpg"))[::150])
    out = []
    for photo in photos:
        pixels = encoder.decoder.decode(photo.read_bytes()).pixels
        faces = encoder.detector.detect(pixels)
        if not faces:
            continue
        face = central_face(faces, pixels.shape[1], pixels.shape[0])
        chip = encoder.align_face(pixels, face)
        out += [chip, np.ascontiguousarray(chip[:, ::-1])]
    return out


def onnx_run(path: Path, tensor: Array) -> Array:
    session = cpu_session(path, 1)
    return np.concatenate([session.run(None, {"chips": tensor[i : i + 2]})[0]
                           for i in range(0, len(tensor), 2)])


def openvino_run(xml: Path, tensor: Array) -> Array:
    import openvino as ov

    compiled = ov.Core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return np.concatenate([compiled(tensor[i : i + 1])[0].reshape(1, -1)
                           for i in range(len(tensor))])


def cosines(a: Array, b: Array) -> Array:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    result: Array = np.sum(a * b, axis=1)
    return result


def main() -> None:
    settings = get_settings()
    spec = OMZ_REID_INT8_SPEC
    tensor = spec.input.tensor(chips(settings.data_dir))
    xml = settings.models_dir / spec.filename
    with tempfile.TemporaryDirectory() as tmp:
        emulated_path = Path(tmp) / "emulated.onnx"
        convert_openvino_ir(xml, xml.with_suffix(".bin"), emulated_path)
        emulated = onnx_run(emulated_path, tensor)
    ours = onnx_run(spec.locate(settings.models_dir, settings.cache_dir), tensor)
    fp16 = onnx_run(BUILTIN[OMZ_REID_ID].locate(settings.models_dir, settings.cache_dir), tensor)
    theirs = openvino_run(xml, tensor)
    q8 = onnx_run(BUILTIN[OMZ_REID_Q8_ID].locate(settings.models_dir, settings.cache_dir), tensor)
    print(f"{len(tensor)} chips (faces and mirrors)")
    for name, a, b in (("ONNX Runtime int8 (QDQ) vs OpenVINO int8", ours, theirs),
                       ("ONNX Runtime int8 (QDQ) vs FP16", ours, fp16),
                       ("OpenVINO int8 vs FP16", theirs, fp16),
                       ("ONNX Runtime q8 (FP16 weights, ours) vs FP16", q8, fp16),
                       ("float32 emulation vs OpenVINO int8", emulated, theirs)):
        c = cosines(a, b)
        print(f"{name:<46} min {c.min():.5f}  p5 {np.percentile(c, 5):.5f}  "
              f"p50 {np.median(c):.5f}")


if __name__ == "__main__":
    main()
