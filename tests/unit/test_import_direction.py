"""Dependencies point one way: cli -> tooling -> composition -> web -> api -> flows -> records ->
auth -> domains -> db/privacy/errors/config (docs/ARCHITECTURE.md draws it).

Read from the source with `ast` (nothing is imported, so it needs no model or data): every
`import simkyc.X` / `from simkyc.X import ...` anywhere in a module, inside functions and
`TYPE_CHECKING` blocks too. A module may import its own package or a package of lower rank;
packages of the base group may import each other. The runtime (rank below TOOLING) never
imports evaluation, synthetic data or the CLI; model converters (`simkyc.convert`) sit at the
bottom because the runtime converts a model on its first load.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

BASE = 0
TOOLING = 100
RANKS: dict[str, int] = {
    # The base: errors, settings, shared types, files, the database and privacy (keys, seals,
    # audit). db and privacy use each other (the keyring is read at engine start; audit
    # entries are tables), so the group imports freely within itself.
    "simkyc": BASE,  # the package root (__version__)
    "errors": BASE,
    "config": BASE,
    "types": BASE,
    "files": BASE,
    "memory": BASE,  # a worker's malloc arenas and trimming (glibc), no simkyc import
    "affinity": BASE,  # a served worker's CPUs (sched_setaffinity), no simkyc import
    "db": BASE,
    "privacy": BASE,
    "rules": BASE,  # a jurisdiction's profile, line caps, document policy: data, pure functions
    "convert": 1,  # third-party weights -> ONNX, run by the loaders on a first load
    # Domains: what a face, a liveness video, a document is.
    "faces": 10,
    "documents": 11,
    "liveness": 11,
    # Who is calling (principals, keys, cookie sessions): used by the flows and the API.
    "auth": 20,
    # What both flows read and write: person records (operators, persons, lines, disputes),
    # self-service sign-in limits, idempotent service calls.
    "records": 25,
    # Flows: a proofing, then what is done with it (lines, disputes, self-service).
    "proofing": 30,
    "registry": 31,
    # The words: what the domains and flows say, in the reader's language.
    "i18n": 35,
    # The HTTP surface, then the pages on top of it.
    "api": 40,
    "testing": 41,  # test-only hooks the app installs when settings ask for them
    "web": 50,
    # Composition: every table (migrations), jobs that sweep every table.
    "tables": 60,
    "maintenance": 61,
    # Tooling: never imported by the runtime.
    "synth": TOOLING,
    "eval": TOOLING + 1,
    "cli": TOOLING + 10,
}

# Modules that assemble the whole service and may import any runtime package.
COMPOSITION_ROOTS = {"simkyc.api.app"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every absolute simkyc import in the file at `path`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != "simkyc":
                if node.module.startswith("simkyc."):
                    yield node.lineno, node.module
                continue
            for alias in node.names:  # `from simkyc import web`: the package web
                sub = SRC / "simkyc" / alias.name
                is_module = sub.is_dir() or sub.with_suffix(".py").is_file()
                yield node.lineno, f"simkyc.{alias.name}" if is_module else "simkyc"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("simkyc"):
                    yield node.lineno, alias.name


def _sources() -> list[Path]:
    return sorted(p for p in (SRC / "simkyc").rglob("*.py") if "migrations" not in p.parts)


def violations() -> list[str]:
    """Every import against the direction, as `path:line: what imports what`."""
    found = []
    for path in _sources():
        importer = _module_name(path)
        own = _package(importer)
        for line, target in imports(path):
            theirs = _package(target)
            if own not in RANKS or theirs not in RANKS:
                found.append(f"{path.relative_to(SRC)}:{line}: {own} or {theirs} has no rank")
                continue
            if theirs == own or (RANKS[own] == RANKS[theirs] == BASE):
                continue
            if importer in COMPOSITION_ROOTS and RANKS[theirs] < TOOLING:
                continue
            if RANKS[theirs] < RANKS[own]:
                continue
            found.append(f"{path.relative_to(SRC)}:{line}: {own} imports {target}")
    return found


def test_every_package_has_a_rank() -> None:
    packages = {_package(_module_name(p)) for p in _sources()}
    assert packages - RANKS.keys() == set()


def test_no_module_imports_against_the_direction() -> None:
    assert violations() == []


@pytest.mark.parametrize("tool", ["eval", "synth", "cli"])
def test_the_runtime_never_imports_tooling(tool: str) -> None:
    offenders = [
        f"{_module_name(path)} imports {target}"
        for path in _sources()
        if RANKS.get(_package(_module_name(path)), 0) < TOOLING
        for _, target in imports(path)
        if _package(target) == tool
    ]
    assert offenders == []
