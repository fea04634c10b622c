"""create_app(settings): the FastAPI application, with everything passed in, nothing global."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from simkyc import __version__
from simkyc.api import errors
from simkyc.config import Settings
from simkyc.errors import ImageTooLarge
from simkyc.faces.pipeline import FacePipeline


def create_app(settings: Settings) -> FastAPI:
    """The API app; the face pipeline is built once at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pipeline = FacePipeline.from_settings(settings)
        # Detector sessions are not thread-safe; requests take turns on the pipeline.
        app.state.pipeline_lock = threading.Lock()
        yield

    app = FastAPI(title="simkyc", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/v1/faces/verify", verify_faces, methods=["POST"])
    return app


def get_pipeline(request: Request) -> FacePipeline:
    """The app's pipeline."""
    pipeline: FacePipeline = request.app.state.pipeline
    return pipeline


PipelineDep = Annotated[FacePipeline, Depends(get_pipeline)]


async def health(pipeline: PipelineDep) -> dict[str, object]:
    """Liveness of the service and the models it runs."""
    return {
        "status": "ok",
        "version": __version__,
        "recognizer": pipeline.policy.calibration.model_id,
        "calibration": pipeline.policy.calibration.calibration_id,
    }


async def _read(upload: UploadFile, limit: int) -> bytes:
    """An uploaded file's bytes, refusing more than `limit` without reading it all."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLarge(f"{upload.filename or 'the upload'} exceeds {limit:,} bytes.")
    return data


async def verify_faces(
    request: Request, pipeline: PipelineDep, document: UploadFile, selfie: UploadFile
) -> dict[str, object]:
    """1:1 verification of a selfie against a document portrait (multipart: document, selfie)."""
    limit = request.app.state.settings.max_image_bytes
    document_bytes, selfie_bytes = await _read(document, limit), await _read(selfie, limit)

    def run() -> dict[str, object]:
        with request.app.state.pipeline_lock:
            return pipeline.verify(document_bytes, selfie_bytes).to_dict()

    return await run_in_threadpool(run)
