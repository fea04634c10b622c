"""Prometheus metrics: requests by route and status, proofing decisions by outcome.

One registry per app (nothing global), served at /metrics in the text format. Under
`simkyc serve --workers N` the workers share one port, so a scrape reaches one of them: each
then writes its counts to PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode,
set by `serve` before the workers start) and /metrics adds up every worker's.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import Route

# prometheus_client reads it before the first metric is made; `serve` sets it.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    """The app's counters."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "simkyc_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry)
        self.decisions = Counter(
            "simkyc_proofing_decisions", "Proofing decisions by outcome.", ["outcome"],
            registry=self.registry)

    def render(self) -> bytes:
        """The Prometheus text exposition: this process's counts, or every worker's when
        they share PROMETHEUS_MULTIPROC_DIR."""
        if MULTIPROCESS_DIR not in os.environ:
            return generate_latest(self.registry)
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]  # untyped upstream
        return generate_latest(workers)


def _route(request: Request) -> str:
    # The template (/v1/lines/{line_id}), never the concrete path: ids stay out of labels.
    route = request.scope.get("route")
    return route.path if isinstance(route, Route) else "unmatched"


def install(app: FastAPI, metrics: Metrics) -> None:
    """Count every request, and serve /metrics."""

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                    ) -> Response:
        try:
            response = await call_next(request)
        except Exception:
            metrics.requests.labels(_route(request), request.method, "500").inc()
            raise
        metrics.requests.labels(_route(request), request.method,
                                str(response.status_code)).inc()
        return response

    async def serve() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", serve, methods=["GET"], include_in_schema=False)
