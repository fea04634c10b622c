"""create_app(settings): the FastAPI application, with everything passed in, nothing global."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from simkyc import __version__
from simkyc.api import errors, headers, limits, metrics
from simkyc.api.deps import PipelineDep, ServicesDep
from simkyc.api.routes import admin, audit, faces, lines, proofing, reviews, selfservice
from simkyc.api.state import Services
from simkyc.config import Settings
from simkyc.web import routes as web


def create_app(settings: Settings) -> FastAPI:
    """The API app; the registry, keyring and engines are built once at startup."""
    counters = metrics.Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(Services.from_settings, settings, counters)
        app.state.services = services
        try:
            yield
        finally:
            services.engine.dispose()

    app = FastAPI(title="simkyc", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)
    metrics.install(app, counters)
    limit = limits.body_limit(settings)
    limits.keep_uploads_in_memory(limit)
    app.add_middleware(limits.BodyLimit, limit=limit)
    app.add_middleware(headers.NoStore)
    app.add_api_route("/health", health, methods=["GET"])
    for module in (faces, proofing, lines, selfservice, reviews, audit, admin):
        app.include_router(module.router)
    web.install(app, settings)
    return app


async def health(pipeline: PipelineDep, services: ServicesDep) -> dict[str, object]:
    """Liveness of the service and the models it runs."""
    return {
        "status": "ok",
        "version": __version__,
        "recognizer": pipeline.policy.calibration.model_id,
        "calibration": pipeline.policy.calibration.calibration_id,
        "held_sessions": len(services.evidence),
    }
