"""A calibration id names one set of thresholds for good: recalibrating writes a new id."""

from __future__ import annotations

from typing import Any

from simkyc.eval.faces import merge_calibrations


def _entry(date: str, accept: float, population: str = "east-asian") -> dict[str, Any]:
    return {
        "calibration_id": f"m/{population}/yunet+mesh+flip/{date}", "model_id": "m",
        "population": population, "pipeline": "yunet+mesh+flip", "date": date,
        "points": [{"fmr": 0.001, "threshold": accept, "fnmr": 0.1, "supported": True}],
        "reject_points": [{"fnmr": 0.005, "threshold": 0.1, "impostors_below": 0.6,
                           "supported": True}],
    }


def test_same_day_recalibration_gets_a_revision() -> None:
    table = [_entry("2026-12-05", 0.670, "lfw"), _entry("2026-12-05", 0.670)]
    merged = merge_calibrations(table, [_entry("2026-12-05", 0.668)])
    ids = [e["calibration_id"] for e in merged]
    assert ids == ["m/lfw/yunet+mesh+flip/2026-12-05", "m/east-asian/yunet+mesh+flip/2026-12-05.2"]
    assert merged[1]["replaces"] == "m/east-asian/yunet+mesh+flip/2026-12-05"
    again = merge_calibrations(merged, [_entry("2026-12-05", 0.669)])
    assert again[1]["calibration_id"] == "m/east-asian/yunet+mesh+flip/2026-12-05.3"
    assert again[1]["replaces"] == "m/east-asian/yunet+mesh+flip/2026-12-05.2"


def test_unchanged_thresholds_keep_the_old_entry() -> None:
    old = _entry("2026-12-04", 0.670) | {"command": "the first run"}
    merged = merge_calibrations([old], [_entry("2026-12-05", 0.670)])
    assert merged == [old]


def test_a_later_day_uses_its_date_and_names_the_one_replaced() -> None:
    merged = merge_calibrations([_entry("2026-12-04", 0.670)], [_entry("2026-12-05", 0.668)])
    assert merged[0]["calibration_id"] == "m/east-asian/yunet+mesh+flip/2026-12-05"
    assert merged[0]["replaces"] == "m/east-asian/yunet+mesh+flip/2026-12-04"


def test_entries_are_replaced_in_place_and_new_ones_appended() -> None:
    table = [_entry("2026-12-04", 0.670), _entry("2026-12-04", 0.36, "lfw")]
    merged = merge_calibrations(table, [_entry("2026-12-05", 0.668, "kpop"),
                                        _entry("2026-12-05", 0.668)])
    assert [e["population"] for e in merged] == ["east-asian", "lfw", "kpop"]
    assert merged[0]["calibration_id"].endswith("2026-12-05")
