"""The API's error `message` follows Accept-Language; the `code` and the details' keys never
change; an error class with only an English message still answers (in English)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from simkyc import errors
from simkyc.api import errors as api_errors
from simkyc.documents.findings import DocumentError, DocumentField, Finding, InvalidDocument
from simkyc.i18n import catalogs
from simkyc.i18n.messages import (
    localized_quality,
)

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


class BrandNew(errors.SimkycError):
    """What another lane adds: a code and an English message, no translation yet."""

    code = "BRAND_NEW_TEST_ONLY"
    status = 422


RAISED: dict[str, errors.SimkycError] = {
    "cap": errors.LineCapExceeded("Would exceed 1 line.", cap="per_operator", limit=1,
                                  jurisdiction="ZZ"),
    "quality": errors.PoorQuality([
        errors.QualityFinding("blur", 10.0, 40.0, "hold still and make sure the camera is "
                                                  "focused"),
        errors.QualityFinding("yaw", 30.0, 20.0, "face the camera (head turned sideways)")]),
    "document": InvalidDocument(Finding(DocumentError.BAD_CHECK_DIGIT,
                                        DocumentField.CHECK_CHARACTER, "Check digit is wrong.")),
    "keyring": errors.KeyringInvalid("key k1 unknown"),
    "new": BrandNew("Something new went wrong."),
    "faces": errors.MultipleFaces("2 faces.", count=2),
}


class Body(BaseModel):
    number: int


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    api_errors.install(app)

    @app.get("/raise/{name}")
    def raise_(name: str) -> None:
        raise RAISED[name]

    @app.post("/body")
    def body(b: Body) -> int:
        return b.number

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def error(client: TestClient, path: str, headers: dict[str, str] | None = None,
          method: str = "GET") -> dict[str, object]:
    response = client.request(method, path, headers=headers, json={} if method == "POST"
                              else None)
    out: dict[str, object] = response.json()["error"]
    return out


def test_the_message_is_chinese_the_code_is_not(client: TestClient) -> None:
    zh = error(client, "/raise/cap", ZH)
    en = error(client, "/raise/cap", {"Accept-Language": "en-GB"})
    assert zh["code"] == en["code"] == "LINE_CAP_EXCEEDED"
    assert zh["message"] == "再登记一条号码将超过 1 条的上限（ZZ）。"
    assert en["message"] == "Would exceed 1 line."  # the raise site's English, unchanged
    assert {k: v for k, v in zh.items() if k != "message"} == {
        k: v for k, v in en.items() if k != "message"}


def test_no_header_is_english(client: TestClient) -> None:
    assert error(client, "/raise/faces")["message"] == "2 faces."
    assert error(client, "/raise/faces", ZH)["message"] == (
        "照片中有 2 张人脸：画面中只能有申请人本人。")


def test_quality_advice_is_translated_check_by_check(client: TestClient) -> None:
    zh = error(client, "/raise/quality", ZH)
    assert zh["message"] == ("照片质量不合格：请保持不动，并确认摄像头已对焦；"
                             "请正对摄像头（头部偏向一侧）。")
    findings = zh["findings"]
    assert isinstance(findings, list)
    assert [f["check"] for f in findings] == ["blur", "yaw"]
    assert findings[0]["advice"] == "请保持不动，并确认摄像头已对焦"


def test_a_document_finding_is_translated_by_its_code(client: TestClient) -> None:
    zh = error(client, "/raise/document", ZH)
    assert zh["code"] == "INVALID_DOCUMENT"
    assert zh["message"] == "校验码错误：有字符输入有误。"
    findings = zh["findings"]
    assert isinstance(findings, list)
    assert findings[0]["code"] == "BAD_CHECK_DIGIT" and findings[0]["message"] == zh["message"]


def test_a_server_side_error_says_so_in_chinese(client: TestClient) -> None:
    zh = error(client, "/raise/keyring", ZH)
    assert zh == {"code": "KEYRING_INVALID", "message": "我们这边出了问题。"}


def test_a_new_error_without_a_translation_keeps_its_english(client: TestClient) -> None:
    zh = error(client, "/raise/new", ZH)
    assert zh == {"code": "BRAND_NEW_TEST_ONLY", "message": "Something new went wrong."}


def test_validation_and_routing_errors_are_chinese(client: TestClient) -> None:
    assert error(client, "/body", ZH, "POST")["message"] == "请求缺少字段或字段无效。"
    assert error(client, "/nope", ZH)["message"] == "未找到该记录。"
    assert error(client, "/nope")["message"] == "Not Found"



def test_a_verification_replys_quality_advice_is_translated() -> None:
    """/v1/faces/verify's reply (FaceVerification.to_dict: findings as a tuple of dicts)."""
    finding = {"check": "too_dark", "value": 40.0, "limit": 60.0,
               "advice": "more light on the face"}
    reply = {"decision": "review", "document_quality": {"findings": (finding,)},
             "selfie_quality": {"findings": ()}}
    zh = localized_quality(catalogs(), "zh-CN", reply)
    assert zh["decision"] == "review"
    assert zh["document_quality"] == {"findings": [{**finding, "advice": "请让脸部光线更充足"}]}
    assert localized_quality(catalogs(), "en", reply) == reply
