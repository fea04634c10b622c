"""The pages' languages: the list of catalogs with the one Accept-Language prefers, each
catalog as JSON (the same files the server's messages come from), and the `lang` of a page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from simkyc.api.locale import LocaleDep
from simkyc.errors import RecordNotFound
from simkyc.i18n import catalogs

router = APIRouter(prefix="/web/i18n", include_in_schema=False)


class Languages(BaseModel):
    """The locales there are (each named in its own language) and the request's best one."""

    locales: dict[str, str]
    preferred: str


@router.get("")
def languages(locale: LocaleDep) -> Languages:
    """What the pages' language switch offers, and what to start with."""
    return Languages(locales=catalogs().names(), preferred=locale)


@router.get("/{tag}")
def catalog(tag: str) -> JSONResponse:
    """One locale's whole catalog (a few kB; the pages cache nothing: Cache-Control no-store
    is set on every /web response)."""
    messages = catalogs().messages.get(tag)
    if messages is None:
        raise RecordNotFound("language", tag)
    return JSONResponse(messages)


def with_lang(html: str, locale: str) -> str:
    """A page's markup with `<html lang>` set to the negotiated locale."""
    return html.replace('<html lang="en">', f'<html lang="{locale}">', 1)
