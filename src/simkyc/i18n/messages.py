"""The human sentences of the API and the CLI in a locale: error messages, quality advice,
liveness prompts and reasons, document-check sentences.

Domain code raises errors with English messages (logs, tests, the CLI's default); these
functions put that English into another locale by a stable key: an error's `code`, a quality
check's name, a liveness action, a finding's code. Where the catalog lacks the key (a new
error class with only its English message) the English stays: nothing breaks, and the
completeness test names what is missing. The reasons of a face decision and of a liveness
check are not English at all but codes with their figures (faces/reasons.py,
liveness/reasons.py): every language, English included, is said from the catalogs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simkyc.documents.findings import InvalidDocument
from simkyc.errors import PoorQuality, SimkycError
from simkyc.faces.reasons import ReviewReason
from simkyc.i18n.catalog import DEFAULT_LOCALE, Catalogs
from simkyc.liveness.challenge import PROMPTS
from simkyc.liveness.reasons import LivenessReason


def error_message(cat: Catalogs, locale: str, exc: SimkycError) -> str:
    """`exc`'s sentence in `locale`: English keeps the raise site's own (more specific)
    message; another locale gets `error.<CODE>` filled from the error's details."""
    if locale == DEFAULT_LOCALE:
        return exc.message
    if isinstance(exc, PoorQuality):
        return poor_quality_message(cat, locale, [f.check for f in exc.findings], exc.message)
    if isinstance(exc, InvalidDocument):
        return finding_message(cat, locale, exc.finding.code.value, exc.message)
    params = {k: v for k, v in exc.details().items() if isinstance(v, (str, int, float))}
    return cat.text(locale, f"error.{exc.code}", exc.message, **params)


def finding_message(cat: Catalogs, locale: str, code: str, english: str) -> str:
    """A document finding's sentence in `locale`, by its code (English: its own sentence)."""
    if locale == DEFAULT_LOCALE:
        return english
    return cat.text(locale, f"finding.{code}", english)


def code_message(cat: Catalogs, locale: str, code: str, english: str,
                 **params: object) -> str:
    """The sentence of an error code raised outside the domain tree (validation, HTTP)."""
    if locale == DEFAULT_LOCALE:
        return english
    return cat.text(locale, f"error.{code}", english, **params)


def localized_details(cat: Catalogs, locale: str,
                      details: Mapping[str, object]) -> dict[str, object]:
    """An error's details with their sentences translated: a quality finding's `advice`
    (by its `check`) and a document finding's `message` (by its `code`)."""
    out = dict(details)
    findings = details.get("findings")
    if locale != DEFAULT_LOCALE and isinstance(findings, (list, tuple)):
        out["findings"] = [_finding(cat, locale, f) if isinstance(f, dict) else f
                           for f in findings]
    return out


def _finding(cat: Catalogs, locale: str, finding: dict[str, object]) -> dict[str, object]:
    out = dict(finding)
    if "advice" in finding and "check" in finding:
        out["advice"] = cat.text(locale, f"advice.{finding['check']}", str(finding["advice"]))
    if "message" in finding and "code" in finding:
        out["message"] = finding_message(cat, locale, str(finding["code"]),
                                         str(finding["message"]))
    return out


def localized_quality(cat: Catalogs, locale: str,
                      reply: Mapping[str, object]) -> dict[str, object]:
    """A verification reply with its quality reports' advice in `locale` (by check name)."""
    out = dict(reply)
    for key in ("document_quality", "selfie_quality"):
        report = reply.get(key)
        if isinstance(report, dict):
            out[key] = localized_details(cat, locale, report)
    return out


def poor_quality_message(cat: Catalogs, locale: str, checks: Sequence[str],
                         english: str) -> str:
    """PoorQuality's sentence: the advice of each failed check, joined."""
    advice = cat.text(locale, "advice.separator", "; ").join(
        cat.text(locale, f"advice.{check}", check) for check in checks)
    return cat.text(locale, "error.POOR_QUALITY", english, advice=advice)


def prompt(cat: Catalogs, locale: str, action: str, english: str) -> str:
    """A liveness prompt ("Turn your head to your left") in `locale`."""
    return cat.text(locale, f"prompt.{action}", english)


def liveness_reason(cat: Catalogs, locale: str, reason: LivenessReason) -> str:
    """A liveness check's reason in `locale`: `liveness.<code>`, the challenge's missed
    actions said by their prompts (English and Chinese alike from the catalogs)."""
    names = [prompt(cat, locale, a.value, PROMPTS[a]) for a in reason.actions]
    actions = cat.text(locale, "advice.separator", "; ").join(names)
    return cat.text(locale, reason.msg_id, reason.code.value, actions=actions)


def check_message(cat: Catalogs, locale: str, *, name: str, code: str | None,
                  english: str | None) -> str | None:
    """A document check's sentence: `check.<CODE>` (a passed check: `check.ok.<name>`) in
    `locale`, else its own English; English keeps the check's own (more specific) sentence."""
    if locale == DEFAULT_LOCALE and english is not None:
        return english
    key = f"check.{code}" if code is not None else f"check.ok.{name}"
    if code is None and english is None:
        return None
    return cat.text(locale, key, english or code or name)


def face_reason(cat: Catalogs, locale: str, reason: ReviewReason) -> str:
    """A face decision's review reason in `locale`: `face_reason.<code>` with its figures
    (English and Chinese alike from the catalogs; the code and its figures where no catalog
    has the code, which a test forbids)."""
    figures = reason.formatted()
    fallback = f"{reason.code.value} ({', '.join(f'{k}={v}' for k, v in figures.items())})"
    return cat.text(locale, reason.catalog_key, fallback, **figures)


def localized_face_reasons(cat: Catalogs, locale: str, reply: Mapping[str, object],
                           reasons: Sequence[ReviewReason]) -> dict[str, object]:
    """A verification reply whose `reasons` are sentences in `locale`, with their stable
    `reason_codes` and the numbers they name (`reason_figures`) beside them: the codes and
    figures never change with the language, so a client never parses a sentence."""
    out = dict(reply)
    out["reasons"] = [face_reason(cat, locale, r) for r in reasons]
    out["reason_codes"] = [r.code.value for r in reasons]
    out["reason_figures"] = [r.values() for r in reasons]
    return out
