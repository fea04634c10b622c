"""Recognizers: a model id + file + input spec; a stronger model is a configuration change."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from simkyc.errors import ModelUnavailable
from simkyc.faces.align import ARCFACE_112, DLIB_CHIP_150, DLIB_CHIP_150_YUNET, OMZ_REID_128
from simkyc.faces.embed import InputSpec, Layout
from simkyc.faces.models import dlib_model_file, sha256_of, verified_file

if TYPE_CHECKING:
    from simkyc.convert.qdq import ActivationRanges, Range

logger = logging.getLogger(__name__)

DLIB_RESNET_ID = "dlib-resnet-v1"
DLIB_RESNET_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"

OMZ_REID_ID = "omz-face-reid-0095"
OMZ_REID_INT8_ID = "omz-face-reid-0095-int8"
OMZ_REID_Q8_ID = "omz-face-reid-0095-q8"
# The q8 recognizer's activation ranges (package data, simkyc/faces/data), computed offline by
# scripts/calibrate_q8.py from faces in no evaluation set; pinned, and bound inside to the
# FP16 IR's SHA-256 so ranges made for another model never serve.
OMZ_REID_Q8_RANGES = "omz-face-reid-0095-q8-ranges.json"
OMZ_REID_Q8_RANGES_SHA256 = "dd6b38ec297c45c713fea4ce01d8dfa91f53c970b10d7335a11aee9360e4c177"
# Pinned from ../shared/models/omz-face-reid-0095/SOURCE.txt (xml, bin) per precision.
OMZ_REID_FP16 = (
    "omz-face-reid-0095/FP16/face-reidentification-retail-0095",
    "ce53d2c9c08c0bd1c1660fb8a5b6d0e3e4ec19eb92f1036d2d83a85e83082dce",
    "241229ca3d206321868d46ce74a3c0b06c49cea58db7dc70b2e842ff287545d1",
)
OMZ_REID_INT8 = (
    "omz-face-reid-0095/FP16-INT8/face-reidentification-retail-0095",
    "06626e796a2c308f5ff32b3045d5587ad5a83ba62a63797bb7e10c735a6da1fc",
    "b422592479d85804b7bb52c37f4663f3ef33ac9f2154d6072f09c2e251890aec",
)
OMZ_REID_LICENCE = (
    "Apache-2.0 (Intel Open Model Zoo). Training data not stated in the model card; Intel's "
    "training_extensions lists a snapshot with the same LFW figure trained on VGGFace2 "
    "(research data, CC BY-NC-SA 4.0, ~9k identities, few East Asian)"
)


class Source(StrEnum):
    """What file a recognizer comes from: ONNX as is, or converted once into the cache."""

    ONNX = "onnx"
    DLIB_DAT = "dlib-dat"
    OPENVINO_IR = "openvino-ir"


@dataclass(frozen=True)
class RecognizerSpec:
    """A recognizer: where its file is, its pinned checksum(s) and upstream, its input."""

    model_id: str
    filename: str
    input: InputSpec
    sha256: str | None = None
    url: str | None = None
    licence: str = ""
    source: Source = Source.ONNX
    weights_sha256: str | None = None  # the .bin of an OpenVINO IR
    int8_kernels: bool = False  # an INT8 IR converted to QDQ for ONNX Runtime's int8 kernels
    # A float IR quantised by us (q8): its activation ranges file in simkyc/faces/data, pinned.
    ranges_file: str | None = None
    ranges_sha256: str | None = None

    def locate(self, models_dir: Path, cache_dir: Path) -> Path:
        """The verified ONNX file: in the models folder (or the cache, for derived models)."""
        if self.source is Source.DLIB_DAT:
            return _dlib_resnet_onnx(cache_dir)
        if self.source is Source.OPENVINO_IR:
            return _openvino_ir_onnx(self, models_dir, cache_dir)
        return verified_file(models_dir / self.filename, self.sha256)


def _tuple_template(points: object) -> tuple[tuple[float, float], ...]:
    """A template array as the hashable tuple InputSpec keeps."""
    return tuple((float(x), float(y)) for x, y in points)  # type: ignore[attr-defined]


def _omz_reid_spec(
    model_id: str,
    stem: str,
    xml_sha: str,
    bin_sha: str,
    *,
    int8_kernels: bool = False,
    ranges: tuple[str, str] | None = None,
    licence: str = OMZ_REID_LICENCE,
) -> RecognizerSpec:
    """face-reidentification-retail-0095 in one of its precisions."""
    return RecognizerSpec(
        model_id=model_id,
        filename=f"{stem}.xml",
        # The IR takes BGR 0-255 NCHW with no mean or scale (SOURCE.txt, model card).
        input=InputSpec(128, _tuple_template(OMZ_REID_128), Layout.NCHW, bgr=True,
                        mean=0.0, scale=1.0),
        sha256=xml_sha,
        weights_sha256=bin_sha,
        url="https://github.com/openvinotoolkit/open_model_zoo/tree/master/models/intel/"
        "face-reidentification-retail-0095",
        licence=licence,
        source=Source.OPENVINO_IR,
        int8_kernels=int8_kernels,
        ranges_file=None if ranges is None else ranges[0],
        ranges_sha256=None if ranges is None else ranges[1],
    )


# The FP16-INT8 IR on ONNX Runtime's int8 kernels (its FakeQuantize as QDQ, see
# simkyc.convert.qdq), an option: 4.76 vs 7.50 ms of CPU per chip (FP16 in float32), one
# thread (bench/recognizer_int8.py, 2026-12-05); slightly less accurate (README, Figures).
# Emulated in float32 (until 2026-12-05) it was slower than FP16 and was not offered.
OMZ_REID_INT8_SPEC = _omz_reid_spec(OMZ_REID_INT8_ID, *OMZ_REID_INT8, int8_kernels=True)

# The default (config.Settings.recognizer): the FP16 IR's own weights on ONNX Runtime's int8
# kernels, weights quantised per output channel at conversion, activations over the committed
# ranges (README, Recognizers). Held-out chips: cosine to FP16 per face median 0.9955, 5th
# percentile 0.9931, min 0.9904 (scripts/calibrate_q8.py, per-channel ranges into depthwise
# convolutions).
OMZ_REID_Q8_SPEC = _omz_reid_spec(
    OMZ_REID_Q8_ID, *OMZ_REID_FP16,
    ranges=(OMZ_REID_Q8_RANGES, OMZ_REID_Q8_RANGES_SHA256),
    licence=f"{OMZ_REID_LICENCE}. Weights quantised to int8 by simkyc from the FP16 IR "
    "(activation ranges in simkyc/faces/data, from faces in no evaluation set)",
)


BUILTIN: Mapping[str, RecognizerSpec] = {
    DLIB_RESNET_ID: RecognizerSpec(
        model_id=DLIB_RESNET_ID,
        filename="dlib_face_recognition_resnet_model_v1.dat",
        # The converted graph takes raw 0-255 RGB NHWC and does dlib's own normalisation.
        input=InputSpec(150, _tuple_template(DLIB_CHIP_150), Layout.NHWC, mean=0.0, scale=1.0,
                        detector_template=_tuple_template(DLIB_CHIP_150_YUNET)),
        sha256=DLIB_RESNET_SHA256,
        licence="CC0 (Davis King, dlib); weights from the face_recognition_models package",
        source=Source.DLIB_DAT,
    ),
    OMZ_REID_ID: _omz_reid_spec(OMZ_REID_ID, *OMZ_REID_FP16),
    OMZ_REID_INT8_ID: OMZ_REID_INT8_SPEC,
    OMZ_REID_Q8_ID: OMZ_REID_Q8_SPEC,
    "sface-2021dec": RecognizerSpec(
        model_id="sface-2021dec",
        filename="sface/face_recognition_sface_2021dec.onnx",
        # OpenCV's FaceRecognizerSF feeds RGB 0-255 NCHW (blobFromImage with swapRB, no scaling).
        input=InputSpec(112, _tuple_template(ARCFACE_112), Layout.NCHW, mean=0.0, scale=1.0),
        sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
        url="https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/"
        "face_recognition_sface_2021dec.onnx",
        licence="Apache-2.0 (OpenCV Zoo)",
    ),
}


def load_recognizers(extra_file: Path | None) -> dict[str, RecognizerSpec]:
    """The built-in recognizers plus those an operator describes in a JSON file.

    The file holds a list of objects: model_id, filename (relative to models_dir or absolute),
    sha256, size, template ("arcface-112" or a list of five [x, y]), layout, bgr, mean, scale.
    """
    specs = dict(BUILTIN)
    if extra_file is None:
        return specs
    try:
        entries = json.loads(extra_file.read_text())
        for entry in entries:
            spec = _spec_from_json(entry)
            specs[spec.model_id] = spec
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(f"The recognizers file {extra_file} is invalid: {exc}") from exc
    return specs


def _spec_from_json(entry: Mapping[str, object]) -> RecognizerSpec:
    """One operator-described recognizer."""
    template = entry.get("template", "arcface-112")
    points = ARCFACE_112 if template == "arcface-112" else template
    spec = InputSpec(
        size=int(str(entry.get("size", 112))),
        template=_tuple_template(points),
        layout=Layout(str(entry.get("layout", "NCHW"))),
        bgr=bool(entry.get("bgr", False)),
        mean=float(str(entry.get("mean", 127.5))),
        scale=float(str(entry.get("scale", 1 / 127.5))),
    )
    sha = entry.get("sha256")
    return RecognizerSpec(
        model_id=str(entry["model_id"]),
        filename=str(entry["filename"]),
        input=spec,
        sha256=None if sha is None else str(sha),
        url=None if entry.get("url") is None else str(entry["url"]),
        licence=str(entry.get("licence", "")),
    )


def _dlib_resnet_onnx(cache_dir: Path) -> Path:
    """The dlib ResNet as ONNX, converted once from the packaged .dat into the cache."""
    from simkyc.convert.dlib_onnx import convert_dlib_resnet

    source = verified_file(
        dlib_model_file("dlib_face_recognition_resnet_model_v1.dat"), DLIB_RESNET_SHA256
    )
    target = cache_dir / f"{DLIB_RESNET_ID}-{DLIB_RESNET_SHA256[:12]}.onnx"
    if not target.is_file():
        logger.info("Converting the dlib ResNet to ONNX into %s (once)", target)
        convert_dlib_resnet(source, target)
    return target


def _openvino_ir_onnx(spec: RecognizerSpec, models_dir: Path, cache_dir: Path) -> Path:
    """An OpenVINO IR as ONNX, converted once by the project's own reader into the cache."""
    from simkyc.convert.openvino_ir import convert_openvino_ir

    xml = verified_file(models_dir / spec.filename, spec.sha256)
    weights = verified_file(xml.with_suffix(".bin"), spec.weights_sha256)
    digest = (spec.weights_sha256 or spec.sha256 or "unpinned")[:12]
    kind = "qdq-v1" if spec.int8_kernels else "v3"
    ranges = None
    if spec.ranges_file is not None:
        ranges = load_activation_ranges(ranges_path(spec.ranges_file), sha256=spec.ranges_sha256,
                                        xml_sha256=spec.sha256, bin_sha256=spec.weights_sha256)
        # Bump the version when the conversion changes: the cache is keyed by it and by the
        # IR's and the ranges' SHA-256, never by the code that wrote it.
        kind = f"q8-v2-{(spec.ranges_sha256 or 'unpinned')[:12]}"
    target = cache_dir / f"{spec.model_id}-{digest}-{kind}.onnx"
    if not target.is_file():
        logger.info("Converting the OpenVINO IR %s to ONNX into %s (once)", xml, target)
        convert_openvino_ir(xml, weights, target, int8_kernels=spec.int8_kernels, ranges=ranges)
    return target


def ranges_path(name: str) -> Path:
    """A q8 ranges file shipped in the package (`simkyc/faces/data/`)."""
    return Path(str(resources.files("simkyc.faces") / "data" / name))


def load_activation_ranges(
    path: Path, *, sha256: str | None, xml_sha256: str | None, bin_sha256: str | None
) -> ActivationRanges:
    """A q8 ranges file: pinned, and made for this very IR (its SHA-256 recorded inside).

    Missing, altered, or made for other weights: ModelUnavailable naming the file and what to
    do, so a quantised model never serves with another model's ranges."""
    from simkyc.convert.qdq import ActivationRanges

    verified_file(path, sha256)
    try:
        payload = json.loads(path.read_text())
        bound = (payload["fp16_xml_sha256"], payload["fp16_bin_sha256"])
        ranges = {str(k): _range(v) for k, v in payload["ranges"].items()}
        float_layers = frozenset(str(v) for v in payload["float_layers"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ModelUnavailable(f"The activation ranges file {path} is invalid: {exc}") from exc
    if bound != (xml_sha256, bin_sha256):
        raise ModelUnavailable(
            f"The activation ranges file {path} was made for another model (IR SHA-256 "
            f"{bound[0][:12]}.../{bound[1][:12]}..., expected {str(xml_sha256)[:12]}.../"
            f"{str(bin_sha256)[:12]}...): recompute it with scripts/calibrate_q8.py --write."
        )
    return ActivationRanges(ranges, float_layers)


def _range(value: object) -> Range:
    """One range of a ranges file: [low, high], or [[lows...], [highs...]] per channel."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a range is [low, high] or [[lows], [highs]], not {value!r}")
    low, high = value
    if isinstance(low, list) and isinstance(high, list):
        return tuple(float(v) for v in low), tuple(float(v) for v in high)
    return float(low), float(high)


def describe(spec: RecognizerSpec, models_dir: Path, cache_dir: Path) -> dict[str, object]:
    """What `simkyc models` prints for one recognizer: installed or not, and why."""
    try:
        path = spec.locate(models_dir, cache_dir)
        return {
            "model_id": spec.model_id,
            "installed": True,
            "path": str(path),
            "sha256": sha256_of(path),
            "source": spec.source.value,
            "licence": spec.licence,
        }
    except ModelUnavailable as exc:
        return {
            "model_id": spec.model_id,
            "installed": False,
            "reason": exc.message,
            "url": spec.url,
            "licence": spec.licence,
        }
