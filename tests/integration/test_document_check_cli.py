"""`simkyc document check CARD_IMAGE`: a photographed SPECIMEN card, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from settings_for_tests import make_settings, outside_checkout
from shared_files import require

from simkyc.config import Settings
from simkyc.documents.mrz import parse_mrz
from simkyc.eval.document_specimens import load_manifest
from simkyc.faces.detect import YuNetDetector
from simkyc.synth.specimen import (
    DocumentKind,
    SpecimenData,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.synth.virtual_photo import Shot, photograph


def _card(lfw_dir: Path, tmp_path: Path) -> tuple[Path, SpecimenData]:
    source = sorted((lfw_dir / "images_deepfunneled" / "Colin_Powell").glob("*.jpg"))[0]
    photo = np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(source)), cv2.COLOR_BGR2RGB))
    detector = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    rng = np.random.default_rng(3)
    data = random_specimen(rng, DocumentKind.CN_RESIDENT_ID)
    card = render_card(data, portrait_from_photo(photo, detector.detect(photo)[0].box))
    path = tmp_path / "card.jpg"
    path.write_bytes(photograph(card, rng, shot=Shot(turn_deg=90, tilt_deg=20, glare=True)).jpeg)
    return path, data


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simkyc.cli", "document", "check", *args],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=outside_checkout())


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_a_card_photo_yields_its_portrait_and_its_text_matches_the_typed_data(
        lfw_dir: Path, tmp_path: Path) -> None:
    card, data = _card(lfw_dir, tmp_path)
    typed = ("--id-number", data.number, "--name", f"{data.surname} {data.given_names}",
             "--birth-date", data.birth_date.isoformat(), "--expiry", data.expiry_date.isoformat())
    done = _check(str(card), *typed, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["valid"] is True and out["number"]["valid"] is True
    assert out["portrait"]["quality_acceptable"] is True
    assert {f["field"]: f["status"] for f in out["fields"]} == {
        "document_number": "match", "name": "match", "birth_date": "match",
        "expiry_date": "match"}
    assert out["fields_read"]["number_band"] == data.number


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_a_typed_number_that_is_not_the_cards_is_invalid(lfw_dir: Path,
                                                         tmp_path: Path) -> None:
    card, data = _card(lfw_dir, tmp_path)
    wrong = data.number[:-1] + ("0" if data.number[-1] != "0" else "1")
    done = _check(str(card), "--id-number", wrong, "--json")
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert {"BAD_CHECK_DIGIT", "DOCUMENT_NUMBER_MISMATCH"} <= set(out["errors"])
    assert out["fields"] == [{"field": "document_number", "status": "mismatch",
                              "read": data.number, "source": "number_band"}]


@pytest.mark.data  # the CLI loads its models first
def test_not_an_image_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "card.jpg"
    junk.write_text("not a photo")
    done = _check(str(junk), "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"] == "INVALID_IMAGE"
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.data
@pytest.mark.slow
def test_a_real_passports_mrz_is_verified_by_the_service_reader() -> None:
    """The proofing flow's reader (the own OCR-B recognizer): Iceland's second passport
    specimen, whose MRZ the card-only path read `invalid`, verified as transcribed."""
    folder = require(make_settings().data_dir / "documents-specimens",
                     "evaluation data (set SIMKYC_DATA_DIR)")
    specimen = {s.path.name: s for s in load_manifest(folder)}["isl-passport-td3-2.jpg"]
    assert specimen.mrz_lines is not None
    mrz = parse_mrz(list(specimen.mrz_lines), today=date(2026, 12, 5))
    assert mrz.birth_date is not None
    done = _check(str(specimen.path), "--type", "icao-9303", "--id-number",
                  mrz.document_number, "--birth-date", mrz.birth_date.isoformat(), "--json",
                  "--today", "2026-12-05")
    out = json.loads(done.stdout)
    assert out["mrz"]["status"] == "verified", done.stderr
    assert tuple(out["mrz"]["lines"]) == specimen.mrz_lines
    assert {f["field"]: (f["status"], f["source"]) for f in out["fields"]} == {
        "document_number": ("match", "mrz"), "birth_date": ("match", "mrz")}
