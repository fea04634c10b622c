"""The document evaluation end to end on a handful of cards (the README's figures use 200)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simkyc.config import Settings
from simkyc.eval.documents import run_document_evaluation


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_a_small_evaluation_writes_its_report(
    settings: Settings, lfw_dir: Path, east_asian_dir: Path, tmp_path: Path
) -> None:
    report = run_document_evaluation(settings, count=6, seed=3, out=tmp_path)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert report["cards"] == 6
    extraction = report["extraction"]
    assert isinstance(extraction, dict)
    assert extraction["rate"] == 1.0
    populations = report["populations"]
    assert isinstance(populations, dict)
    assert set(populations) == {"lfw", "east-asian"}
    for figures in populations.values():
        assert figures["people"] == 3
        assert figures["card"]["impostor_pairs"] == 6
        assert 0.0 < figures["threshold"] < 1.0  # the accept threshold (cosine) of the model
    assert not list(tmp_path.glob("*.jpg")) and not list(tmp_path.glob("*.png"))
    ocr = report["ocr"]
    assert isinstance(ocr, dict)
    assert ocr["cards"] == 6 and set(ocr["fields"]) == {
        "document_number", "name", "birth_date", "expiry_date"}
    assert ocr["agreement"] >= 0.75  # 24 field checks on 6 degraded photos
    assert report["document_check_seconds"]["p50"] > report["seconds_per_card"]["p50"]
