"""The HTTP API in-process: verification, and every error as status + stable code, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from settings_for_tests import DEFAULT_RECOGNIZER

from simkyc.api.app import create_app
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.registry import accounts


@pytest.fixture(scope="module")
def client(examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a scratch registry, called with an admin key (/v1/faces/verify needs an
    agent's or an admin's)."""
    settings = Settings(population="lfw",
                        state_dir=tmp_path_factory.mktemp("api"), database_url=None)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        services = app.state.services
        with services.sessions() as db:
            admin = accounts.create_principal(db, role=Role.ADMIN, label="root",
                                              now=services.clock())
            key = accounts.issue_api_key(db, principal_id=admin.id, now=services.clock())
        test_client.headers["Authorization"] = f"Bearer {key.token}"
        yield test_client


def _files(document: bytes, selfie: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {
        "document": ("doc.jpg", document, "image/jpeg"),
        "selfie": ("selfie.jpg", selfie, "image/jpeg"),
    }


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["recognizer"] == DEFAULT_RECOGNIZER
    policy = body["face_policy"]  # per population, what the deployed policy decides itself
    assert policy["population"] == "lfw" and policy["false_reject_target"] == 0.005
    east = policy["populations"]["east-asian"]
    assert 0 < east["genuine_matched_automatically"] <= 1
    assert 0 <= east["impostors_refused_automatically"] <= 1 and east["n_impostor"] > 0


def test_health_does_not_reparse_the_calibration_table(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The face policy overview is computed once at startup, not on every /health call."""
    before = client.get("/health").json()["face_policy"]

    def parsed_per_call() -> None:
        raise AssertionError("/health parsed the calibration table")

    monkeypatch.setattr("simkyc.api.app.load_table", parsed_per_call)
    assert client.get("/health").json()["face_policy"] == before


def test_verify_match(client: TestClient, examples: Path) -> None:
    response = client.post(
        "/v1/faces/verify",
        files=_files((examples / "obama.jpg").read_bytes(), (examples / "obama2.jpg").read_bytes()),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "match"
    assert body["threshold"] < body["score"]


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        (b"", 400, "INVALID_IMAGE"),
        (b"GIF89a not really", 400, "INVALID_IMAGE"),
    ],
)
def test_bad_images(
    client: TestClient, examples: Path, document: bytes, status: int, code: str
) -> None:
    response = client.post(
        "/v1/faces/verify", files=_files(document, (examples / "obama.jpg").read_bytes())
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_two_faces(client: TestClient, examples: Path) -> None:
    response = client.post(
        "/v1/faces/verify",
        files=_files(
            (examples / "two_people.jpg").read_bytes(), (examples / "obama.jpg").read_bytes()
        ),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "MULTIPLE_FACES" and error["faces"] == 2


def test_missing_field(client: TestClient) -> None:
    response = client.post("/v1/faces/verify", files={"document": ("a.jpg", b"x", "image/jpeg")})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


def test_unknown_route(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
