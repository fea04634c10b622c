"""The request's language: Accept-Language negotiated against the catalogs there are."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from simkyc.i18n import catalogs


def request_locale(request: Request) -> str:
    """The best catalog for the request's Accept-Language ("en" when none fits)."""
    return catalogs().negotiate(request.headers.get("accept-language"))


LocaleDep = Annotated[str, Depends(request_locale)]
