"""Choosing the applicant among the faces found: the largest, unless another is nearly as large."""

from __future__ import annotations

import numpy as np
import pytest

from simkyc.errors import MultipleFaces, NoFaceFound
from simkyc.faces.detect import select_applicant
from simkyc.types import BBox, Face


def _face(eye_distance: float) -> Face:
    landmarks = np.array(
        [[0, 0], [eye_distance, 0], [eye_distance / 2, 10], [5, 20], [15, 20]], np.float32
    )
    return Face(BBox(0, 0, 10, 10), landmarks, 0.9)


def test_select_prefers_the_largest_face_over_a_small_bystander() -> None:
    big, small = _face(100), _face(40)
    assert select_applicant([small, big], ambiguity_ratio=0.7) is big


def test_select_refuses_two_faces_of_similar_size() -> None:
    with pytest.raises(MultipleFaces) as caught:
        select_applicant([_face(100), _face(80)], ambiguity_ratio=0.7)
    assert caught.value.count == 2
    assert caught.value.code == "MULTIPLE_FACES"


def test_select_with_no_face() -> None:
    with pytest.raises(NoFaceFound):
        select_applicant([], ambiguity_ratio=0.7)
