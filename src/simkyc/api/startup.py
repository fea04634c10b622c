"""The process's one-time start: build the services and load every model once, then report
readiness (`GET /ready`) apart from liveness (`GET /health`).

Each model session is created on first use elsewhere (never at import); here one pass over
a blank frame makes that first use happen at start, so the first applicant does not pay for
it and `/ready` means what it says. A load that runs in the background lets the process bind
its port at once: a load balancer's probe of `/ready` gets 503 `MODELS_LOADING` until the
models are in, and requests that arrive meanwhile wait for the load rather than fail.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from simkyc.api.state import Services
from simkyc.errors import ModelsLoading, SimkycError
from simkyc.liveness.media import Frame
from simkyc.proofing.engines import Engines
from simkyc.types import BBox, Face, Image

logger = logging.getLogger(__name__)

# A mid-grey frame the size of a small webcam picture: big enough for every detector's input.
WARM_FRAME_SHAPE = (480, 640, 3)


def warm_models(services: Services) -> None:
    """Create every model session the requests use by running each once on a blank frame:
    every engine pool member's face detector, mesh and tracker (each member owns its own),
    the recognizer and anti-spoofing nets they share, and the document reader (RapidOCR,
    the own OCR-B recognizer)."""
    blank = np.full(WARM_FRAME_SHAPE, 128, np.uint8)
    pool = services.engines
    with ExitStack() as stack:  # every member checked out at once, so each is warmed once
        members = [stack.enter_context(pool.checkout()) for _ in range(pool.size)]
        for member in members:
            _warm_member(member, blank)
    if services.documents is not None:
        services.documents.warm()


def _warm_member(member: Engines, blank: Image) -> None:
    """One pool member's first use of its detector, mesh, embedder, passive net, tracker."""
    encoder = member.pipeline.encoder
    encoder.detector.detect(blank)
    if encoder.landmarks is not None:
        encoder.landmarks.refine(blank, _central_face(blank))
    size = encoder.embedder.spec.size
    encoder.embedder.embed([np.full((size, size, 3), 128, np.uint8)])
    analyzer = member.liveness.analyzer
    analyzer.passive.score(blank, BBox(x=220.0, y=140.0, width=200.0, height=200.0))
    analyzer.tracker.track([Frame(t=0.0, index=0, pixels=blank)])
    _ = analyzer.estimator.canonical


def _central_face(blank: Image) -> Face:
    """A made-up face in the middle of the blank frame, for the mesh refiner's first run."""
    height, width = blank.shape[:2]
    box = BBox(x=width / 4, y=height / 4, width=width / 2, height=height / 2)
    eyes_y, nose_y, mouth_y = height * 0.45, height * 0.55, height * 0.65
    points = [(width * 0.42, eyes_y), (width * 0.58, eyes_y), (width * 0.5, nose_y),
              (width * 0.44, mouth_y), (width * 0.56, mouth_y)]
    return Face(box=box, landmarks=np.array(points, np.float32), score=1.0)


@dataclass
class Startup:
    """Builds the services once (in a worker thread) and tells who asks how far it got."""

    build: Callable[[], Services]
    started_at: float = field(default_factory=time.monotonic)
    _task: asyncio.Task[Services] | None = field(default=None, init=False, repr=False)

    def begin(self) -> asyncio.Task[Services]:
        """Start loading (once) off the event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self.build), name="simkyc-startup")
        return self._task

    async def services(self) -> Services:
        """The services, waiting for the load if it is still running; its error if it failed."""
        return await asyncio.shield(self.begin())

    def ready(self) -> Services:
        """The services if loaded; MODELS_LOADING while loading; the load's error if it failed."""
        task = self._task
        if task is None or not task.done():
            waited = time.monotonic() - self.started_at
            raise ModelsLoading(f"the models are still loading ({waited:.0f} s so far).")
        error = task.exception()
        if error is not None:
            if isinstance(error, SimkycError):
                raise error
            raise ModelsLoading("the models failed to load; see the service's log.")
        return task.result()
