"""The deployment under test (cluster_world.py), started once for the module that uses it,
and the evidence of the API tests: a SPECIMEN card carrying the head-turn video's face, a
selfie from its last frame, and the video."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_files import require

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "registry"))
sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "api"))

from api_world import PERFORMED, Shots
from cluster_world import HAPROXY, POSTGRES_SH, Cluster, running_cluster

from simkyc.config import Settings
from simkyc.documents.specimen import (
    DocumentKind,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.documents.virtual_photo import Shot, photograph
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.media import MediaLimits, decode_video


def _jpeg(pixels: np.ndarray) -> bytes:  # type: ignore[type-arg]
    ok, encoded = cv2.imencode(".jpg", pixels[..., ::-1])
    assert ok
    return bytes(encoded.tobytes())


@pytest.fixture(scope="session")
def shots(headturn: Path) -> Shots:
    video = headturn.read_bytes()
    frames = decode_video(video, MediaLimits())
    first = frames[0].pixels
    face = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    box = face.detect(first)[0].box
    rng = np.random.default_rng(5)
    card = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID),
                       portrait_from_photo(first, box))
    photo = photograph(card, rng, shot=Shot(turn_deg=8.0, tilt_deg=15.0, glare=False))
    return Shots(document=photo.jpeg, selfie=_jpeg(frames[-1].pixels), video=video)


@pytest.fixture(scope="module")
def cluster(shots: Shots) -> Iterator[Cluster]:
    """PostgreSQL + two `simkyc serve` processes + HAProxy, for the whole module."""
    require(HAPROXY, "Debian's haproxy (run.sh installs it)")
    require(POSTGRES_SH, "scripts/postgres.sh")
    with running_cluster(2, tuple(a.value for a in PERFORMED)) as running:
        yield running
