"""The message ids the code uses, read from the code itself: error codes (classes with a
`code`), the pages' `data-i18n*` attributes and `t("...")` calls, quality checks, the values
of the enums the pages and the API translate (decision, face review and liveness reason
codes among them); and which of them a catalog lacks.

    python -m simkyc.cli.extract          # prints the ids each catalog lacks (exit 1 if any)
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from simkyc.auth.models import Role
from simkyc.documents.cn_id import Province
from simkyc.documents.crosscheck import FieldStatus, TypedField
from simkyc.documents.findings import DocumentError, DocumentField
from simkyc.documents.mrz import CheckName
from simkyc.faces.match import Decision
from simkyc.faces.reasons import WITHHELD_SCORE, ReviewCode
from simkyc.i18n.catalog import Catalogs, catalogs
from simkyc.liveness.analyzer import Verdict
from simkyc.liveness.challenge import Action
from simkyc.liveness.reasons import LivenessReasonCode
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.proofing.models import LivenessVerdict, Outcome, Purpose, Reason
from simkyc.records.models import LineStatus, ServiceType
from simkyc.rules.document_policy import PolicyFinding

PACKAGE = Path(__file__).resolve().parents[1]
STATIC = PACKAGE / "web" / "static"
_ATTRIBUTE = re.compile(r'data-i18n(?:-[a-z-]+)?="([^"]+)"')
_CALL = re.compile(r'\bt\(\s*"([^"]+)"')
# Codes outside the error tree: the API's own handlers (api/errors.py) and the pages' NETWORK.
HANDLER_CODES = frozenset({"INVALID_REQUEST", "INTERNAL_ERROR", "NOT_FOUND",
                           "METHOD_NOT_ALLOWED", "REQUEST_TOO_LARGE", "HTTP_ERROR", "NETWORK"})
# Finding codes of proofing/documents.py (and proofing/service.py's self-service card gate)
# that are not members of an enum.
CHECK_CODES = frozenset({"BIRTH_DATE_MISMATCH", "MRZ_MISMATCH", "MRZ_NOT_GIVEN",
                         "OCR_MISMATCH", "OCR_UNREADABLE", "CARD_TEXT_REQUIRED"})
# The enums whose values the pages and the API translate, by message-id prefix.
ENUMS: tuple[tuple[str, type[StrEnum]], ...] = (
    ("reason", Reason), ("outcome", Outcome), ("verdict", LivenessVerdict),
    ("verdict_name", LivenessVerdict), ("prompt", Action), ("audit_action", AuditAction),
    ("audit_purpose", AccessPurpose), ("role", Role), ("status", LineStatus),
    ("service", ServiceType), ("service.option", ServiceType),
    ("finding", DocumentError), ("check", DocumentError), ("check", PolicyFinding),
    ("agent.purpose", Purpose), ("field", TypedField), ("field_status", FieldStatus),
    ("face_reason", ReviewCode), ("liveness", LivenessReasonCode),
    # The CLI's summaries (simkyc verify, document check-*, liveness check).
    ("cli.decision", Decision), ("cli.verdict", Verdict), ("cli.action", Action),
    ("cli.field", DocumentField), ("cli.digit", CheckName), ("cli.province", Province),
)
# The function the CLI says its sentences with (i18n/cli.py `say`): `say("cli.x", ...)`.
SAY = "say"


@dataclass(frozen=True)
class Extracted:
    """Ids found in the code, by where they come from."""

    error_codes: frozenset[str]
    page_ids: frozenset[str]
    quality_checks: frozenset[str]
    built_ids: frozenset[str]
    cli_ids: frozenset[str] = frozenset()

    def ids(self) -> frozenset[str]:
        """Every id that must be in every catalog."""
        return (frozenset(f"error.{c}" for c in self.error_codes) | self.page_ids
                | frozenset(f"advice.{c}" for c in self.quality_checks) | self.built_ids
                | self.cli_ids)


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


def said_ids(package: Path = PACKAGE) -> frozenset[str]:
    """The ids of every `say("id", ...)` call in the package (the CLI's sentences)."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == SAY and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return frozenset(found)


def liveness_checks(path: Path = PACKAGE / "liveness" / "analyzer.py") -> frozenset[str]:
    """The liveness checks' names: `CheckResult("name", ...)`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.args[0].value for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                     and node.func.id == "CheckResult" and node.args
                     and isinstance(node.args[0], ast.Constant)
                     and isinstance(node.args[0].value, str))


def cli_help() -> dict[str, str]:
    """The English help of every command and option of `simkyc`, by catalog id."""
    from typer.main import get_command

    from simkyc.cli.help import help_texts
    from simkyc.cli.main import app

    return help_texts(get_command(app))


def cli_ids() -> frozenset[str]:
    """Every id the command line says: its help, Typer's own words, click's usage errors,
    its sentences, its summaries' names."""
    from simkyc.cli.help import FIXED_IDS
    from simkyc.cli.usage import USAGE_IDS

    return (frozenset(cli_help()) | FIXED_IDS | USAGE_IDS | said_ids()
            | frozenset(f"cli.check.{name}" for name in liveness_checks())
            | frozenset(i for i in built_ids() if i.startswith("cli.")))


def built_ids() -> frozenset[str]:
    """Ids built from the enums' values and the fixed codes above."""
    ids = {f"{prefix}.{member.value}" for prefix, enum in ENUMS for member in enum}
    ids |= {f"check.{code}" for code in CHECK_CODES}
    ids |= {f"face_reason.{code.value}.withheld" for code in WITHHELD_SCORE}
    ids |= {f"error.{code}" for code in HANDLER_CODES}
    return frozenset(ids)


def extract() -> Extracted:
    """Everything above, from the installed package's sources."""
    return Extracted(error_codes(), page_ids(), quality_checks(), built_ids(), cli_ids())


def missing(cat: Catalogs, found: Extracted) -> dict[str, list[str]]:
    """Per locale, the ids its catalog lacks; empty lists when complete."""
    needed = found.ids()
    return {tag: sorted(needed - cat.messages[tag].keys()) for tag in cat.locales}


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
