"""Decoding YuNet's outputs: cells to pixels, the score, the threshold and suppression."""

from __future__ import annotations

import numpy as np

from simkyc.faces.detect import YUNET_STRIDES, yunet_faces


def _outputs(height: int, width: int) -> dict[str, np.ndarray]:
    out = {}
    for stride in YUNET_STRIDES:
        cells = (height // stride) * (width // stride)
        out[f"cls_{stride}"] = np.zeros((1, cells, 1), np.float32)
        out[f"obj_{stride}"] = np.zeros((1, cells, 1), np.float32)
        out[f"bbox_{stride}"] = np.zeros((1, cells, 4), np.float32)
        out[f"kps_{stride}"] = np.zeros((1, cells, 10), np.float32)
    return out


def _put(out: dict[str, np.ndarray], stride: int, width: int, cell: tuple[int, int], *,
         cls: float, obj: float, log_size: float) -> None:
    row, col = cell
    index = row * (width // stride) + col
    out[f"cls_{stride}"][0, index, 0] = cls
    out[f"obj_{stride}"][0, index, 0] = obj
    out[f"bbox_{stride}"][0, index] = (0.5, 0.25, log_size, log_size)
    out[f"kps_{stride}"][0, index] = np.arange(10, dtype=np.float32) / 10


def test_a_cell_becomes_a_face_in_pixels() -> None:
    out = _outputs(64, 96)
    _put(out, 16, 96, (2, 3), cls=0.81, obj=1.5, log_size=np.log(4.0))
    [face] = yunet_faces(out, 64, 96, 0.35)
    # centre ((3 + 0.5) * 16, (2 + 0.25) * 16) = (56, 36); size exp(log 4) * 16 = 64
    assert (face.box.x, face.box.y, face.box.width, face.box.height) == (
        np.float32(24.0), np.float32(4.0), np.float32(64.0), np.float32(64.0))
    assert np.allclose(face.landmarks[0], ((3 + 0.0) * 16, (2 + 0.1) * 16))
    assert np.allclose(face.landmarks[4], ((3 + 0.8) * 16, (2 + 0.9) * 16))
    assert face.score == np.float32(0.9)  # sqrt(0.81 * min(1.5, 1))


def test_below_the_threshold_is_not_a_face() -> None:
    out = _outputs(64, 96)
    _put(out, 8, 96, (1, 1), cls=0.3, obj=0.3, log_size=0.0)
    assert yunet_faces(out, 64, 96, 0.35) == []


def test_overlapping_boxes_keep_the_higher_score() -> None:
    out = _outputs(64, 96)
    _put(out, 8, 96, (4, 6), cls=0.9, obj=0.9, log_size=np.log(6.0))
    _put(out, 8, 96, (4, 7), cls=0.5, obj=0.5, log_size=np.log(6.0))  # 8 px along: IoU 0.71
    _put(out, 8, 96, (1, 1), cls=0.6, obj=0.6, log_size=0.0)  # elsewhere: kept
    faces = yunet_faces(out, 64, 96, 0.35)
    assert sorted(round(face.score, 4) for face in faces) == [0.6, 0.9]
