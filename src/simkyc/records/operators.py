"""The rules profile an operator works under, read by the proofing flow (which documents and
minor rules apply to the agent's applicant): with the operator table, below both flows, so
proofing imports nothing from the registry. Creating operators is account administration
(`simkyc.registry.accounts`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.errors import RecordNotFound
from simkyc.records.models import Operator
from simkyc.rules.line_caps import profile_for
from simkyc.rules.profiles import JurisdictionProfile


def operator_profile(session: Session, actor: Actor,
                     profiles: Mapping[str, JurisdictionProfile]) -> JurisdictionProfile:
    """The rules profile of the jurisdiction the actor's operator works in."""
    operator = session.get(Operator, actor.operator_id) if actor.operator_id else None
    if operator is None:
        raise RecordNotFound("operator", actor.operator_id or "")
    return profile_for(profiles, operator.jurisdiction)
