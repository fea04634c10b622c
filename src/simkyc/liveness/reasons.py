"""Why a liveness check failed, as data: a stable code and, for the challenge, the actions
that were not seen.

The analyzer's checks return these, never sentences: the API, the CLI and the pages say them
from the catalogs (`liveness.<code>`, the missed actions as `{actions}`, each said by its
`prompt.<action>`), so English and Chinese come from the same data and a reworded sentence
cannot lose its translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from simkyc.liveness.challenge import Action


class LivenessReasonCode(StrEnum):
    """One per way a check fails; `liveness.<value>` is its catalog id."""

    FACE_PRESENT = "face_present"
    SINGLE_FACE = "single_face"
    NOT_SEEN = "not_seen"
    NOT_SEEN_TIMED = "not_seen_timed"
    DEPTH = "depth"
    DEPTH_UNJUDGED = "depth_unjudged"
    SAME_PERSON = "same_person"
    SAME_PERSON_FEW = "same_person_few"
    MATCHES_SELFIE = "matches_selfie"
    PASSIVE = "passive"
    PASSIVE_UNUSABLE = "passive_unusable"


PREFIX = "liveness."


@dataclass(frozen=True)
class LivenessReason:
    """A failed check's reason: its code, and the challenge's missed actions (in order)."""

    code: LivenessReasonCode
    actions: tuple[Action, ...] = ()

    @property
    def msg_id(self) -> str:
        """Its catalog id."""
        return PREFIX + self.code.value

    def key(self) -> dict[str, object]:
        """JSON-ready and language-free, as the pages keep it (`reason_keys`):
        `{"id": "liveness.not_seen", "actions": ["turn_right"]}`."""
        out: dict[str, object] = {"id": self.msg_id}
        if self.code in (LivenessReasonCode.NOT_SEEN, LivenessReasonCode.NOT_SEEN_TIMED):
            out["actions"] = [a.value for a in self.actions]
        return out

    @classmethod
    def from_key(cls, key: Mapping[str, object] | None) -> LivenessReason | None:
        """A reason back from its `key()` (a reply kept for an idempotent replay); None for
        anything that is not one (never raises on stored data)."""
        if key is None:
            return None
        msg_id, actions = key.get("id"), key.get("actions", [])
        if not isinstance(msg_id, str) or not msg_id.startswith(PREFIX):
            return None
        if not isinstance(actions, list):
            return None
        try:
            return cls(LivenessReasonCode(msg_id.removeprefix(PREFIX)),
                       tuple(Action(a) for a in actions))
        except ValueError:
            return None
