"""The q8 recognizer's activation ranges ship as package data, pinned and bound to the FP16 IR.

No model weights needed: the file is in the package. It must be the pinned one, name the FP16
IR's own SHA-256 (so it can never be taken for another model's), and say where it came from.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from simkyc.faces.models import sha256_of
from simkyc.faces.recognizers import (
    OMZ_REID_FP16,
    OMZ_REID_Q8_ID,
    OMZ_REID_Q8_SPEC,
    ranges_path,
)


def _shipped() -> Path:
    assert OMZ_REID_Q8_SPEC.ranges_file is not None
    return ranges_path(OMZ_REID_Q8_SPEC.ranges_file)


def test_the_shipped_ranges_file_is_the_pinned_one() -> None:
    assert sha256_of(_shipped()) == OMZ_REID_Q8_SPEC.ranges_sha256


def test_the_ranges_are_bound_to_the_fp16_ir_and_say_where_they_came_from() -> None:
    payload = json.loads(_shipped().read_text())
    assert payload["model_id"] == OMZ_REID_Q8_ID
    assert (payload["fp16_xml_sha256"], payload["fp16_bin_sha256"]) == OMZ_REID_FP16[1:]
    provenance = payload["provenance"]
    assert "scripts/calibrate_q8.py" in provenance["command"]
    assert provenance["date"] and "NUAA" in provenance["data"] and "ZJU" in provenance["data"]
    assert provenance["held_out_fidelity"]["face_p50"] >= 0.995
    per_channel = set(payload["per_channel"])
    assert per_channel  # tensors into depthwise convolutions: one range per channel
    for name, (low, high) in payload["ranges"].items():
        lows, highs = (low, high) if name in per_channel else ([low], [high])
        assert len(lows) == len(highs) >= 1
        assert all(math.isfinite(lo) and math.isfinite(hi) and lo <= hi
                   for lo, hi in zip(lows, highs, strict=True))
        assert min(lows) < max(highs)
