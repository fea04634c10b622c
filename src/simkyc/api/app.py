"""create_app(settings): the FastAPI application, with everything passed in, nothing global."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from simkyc import __version__
from simkyc.affinity import pin_worker_from_environment
from simkyc.api import errors, headers, limits, metrics
from simkyc.api.routes import admin, audit, faces, lines, proofing, reviews, selfservice
from simkyc.api.startup import Startup, warm_models
from simkyc.api.state import Services
from simkyc.api.tuning import tune_process
from simkyc.config import Settings, get_settings
from simkyc.errors import ModelsLoading
from simkyc.faces.calibration import load_table
from simkyc.faces.policy import overview
from simkyc.memory import Trimmer
from simkyc.privacy.integrator import Integrator
from simkyc.testing import install_test_hooks
from simkyc.web import routes as web

logger = logging.getLogger(__name__)


def create_app(settings: Settings, *, load_in_background: bool = False) -> FastAPI:
    """The API app; the registry, keyring and engines are built, and every model loaded, once
    at startup. `load_in_background`: the process answers (`/health`, `/ready` 503) while
    the models load, instead of opening its port only when they are in."""
    counters = metrics.Metrics()

    integrators: list[Integrator] = []  # the transparency log's, once the services are built

    def build() -> Services:
        started = time.perf_counter()
        tune_process(settings)  # threads and malloc arenas, before any model loads
        services = Services.from_settings(settings, counters)
        install_test_hooks(services)
        integrator = _integrator(services)
        if integrator is not None:
            integrators.append(integrator)
        warm_models(services)
        if isinstance(services.engines.trimmer, Trimmer):
            # What loading and warming freed (~200 MB) goes back, and the size at rest is
            # what later trims compare with.
            services.engines.trimmer.settle()
        logger.info("services built and models loaded in %.1f s",
                    time.perf_counter() - started)
        return services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        startup = app.state.startup = Startup(build)
        task = startup.begin()
        task.add_done_callback(lambda done: _install(app, done))
        if not load_in_background:
            await startup.services()
        try:
            yield
        finally:
            for integrator in integrators:
                integrator.stop()
            if task.done() and not task.cancelled() and task.exception() is None:
                task.result().engine.dispose()

    app = FastAPI(title="simkyc", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)
    metrics.install(app, counters)
    limit = limits.body_limit(settings)
    limits.keep_uploads_in_memory(limit)
    app.add_middleware(limits.BodyLimit, limit=limit)
    app.add_middleware(headers.NoStore)
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/ready", ready, methods=["GET"])
    for module in (faces, proofing, lines, selfservice, reviews, audit, admin):
        app.include_router(module.router)
    web.install(app, settings)
    return app


def _install(app: FastAPI, done: asyncio.Task[Services]) -> None:
    """Once the services are built: keep them, and the face policy `/health` reports (computed
    here once, not per call: it parses the calibration table)."""
    if done.cancelled() or done.exception() is not None:
        return
    services = done.result()
    app.state.face_policy = overview(services.pipeline.policy, load_table())
    app.state.services = services


def _integrator(services: Services) -> Integrator | None:
    """The transparency log's integrator thread, started (unless SIMKYC_LOG_INTEGRATOR=0)."""
    settings = services.settings
    if not settings.log_integrator:
        return None
    integrator = Integrator(sessions=services.sessions, keys=services.log_keys,
                            interval_s=settings.log_integrate_interval_s, clock=services.clock)
    integrator.start()
    return integrator


def app_from_environment() -> FastAPI:
    """`simkyc serve`'s factory (each worker process calls it): settings from the
    environment, models loaded in the background so `/ready` can say 503 meanwhile; under
    `serve --cpu-affinity`, on its own CPUs before any thread of its own starts."""
    pin_worker_from_environment()
    return create_app(get_settings(), load_in_background=True)


async def health(request: Request) -> dict[str, object]:
    """Liveness: the process answers (it does not wait for the models or the database);
    the models it runs once they are loaded."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return {"status": "ok", "version": __version__, "models": "loading"}
    return {
        "status": "ok",
        "version": __version__,
        "recognizer": services.pipeline.policy.calibration.model_id,
        "calibration": services.pipeline.policy.calibration.calibration_id,
        "face_policy": request.app.state.face_policy,
        "engines_idle": services.engines.idle(),
    }


async def ready(request: Request) -> dict[str, object]:
    """Readiness of this process: 200 once every model is loaded, else 503 MODELS_LOADING (a
    load balancer's health check). The database is not probed here: during its outage every
    process would look down and the balancer would answer for them; instead each request
    that needs it gets 503 DATABASE_UNAVAILABLE from the process, with a sentence."""
    startup: Startup | None = getattr(request.app.state, "startup", None)
    if startup is None:
        raise ModelsLoading("the service has not started.")
    startup.ready()
    return {"status": "ready", "version": __version__, "models": "loaded"}
