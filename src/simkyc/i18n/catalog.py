"""Loading the catalogs, choosing a locale from Accept-Language / LANG, formatting a message."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGS = Path(__file__).parent / "catalogs"
DEFAULT_LOCALE = "en"
META = "_meta.name"  # each catalog's own name for its language, for the pages' switch
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Catalogs:
    """Every locale's messages by id; `text` falls back to English, then to `default`."""

    messages: dict[str, dict[str, str]]

    @classmethod
    def load(cls, folder: Path = CATALOGS) -> Catalogs:
        """The catalogs of `folder`, one `<tag>.json` per locale."""
        found = {path.stem: json.loads(path.read_text(encoding="utf-8"))
                 for path in sorted(folder.glob("*.json"))}
        return cls(messages=found)

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales there is a catalog for, English first."""
        return tuple(sorted(self.messages, key=lambda tag: (tag != DEFAULT_LOCALE, tag)))

    def names(self) -> dict[str, str]:
        """Each locale's name in its own language."""
        return {tag: self.messages[tag].get(META, tag) for tag in self.locales}

    def lookup(self, locale: str, msg_id: str) -> str | None:
        """The message in `locale`, else English, else None."""
        for tag in (locale, DEFAULT_LOCALE):
            text = self.messages.get(tag, {}).get(msg_id)
            if text is not None:
                return text
        return None

    def text(self, locale: str, msg_id: str, default: str | None = None,
             **params: object) -> str:
        """The message `msg_id` in `locale` with `{name}` placeholders filled from `params`;
        `default` (else the id) when no catalog has it or a placeholder has no value."""
        template = self.lookup(locale, msg_id)
        fallback = msg_id if default is None else default
        if template is None:
            return fallback
        missing = set(_PLACEHOLDER.findall(template)) - params.keys()
        if missing:
            return fallback
        return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), template)

    def negotiate(self, header: str | None) -> str:
        """The best locale for an Accept-Language header (or a LANG value such as
        `zh_CN.UTF-8`): an exact tag, else the same language; English when nothing fits."""
        return negotiate(header, self.locales)


def _ranges(header: str) -> list[tuple[float, str]]:
    """Language ranges by preference: (q, tag), highest q first, then in header order."""
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.split(".")[0].replace("_", "-").strip()
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranges.append((q, index, tag))
    return [(q, tag) for q, _, tag in sorted(ranges, key=lambda r: (-r[0], r[1]))]


def negotiate(header: str | None, locales: tuple[str, ...]) -> str:
    """The locale of `locales` that `header` prefers (see `Catalogs.negotiate`)."""
    by_lower = {tag.lower(): tag for tag in locales}
    for _, tag in _ranges(header or ""):
        wanted = tag.lower()
        if wanted in by_lower:
            return by_lower[wanted]
        language = wanted.split("-")[0]
        # zh-Hans, zh-SG, zh: Simplified Chinese is the Chinese catalog there is.
        same = [t for low, t in by_lower.items() if low.split("-")[0] == language]
        if same:
            return same[0]
    return DEFAULT_LOCALE


@cache
def catalogs() -> Catalogs:
    """The package's catalogs, read once on first use (read-only data, never at import)."""
    return Catalogs.load()
