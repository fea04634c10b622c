"""The message ids the code uses, read from the code itself: error codes (classes with a
`code`), the pages' `data-i18n*` attributes and `t("...")` calls, quality checks, liveness
reasons; and which of them a catalog lacks.

    python -m simkyc.i18n.extract          # prints the ids each catalog lacks (exit 1 if any)
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from simkyc.i18n.catalog import Catalogs, catalogs

PACKAGE = Path(__file__).resolve().parents[1]
STATIC = PACKAGE / "web" / "static"
_ATTRIBUTE = re.compile(r'data-i18n(?:-[a-z-]+)?="([^"]+)"')
_CALL = re.compile(r'\bt\(\s*"([^"]+)"')


@dataclass(frozen=True)
class Extracted:
    """Ids found in the code, by where they come from."""

    error_codes: frozenset[str]
    page_ids: frozenset[str]
    quality_checks: frozenset[str]
    liveness_reasons: frozenset[str]

    def ids(self) -> frozenset[str]:
        """Every id that must be in every catalog (liveness reasons are English sentences,
        looked up among the catalog's `liveness.*` values, so they are not ids)."""
        return (frozenset(f"error.{c}" for c in self.error_codes) | self.page_ids
                | frozenset(f"advice.{c}" for c in self.quality_checks))


def _classes_with_code(tree: ast.AST) -> set[str]:
    codes = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if (isinstance(item, ast.Assign) and len(item.targets) == 1
                    and isinstance(item.targets[0], ast.Name) and item.targets[0].id == "code"
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)):
                codes.add(item.value.value)
    return codes


def error_codes(package: Path = PACKAGE) -> frozenset[str]:
    """The `code` of every error class in the package (any class body `code = "..."`)."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        found |= _classes_with_code(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(found)


def page_ids(static: Path = STATIC) -> frozenset[str]:
    """Ids the pages use: `data-i18n*="id"` in markup, `t("id")` in scripts."""
    found: set[str] = set()
    for path in sorted(static.glob("*.html")):
        found |= set(_ATTRIBUTE.findall(path.read_text(encoding="utf-8")))
    for path in sorted(static.glob("*.js")):
        found |= set(_CALL.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


def quality_checks(path: Path = PACKAGE / "faces" / "quality.py") -> frozenset[str]:
    """The quality checks' names: the 5-tuples (name, value, limit, failed, advice)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.elts[0].value for node in ast.walk(tree)
                     if isinstance(node, ast.Tuple) and len(node.elts) == 5
                     and isinstance(node.elts[0], ast.Constant)
                     and isinstance(node.elts[0].value, str))


def liveness_reasons(path: Path = PACKAGE / "liveness" / "analyzer.py") -> frozenset[str]:
    """The fixed reasons of the liveness checks: `CheckResult(name, passed, value, limit,
    "reason", ...)` (the challenge's reason is built from the prompts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.args[4].value for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                     and node.func.id == "CheckResult" and len(node.args) >= 5
                     and isinstance(node.args[4], ast.Constant)
                     and isinstance(node.args[4].value, str))


def extract() -> Extracted:
    """Everything above, from the installed package's sources."""
    return Extracted(error_codes(), page_ids(), quality_checks(), liveness_reasons())


def missing(cat: Catalogs, found: Extracted, required: frozenset[str] = frozenset()
            ) -> dict[str, list[str]]:
    """Per locale, the ids (and liveness sentences) its catalog lacks; empty lists when
    complete. `required`: ids the caller adds (those built from enums, say)."""
    english = cat.messages["en"]
    sentences = {k for k, v in english.items() if k.startswith("liveness.")
                 and v in found.liveness_reasons}
    lacking_sentences = sorted(r for r in found.liveness_reasons
                               if r not in {english[k] for k in sentences})
    needed = found.ids() | required | sentences
    out = {}
    for tag in cat.locales:
        keys = cat.messages[tag].keys()
        out[tag] = sorted(needed - keys) + [f"liveness sentence: {r}" for r in lacking_sentences]
    return out


def main() -> int:
    """Print what each catalog lacks."""
    gaps = missing(catalogs(), extract())
    for tag, ids in gaps.items():
        print(f"{tag}: {len(ids)} missing")
        for msg_id in ids:
            print(f"  {msg_id}")
    return 1 if any(gaps.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
