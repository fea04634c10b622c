"""The registration judge's prebuilt statements: read in the order batch.Approval expects,
and built once per process (and per backend)."""

from __future__ import annotations

import dataclasses

from simkyc.registry.batch import Approval
from simkyc.registry.statements import APPROVAL_COLUMNS, statements


def test_the_session_read_names_the_approvals_fields_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Approval)) == APPROVAL_COLUMNS


def test_statements_are_built_once_per_backend() -> None:
    assert statements(True) is statements(True)
    assert statements(True).standing is not statements(False).standing  # PG draws entry numbers
