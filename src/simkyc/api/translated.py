"""A proofing session's public view in the reader's language: one function the API's routes
and the agent pages both call (the pages never call an API route module)."""

from __future__ import annotations

from simkyc.api.schemas import DocumentCheckOut, ProofingPublic
from simkyc.i18n import catalogs
from simkyc.i18n.messages import check_message


def localized(public: ProofingPublic, locale: str) -> ProofingPublic:
    """The session with its document checks' sentences in the reader's language."""
    checks = [DocumentCheckOut(name=c.name, passed=c.passed, code=c.code,
                               message=check_message(catalogs(), locale, name=c.name,
                                                     code=c.code, english=c.message))
              for c in public.document_checks]
    return public.model_copy(update={"document_checks": checks})
