"""The OpenAPI spec against the running app, as an attacker's fuzzer would: generated requests
to every operation, taking turns with an admin's key, an agent's and none. Bounded (a few
examples per operation) so it runs in the test command; 0 server errors, 0 responses that
break their declared schema or content type.

Driven through schemathesis' Python API rather than its pytest plugin (which does not load
under pytest 9): one hypothesis run per operation, failures collected and reported together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import schemathesis
from api_world import Api
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

EXAMPLES = 20  # per operation and backend: ~700 requests, ~30 s on 2 shared cores
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app for schemathesis' ASGI transport, its lifespan already run by the fixture's
    TestClient. schemathesis starts an app's lifespan on its first request and ends it only
    at interpreter exit: a second Services (engine, engine pool, integrator thread) replaced
    the fixture's on `app.state`, and its PostgreSQL connections were left open past pytest's
    shutdown (a ResourceWarning, an error under filterwarnings=error). Declining the lifespan
    scope before asking for a message is how an app says it has none (ASGI spec)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        await app(scope, receive, send)

    return wrapped


def test_the_openapi_spec_declares_bearer_auth(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API key (staff) or a citizen token."}
    secured = [op for path in spec["paths"].values() for op in path.values()
               if {"bearer": []} in op.get("security", [])]
    assert len(secured) >= 20
    assert {"bearer": []} in spec["paths"]["/v1/faces/verify"]["post"]["security"]


def test_no_server_error_and_no_schema_violation(api: Api) -> None:
    app = api.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app))
    callers = [api.admin, api.staff("agent", api.operator()), None]
    failures: list[str] = []
    sent: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        failures += _fuzz(operation, callers, sent)
    assert len(sent) >= 2 * len(operations)  # every operation was really called
    assert failures == [], "\n".join(failures[:20])
    assert app.state.services is api.services  # the fixture's app, started once


def _fuzz(operation: schemathesis.APIOperation, callers: list[str | None],
          sent: list[int]) -> list[str]:
    found: list[str] = []
    turn = iter(range(10**6))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        token = callers[next(turn) % len(callers)]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(headers=headers)
        sent.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as failure:  # each is reported; the run goes on
            found.append(f"{operation.label} -> {response.status_code}: "
                         f"{str(failure).splitlines()[0][:200]}")

    run()
    return found
