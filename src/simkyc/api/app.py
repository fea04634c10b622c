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
from simkyc.api.state import Services, log_keys
from simkyc.config import Settings
from simkyc.faces.calibration import load_table
from simkyc.faces.policy import overview
from simkyc.privacy.integrator import Integrator
from simkyc.web import routes as web


def create_app(settings: Settings) -> FastAPI:
    """The API app; the registry, keyring and engines are built once at startup."""
    counters = metrics.Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(Services.from_settings, settings, counters)
        app.state.services = services
        integrator = _integrator(services)
        try:
            yield
        finally:
            if integrator is not None:
                integrator.stop()
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


def _integrator(services: Services) -> Integrator | None:
    """The transparency log's integrator thread, started (unless SIMKYC_LOG_INTEGRATOR=0)."""
    settings = services.settings
    if not settings.log_integrator:
        return None
    integrator = Integrator(sessions=services.sessions, keys=log_keys(services),
                            interval_s=settings.log_integrate_interval_s, clock=services.clock)
    integrator.start()
    return integrator


async def health(pipeline: PipelineDep, services: ServicesDep) -> dict[str, object]:
    """Liveness of the service and the models it runs."""
    return {
        "status": "ok",
        "version": __version__,
        "recognizer": pipeline.policy.calibration.model_id,
        "calibration": pipeline.policy.calibration.calibration_id,
        "face_policy": overview(pipeline.policy, load_table()),
        "engines_idle": services.engines.idle(),
    }
