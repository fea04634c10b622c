"""Readiness apart from liveness: `/ready` is 503 MODELS_LOADING until every model is loaded
(a process loading in the background already answers), `/health` answers throughout; the
test hook for scripted challenges is refused without the testing flag."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from simkyc.api.app import create_app
from simkyc.config import Settings


def test_ready_is_503_with_a_code_until_the_app_has_started(tmp_path: Path) -> None:
    app = create_app(Settings(state_dir=tmp_path, document_ocr=False))
    client = TestClient(app)  # no lifespan: nothing loaded
    refused = client.get("/ready")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "MODELS_LOADING"
    assert client.get("/health").json() == {"status": "ok", "version": app.version,
                                            "models": "loading"}


@pytest.mark.data  # loads the real models
def test_a_background_load_answers_at_once_and_becomes_ready(tmp_path: Path) -> None:
    app = create_app(Settings(state_dir=tmp_path, document_ocr=False),
                     load_in_background=True)
    with TestClient(app) as client:
        first = client.get("/ready")
        assert first.status_code in (200, 503)
        if first.status_code == 503:
            assert first.json()["error"]["code"] == "MODELS_LOADING"
        assert client.get("/health").status_code == 200
        # A request that needs the services waits for the load instead of failing.
        assert client.post("/v1/admin/operators", json={}).status_code == 401
        deadline = time.monotonic() + 120
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.get("/ready").json()["models"] == "loaded"
        assert client.get("/health").json()["recognizer"]


@pytest.mark.data  # loads the real models
def test_an_ocr_b_recognizer_that_is_not_the_pinned_one_is_model_unavailable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The document reader's own OCR-B weights are checked against their SHA-256 when the
    process loads its models: another file (or another pin) never serves a document."""
    from simkyc.documents import ocrb

    monkeypatch.setattr(ocrb, "WEIGHTS_SHA256", "0" * 64)
    app = create_app(Settings(state_dir=tmp_path, engine_pool=1), load_in_background=True)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while (answer := client.get("/ready")).json()["error"]["code"] == "MODELS_LOADING":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "MODEL_UNAVAILABLE"


def test_the_challenge_script_hook_needs_the_testing_flag() -> None:
    with pytest.raises(ValidationError, match="SIMKYC_TESTING"):
        Settings(testing_challenge_script=["turn_left"])
    assert Settings(testing=True, testing_challenge_script=["turn_left"]).testing
