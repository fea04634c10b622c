"""Why a face decision went to review, as data: a stable code and the figures it names.

The policy (`faces/policy.py`) returns these, never sentences: each place that shows a reason
(the API, the CLI) renders it from the catalogs (`face_reason.<code>`, with a `{name}`
placeholder per figure) in the reader's language, so English and Chinese come from the same
data and rewording a sentence cannot change what a client reads in `reason_codes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ReviewCode(StrEnum):
    """The review branches of the face policy; the values are API (`reason_codes`)."""

    FMR_UNSUPPORTED = "fmr_unsupported"
    NO_REJECT_THRESHOLD = "no_reject_threshold"
    REJECT_UNSUPPORTED = "reject_unsupported"
    BETWEEN = "between"


# The figures each code names (its catalog entries' placeholders, checked by a test).
FIGURES: Mapping[ReviewCode, tuple[str, ...]] = {
    ReviewCode.FMR_UNSUPPORTED: ("fmr", "pairs"),
    ReviewCode.NO_REJECT_THRESHOLD: ("target",),
    ReviewCode.REJECT_UNSUPPORTED: ("rate", "pairs"),
    ReviewCode.BETWEEN: ("score", "reject", "accept"),
}

# The codes that name the score, and so have a `face_reason.<code>.withheld` sentence too:
# the same reason said without it, for an agent (`ReviewReason.without`).
WITHHELD_SCORE = frozenset(code for code, names in FIGURES.items() if "score" in names)

# How a figure is written in a sentence: rates as the settings write them (1e-3), pair
# counts with thousands separators, scores and thresholds to 3 places.
_FORMATS: Mapping[str, str] = {"fmr": "g", "rate": "g", "target": "g", "pairs": ",",
                               "score": ".3f", "reject": ".3f", "accept": ".3f"}


@dataclass(frozen=True)
class ReviewReason:
    """One review reason: its code and the figures it names, by name (in `FIGURES` order)."""

    code: ReviewCode
    figures: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, code: ReviewCode, **figures: float) -> ReviewReason:
        """A reason with exactly the figures its code names (a wrong set is a bug here, not
        a sentence that silently falls back to its code)."""
        names = FIGURES[code]
        if set(figures) != set(names):
            raise ValueError(f"{code} names {names}, got {sorted(figures)}")
        return cls(code, tuple((name, figures[name]) for name in names))

    def without(self, *names: str) -> ReviewReason:
        """The reason with these figures left out, for a reader not trusted with them (an
        agent is not shown the score: see `api/routes/faces.py`)."""
        return ReviewReason(self.code, tuple((n, v) for n, v in self.figures if n not in names))

    @property
    def catalog_key(self) -> str:
        """The sentence that says it: `face_reason.<code>`, or `face_reason.<code>.withheld`
        when figures were left out (a sentence without their placeholders)."""
        full = len(self.figures) == len(FIGURES[self.code])
        return f"face_reason.{self.code.value}" + ("" if full else ".withheld")

    def values(self) -> dict[str, float]:
        """The figures by name, as numbers (the API's `reason_figures`)."""
        return dict(self.figures)

    def formatted(self) -> dict[str, str]:
        """The figures by name as a sentence writes them (the catalog's placeholders)."""
        return {name: format(value, _FORMATS.get(name, "")) for name, value in self.figures}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready and language-free: `{"code": ..., "figures": {...}}`."""
        return {"code": self.code.value, "figures": self.values()}
