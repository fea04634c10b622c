"""The command line's language: `--lang`, else the POSIX locale variables (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG, in gettext's order); English when none names a catalog."""

from __future__ import annotations

import os
from collections.abc import Mapping

import typer

from simkyc.errors import SimkycError
from simkyc.i18n.catalog import DEFAULT_LOCALE, catalogs
from simkyc.i18n.messages import error_message, finding_message, liveness_reason
from simkyc.liveness.reasons import LivenessReason

# Set by `simkyc --lang TAG` for the rest of the process (the sub-commands read it here).
LANG_VARIABLE = "SIMKYC_LANG"
POSIX = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def cli_locale(environ: Mapping[str, str] | None = None) -> str:
    """The locale the CLI speaks, from `environ` (default: the process's)."""
    env = os.environ if environ is None else environ
    explicit = env.get(LANG_VARIABLE)
    if explicit:
        return catalogs().negotiate(explicit)
    for name in POSIX:
        value = env.get(name)
        if not value:
            continue
        if value in ("C", "POSIX") or value.startswith(("C.", "POSIX.")):
            return DEFAULT_LOCALE
        # LANGUAGE is a colon-separated list of preferences.
        return catalogs().negotiate(",".join(value.split(":")))
    return DEFAULT_LOCALE


def said(error: SimkycError) -> str:
    """`error`'s sentence in the CLI's language (its English message where none)."""
    return error_message(catalogs(), cli_locale(), error)


def finding_said(code: str, english: str) -> str:
    """A document finding's sentence in the CLI's language, by its code."""
    return finding_message(catalogs(), cli_locale(), code, english)


def liveness_said(reason: LivenessReason) -> str:
    """A liveness check's reason in the CLI's language."""
    return liveness_reason(catalogs(), cli_locale(), reason)


def say(msg_id: str, **params: object) -> str:
    """The CLI's sentence `msg_id` (a `cli.*` catalog id) in the CLI's language, filled from
    `params`; the English catalog is its source (`python -m simkyc.cli.extract` finds the
    ids of every `say("...")` call)."""
    return catalogs().text(cli_locale(), msg_id, None, **params)


def column(text: str, width: int) -> str:
    """`text` padded to `width` terminal cells (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


class BadValue(typer.BadParameter):
    """A bad command-line value whose whole sentence is the CLI's (click's BadParameter
    prefixes an English "Invalid value for ..."); exit 2 like any usage error."""

    def format_message(self) -> str:
        """The sentence as given (already in the CLI's language)."""
        return self.message
