"""The API's state (SQLite registry, key file) goes to a scratch folder, never the user's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module", autouse=True)
def scratch_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIMKYC_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        patch.delenv("SIMKYC_DATABASE_URL", raising=False)
        yield
