"""The `simkyc` command as a user runs it: exit codes, JSON, batch pairs, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from settings_for_tests import DEFAULT_RECOGNIZER, outside_checkout


def _simkyc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simkyc.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False, cwd=outside_checkout(),
    )


LFW_DECIDES = {"SIMKYC_POPULATION": "lfw"}


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_verify_match_exits_0(examples: Path) -> None:
    done = _simkyc(
        "verify",
        str(examples / "obama.jpg"),
        str(examples / "obama2.jpg"),
        "--json",
        env=LFW_DECIDES,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["decision"] == "match"
    assert out["model_id"] == DEFAULT_RECOGNIZER


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_verify_no_match_exits_1(examples: Path) -> None:
    done = _simkyc(
        "verify", str(examples / "obama.jpg"), str(examples / "biden.jpg"), env=LFW_DECIDES
    )
    assert done.returncode == 1
    assert "no_match" in done.stdout


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_verify_review_exits_2_when_the_reject_side_is_unsupported(examples: Path) -> None:
    # 6,523 genuine pairs cannot back refusing only 0.1% of them: not a match is `review`.
    done = _simkyc("verify", str(examples / "obama.jpg"), str(examples / "biden.jpg"), "--json",
                   env={"SIMKYC_FALSE_REJECT_TARGET": "0.001"})
    assert done.returncode == 2
    out = json.loads(done.stdout)
    assert out["decision"] == "review" and "not supported" in out["reasons"][0]
    assert out["reason_codes"] == ["reject_unsupported"]
    assert out["reason_figures"][0]["rate"] == 0.001


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_verify_error_exits_3_without_traceback(examples: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    done = _simkyc("verify", str(examples / "obama.jpg"), str(text), "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"] == "INVALID_IMAGE"
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_verify_pairs_keeps_order_and_reports_bad_rows(examples: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    rows = [
        (examples / "obama.jpg", examples / "obama2.jpg"),
        (examples / "obama.jpg", tmp_path / "missing.jpg"),
        (examples / "two_people.jpg", examples / "biden.jpg"),
        (examples / "obama.jpg", examples / "biden.jpg"),
    ]
    pairs.write_text("".join(f"{a},{b}\n" for a, b in rows))
    done = _simkyc("verify", "--pairs", str(pairs), env=LFW_DECIDES)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["a"] for line in lines] == [str(a) for a, _ in rows]
    assert [line["decision"] for line in lines] == ["match", "error", "error", "no_match"]
    assert [line["error"] for line in lines] == [None, "INVALID_IMAGE", "MULTIPLE_FACES", None]
    assert all(isinstance(line["threshold"], float) for line in lines)


@pytest.mark.data  # the model files in SIMKYC_MODELS_DIR
def test_models_lists_recognizers_and_calibrations() -> None:
    done = _simkyc("models")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    by_id = {r["model_id"]: r for r in listing["recognizers"]}
    assert by_id["dlib-resnet-v1"]["installed"] is True
    omz = by_id["omz-face-reid-0095"]
    assert omz["installed"] is True and omz["source"] == "openvino-ir"
    assert "Apache-2.0" in omz["licence"] and "VGGFace2" in omz["licence"]  # the caveat
    assert by_id["omz-face-reid-0095-int8"]["installed"] is True  # the INT8 IR, int8 kernels
    q8 = by_id["omz-face-reid-0095-q8"]  # the FP16 weights quantised by us, int8 kernels
    assert q8["installed"] is True and "VGGFace2" in q8["licence"] and "int8" in q8["licence"]
    assert by_id["sface-2021dec"]["installed"] is False  # not on these machines: say so
    assert {c["population"] for c in listing["calibrations"]} >= {"lfw", "east-asian"}


@pytest.mark.usefixtures("examples")
@pytest.mark.slow  # over 5 s (pytest --durations)
def test_eval_faces_writes_report_and_det_plot(tmp_path: Path) -> None:
    done = _simkyc(
        "eval",
        "faces",
        "--dataset",
        "casia",
        "--limit",
        "8",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
        env={"SIMKYC_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    casia = report["sets"]["casia"]
    assert casia["images"] == 40
    assert casia["all_pairs"]["n_genuine"] == 8 * 10
    assert 0.0 <= casia["all_pairs"]["eer"] < 0.5
    assert (tmp_path / "det.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The two-threshold policy: reject points calibrated, and where the policy sends pairs.
    (entry,) = report["calibrations"]
    assert {p["fnmr"] for p in entry["reject_points"]} >= {0.005}
    shares = report["policy"]["sets"]["casia"]
    assert shares["population"] == "casia" and shares["n_genuine"] + shares["n_impostor"] > 0
    total = shares["genuine_matched"] + shares["genuine_review"] + shares["genuine_refused"]
    assert total == pytest.approx(1.0)


def test_the_verify_summary_in_chinese(examples: Path) -> None:
    """Under LANG=zh_CN the human summary is Chinese (decision, figures' names, the review
    reason, the quality lines); it was English whatever LANG said."""
    done = _simkyc("verify", str(examples / "obama.jpg"), str(examples / "biden.jpg"),
                   env={"SIMKYC_FALSE_REJECT_TARGET": "0.001", "LANG": "zh_CN.UTF-8",
                        "LC_ALL": "", "LANGUAGE": "", "COLUMNS": "200"})
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0].startswith("需审核  分数 ") and "阈值" in lines[0], done.stdout
    assert "需审核：校准所用的 6,523 对同人样本不足以支撑 0.001 的拒识率" in done.stdout
    assert lines[-2].startswith("  证件：两眼间距") and lines[-1].startswith("  自拍：两眼间距")
    for english in ("score", "threshold", "review", "eyes", "sharpness", "document", "selfie",
                    "not supported"):
        assert english not in done.stdout, english
