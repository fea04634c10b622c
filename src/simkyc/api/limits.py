"""Request size limits, and keeping uploads off the disk.

Bodies are capped before they are parsed: by Content-Length when the client sends one, and
by counting the bytes as they arrive otherwise. The per-file caps (max_image_bytes,
liveness_max_bytes) are checked again by the routes.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkyc.config import Settings

MULTIPART_OVERHEAD = 1 << 20  # boundaries, headers and form fields around the files


def body_limit(settings: Settings) -> int:
    """The largest body any endpoint accepts: two images (/v1/faces/verify) or one capture."""
    return max(2 * settings.max_image_bytes, settings.liveness_max_bytes) + MULTIPART_OVERHEAD


def keep_uploads_in_memory(limit: int) -> None:
    """Starlette spools uploads over 1 MB to a temporary file; raw face images must never
    touch the disk, so spool up to the body limit in memory instead. This is a class
    attribute of Starlette's parser (process-wide): there is no per-app setting for it."""
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limit)


class BodyLimit:
    """ASGI middleware: 413 REQUEST_TOO_LARGE past `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # an HTTPException: FastAPI re-raises those from parsing
                raise HTTPException(413, f"The request exceeds {self.limit:,} bytes.")
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "REQUEST_TOO_LARGE",
                                 "message": f"The request exceeds {limit:,} bytes."}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
