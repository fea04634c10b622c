"""The only place domain errors become HTTP responses: status + stable code + message.

Each error class carries its own `status` (src/simkyc/errors.py); nothing here guesses one.

The `message` (and the sentences in the details: quality advice, document findings) follows
the request's Accept-Language; the `code` never changes. A code without a sentence in the
requested catalog keeps its English message."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from simkyc import errors
from simkyc.api.locale import request_locale
from simkyc.db.health import UNAVAILABLE, is_outage
from simkyc.i18n import catalogs
from simkyc.i18n.messages import code_message, error_message, localized_details

logger = logging.getLogger(__name__)

def _body(code: str, message: str, **details: object) -> dict[str, object]:
    """The error body every endpoint returns."""
    return {"error": {"code": code, "message": message, **details}}


INTERNAL = "Something went wrong on our side."


def _said(request: Request, code: str, english: str) -> str:
    """The sentence of a code raised outside the domain tree, in the request's language."""
    return code_message(catalogs(), request_locale(request), code, english)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.SimkycError)
    status = exc.status  # every error class names its own (errors.SimkycError)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    retry_after = getattr(exc, "retry_after", None)  # LIVENESS_LOCKED and any other wait
    if isinstance(retry_after, (int, float)):  # RFC 9110 10.2.3: whole seconds
        headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
    if status == 500:
        # Key or ciphertext trouble: ours to fix, and its message is not for the client.
        logger.error("server-side domain error %s", exc.code)
        return JSONResponse(_body(exc.code, _said(request, "INTERNAL_ERROR", INTERNAL)), status)
    cat, locale = catalogs(), request_locale(request)
    return JSONResponse(_body(exc.code, error_message(cat, locale, exc),
                              **localized_details(cat, locale, exc.details())),
                        status_code=status, headers=headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
    message = _said(request, "INVALID_REQUEST", "The request is missing or has invalid fields.")
    return JSONResponse(_body("INVALID_REQUEST", message, fields=fields), status_code=422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "REQUEST_TOO_LARGE"}.get(
        exc.status_code, "HTTP_ERROR"
    )
    return JSONResponse(_body(code, _said(request, code, str(exc.detail))),
                        status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to our log (no personal data in it: we never log request bodies),
    # never to the client.
    logger.exception("unhandled error", exc_info=exc)
    return JSONResponse(_body("INTERNAL_ERROR", _said(request, "INTERNAL_ERROR", INTERNAL)), 500)


async def _database(request: Request, exc: Exception) -> JSONResponse:
    # A lost connection is the database's outage, not our bug: 503 with a code, and the pool
    # replaces the dead connections once the database is back (db.engine's checkout check).
    assert isinstance(exc, DBAPIError)
    if not is_outage(exc):
        return await _unexpected(request, exc)
    logger.warning("database unavailable (%s)", type(exc.orig).__name__)
    code = errors.DatabaseUnavailable.code
    return JSONResponse(_body(code, _said(request, code, UNAVAILABLE)), 503,
                        headers={"Retry-After": "5"})


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(errors.SimkycError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
