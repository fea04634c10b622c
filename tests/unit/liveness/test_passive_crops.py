"""MiniFASNet's preprocessing and verdict without its weights: the crop box equals upstream's,
the patch tensor is upstream's layout, a missing model says where to get it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkyc.config import Settings
from simkyc.convert.minifasnet import Variant
from simkyc.errors import ModelUnavailable
from simkyc.liveness.passive import (
    ENSEMBLE,
    ModelScore,
    PassiveAntiSpoof,
    PassiveScore,
    crop_box,
    patch_tensor,
)
from simkyc.types import BBox


def _upstream_new_box(
    src_w: int, src_h: int, bbox: tuple[float, float, float, float], scale: float
) -> tuple[int, int, int, int]:
    """The oracle: CropImage._get_new_box of upstream's src/generate_patches.py, step by step."""
    x, y, box_w, box_h = bbox
    scale = min((src_h - 1) / box_h, min((src_w - 1) / box_w, scale))  # noqa: PLW3301
    new_width, new_height = box_w * scale, box_h * scale
    center_x, center_y = box_w / 2 + x, box_h / 2 + y
    left_top_x, left_top_y = center_x - new_width / 2, center_y - new_height / 2
    right_bottom_x, right_bottom_y = center_x + new_width / 2, center_y + new_height / 2
    if left_top_x < 0:
        right_bottom_x -= left_top_x
        left_top_x = 0
    if left_top_y < 0:
        right_bottom_y -= left_top_y
        left_top_y = 0
    if right_bottom_x > src_w - 1:
        left_top_x -= right_bottom_x - src_w + 1
        right_bottom_x = src_w - 1
    if right_bottom_y > src_h - 1:
        left_top_y -= right_bottom_y - src_h + 1
        right_bottom_y = src_h - 1
    return int(left_top_x), int(left_top_y), int(right_bottom_x), int(right_bottom_y)


@given(
    width=st.integers(2, 4000),
    height=st.integers(2, 4000),
    x=st.floats(-500, 4000),
    y=st.floats(-500, 4000),
    w=st.floats(1, 3000),
    h=st.floats(1, 3000),
    scale=st.sampled_from([1.0, 2.7, 4.0]),
    integral=st.booleans(),
)
def test_crop_box_is_upstreams(
    *, width: int, height: int, x: float, y: float, w: float, h: float, scale: float, integral: bool
) -> None:
    box = (float(int(x)), float(int(y)), float(int(w)), float(int(h))) if integral else (x, y, w, h)
    left, top, right, bottom = crop_box(BBox(*box), scale, width, height)
    assert (left, top, right, bottom) == _upstream_new_box(width, height, box, scale)
    assert 0 <= left <= right <= width - 1
    assert 0 <= top <= bottom <= height - 1


def test_crop_box_examples() -> None:
    # centred: 2.7 x a 100 px box around (320, 240)
    assert crop_box(BBox(270, 190, 100, 100), 2.7, 640, 480) == (185, 105, 455, 375)
    # at the left edge the crop is shifted right, not clipped: still 270 px wide
    assert crop_box(BBox(0, 190, 100, 100), 2.7, 640, 480) == (0, 105, 270, 375)
    # a scale that would not fit is reduced to (H - 1) / h = 2.395, for both sides
    assert crop_box(BBox(270, 190, 100, 200), 4.0, 640, 480) == (200, 0, 439, 479)
    with pytest.raises(ValueError, match="box"):
        crop_box(BBox(10, 10, 0, 10), 2.7, 640, 480)


def test_patch_tensor_is_bgr_0_255_nchw() -> None:
    patch = np.zeros((80, 80, 3), np.uint8)
    patch[..., 0] = 200  # red
    patch[..., 2] = 7  # blue
    tensor = patch_tensor([patch])
    assert tensor.shape == (1, 3, 80, 80)
    assert tensor.dtype == np.float32
    assert (tensor[0, 0] == 7).all()  # blue first, as cv2.imread gives upstream
    assert (tensor[0, 2] == 200).all()  # not divided by 255: upstream's ToTensor skips it


def test_missing_weights_say_where_to_get_them(settings: Settings, tmp_path: Path) -> None:
    empty = settings.model_copy(update={"models_dir": tmp_path, "cache_dir": tmp_path / "cache"})
    with pytest.raises(ModelUnavailable, match="is missing") as caught:
        PassiveAntiSpoof.from_settings(empty)
    assert "minivision-ai/Silent-Face-Anti-Spoofing" in caught.value.message
    assert ENSEMBLE[0].sha256 in caught.value.message


def test_upstream_verdict_is_the_argmax_of_the_summed_softmaxes() -> None:
    models = (
        ModelScore(Variant.V2, 2.7, (0.1, 0.45, 0.45)),
        ModelScore(Variant.V1SE, 4.0, (0.3, 0.4, 0.3)),
    )
    score = PassiveScore(live=0.425, models=models)
    assert score.upstream_says_live  # class 1 leads with 0.85 of 2.0, though live < 0.5
    assert models[0].live == 0.45
