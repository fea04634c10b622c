"""`simkyc liveness check` as a user runs it: exit codes 0 live / 2 retry / 3 error, JSON shape.

Runs the sub-app's module entry point (`python -m simkyc.cli.liveness`), the same Typer app
that `simkyc liveness` mounts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
from settings_for_tests import outside_checkout

from simkyc.liveness.media import MediaLimits, decode_video


def _liveness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simkyc.cli.liveness", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False, cwd=outside_checkout(),
    )


def _assert_check_shape(out: dict[str, object]) -> None:
    checks = out["checks"]
    assert isinstance(checks, dict)
    assert {"face_present", "passive"} <= set(checks)
    for check in checks.values():
        assert {"passed", "value", "threshold", "reason"} <= set(check)


def test_a_valid_challenge_exits_0(headturn: Path) -> None:
    # She turns to her right at ~0.6 s and to her left at ~3 s (evaluation.HEADTURN_ACTIONS).
    done = _liveness("check", str(headturn), "--challenge", "turn_right,turn_left", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["verdict"] == "live"
    _assert_check_shape(out)
    assert out["checks"]["challenge"]["passed"] is True


def test_an_impossible_challenge_exits_2(headturn: Path) -> None:
    done = _liveness("check", str(headturn), "--challenge", "turn_left,turn_right", "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["verdict"] == "retry"
    _assert_check_shape(out)
    assert out["checks"]["challenge"]["passed"] is False
    # JSON says the reasons in English from the catalog, their keys beside them.
    assert "not seen in order: " in out["checks"]["challenge"]["reason"]
    assert "Turn your head to your right" in out["checks"]["challenge"]["reason"]
    assert any(k["id"] == "liveness.not_seen" and "turn_right" in k["actions"]
               for k in out["reason_keys"]), out["reason_keys"]


def test_a_corrupt_file_exits_3_without_traceback(headturn: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "clip.webm"
    corrupt.write_bytes(bytes(range(256)) * 64)
    done = _liveness("check", str(corrupt), "--passive", "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout) == {
        "verdict": "error",
        "error": "INVALID_MEDIA",
        "message": "The video cannot be read (WebM, MP4 or AVI expected).",
    }
    assert "Traceback" not in done.stdout + done.stderr


def test_an_unknown_action_or_no_mode_exits_3(headturn: Path) -> None:
    unknown = _liveness("check", str(headturn), "--challenge", "turn_left,jump", "--json")
    neither = _liveness("check", str(headturn), "--json")
    assert (unknown.returncode, neither.returncode) == (3, 3)
    assert json.loads(unknown.stdout)["error"] == json.loads(neither.stdout)["error"]
    assert "jump" in json.loads(unknown.stdout)["message"]


def test_still_frames_are_timed_by_fps_and_checked(headturn: Path, tmp_path: Path) -> None:
    frames = decode_video(headturn.read_bytes(), MediaLimits())[-8:]  # she faces the camera
    stills = []
    for k, frame in enumerate(frames):
        stills.append(tmp_path / f"frame{k}.jpg")
        cv2.imwrite(str(stills[-1]), frame.pixels[..., ::-1])
    done = _liveness("check", *map(str, stills), "--passive", "--fps", "10", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert (out["verdict"], out["frames_analysed"]) == ("live", len(stills))
    _assert_check_shape(out)


def test_the_summary_in_chinese(headturn: Path) -> None:
    """Under LANG=zh_CN the verdict, the checks' names, pass/fail and the reasons are
    Chinese; they were English whatever LANG said."""
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LC_ALL": "", "LANGUAGE": "", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "simkyc.cli.liveness", "check", str(headturn), "--challenge",
         "turn_left,turn_right"], capture_output=True, text=True, timeout=300, env=env,
        check=False, cwd=outside_checkout())
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("需重试  ") and "帧，检测到的动作：" in lines[0], done.stdout
    assert "动作挑战" in done.stdout and "未按顺序检测到：请向右转头" in done.stdout, done.stdout
    for english in ("retry", "frames", "actions seen", "challenge", "threshold", "pass",
                    "FAIL", "not seen"):
        assert english not in done.stdout, english
