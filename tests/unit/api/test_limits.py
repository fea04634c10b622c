"""Bodies over the limit are refused with 413 REQUEST_TOO_LARGE, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from simkyc.api import errors
from simkyc.api.limits import BodyLimit


def _app() -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.add_middleware(BodyLimit, limit=10)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def test_bodies_over_the_limit_are_refused() -> None:
    client = TestClient(_app())
    assert client.post("/echo", content=b"x" * 10).json() == {"bytes": 10}
    declared = client.post("/echo", content=b"x" * 11)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "REQUEST_TOO_LARGE"

    def chunks() -> Iterator[bytes]:
        yield b"x" * 6
        yield b"x" * 6

    streamed = client.post("/echo", content=chunks())
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "REQUEST_TOO_LARGE"
