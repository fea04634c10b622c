"""Calibration table: thresholds per (model, population, pipeline) as versioned package data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from simkyc.errors import CalibrationMissing

TABLE = "calibration.json"


@dataclass(frozen=True)
class CalibrationPoint:
    """The threshold holding one FMR target, and the FNMR measured there."""

    fmr: float
    threshold: float
    fnmr: float
    supported: bool  # enough impostor pairs (>= 30 expected errors) to trust this FMR
    bound_by: str | None = None  # pooled populations: the set (or "pooled") that set it


@dataclass(frozen=True)
class RejectPoint:
    """The threshold below which at most `fnmr` of genuine pairs fall, and the share of
    impostor pairs below it there (refused automatically)."""

    fnmr: float
    threshold: float
    impostors_below: float
    supported: bool  # enough genuine pairs (>= 30 expected errors) to trust this rate


@dataclass(frozen=True)
class Calibration:
    """One measured calibration: where its numbers came from and how to reproduce them."""

    calibration_id: str
    model_id: str
    population: str
    pipeline: str
    points: tuple[CalibrationPoint, ...]
    n_genuine: int
    n_impostor: int
    date: str
    data: str
    command: str
    reject_points: tuple[RejectPoint, ...] = ()
    replaces: str | None = None  # the calibration this one superseded (provenance)

    def reject_at(self, fnmr: float) -> RejectPoint | None:
        """The reject point calibrated for this false-reject target (None if not measured)."""
        return next((p for p in self.reject_points if _same_rate(p.fnmr, fnmr)), None)

    def calibrates(self, fmr: float) -> bool:
        """Whether this calibration has a threshold for this FMR target."""
        return any(_same_rate(p.fmr, fmr) for p in self.points)

    def at(self, fmr: float) -> CalibrationPoint:
        """The point calibrated for this FMR target."""
        for point in self.points:
            if _same_rate(point.fmr, fmr):
                return point
        raise CalibrationMissing(
            f"Calibration {self.calibration_id} has no threshold for FMR {fmr:g}; "
            f"calibrated: {', '.join(f'{p.fmr:g}' for p in self.points)}."
        )


def _same_rate(stored: float, target: float) -> bool:
    """A rate read back from the JSON table equals the target to a millionth of it."""
    return abs(stored - target) <= target * 1e-6


def load_table() -> list[Calibration]:
    """Every calibration shipped in the package."""
    raw = json.loads(resources.files("simkyc.faces").joinpath("data", TABLE).read_text())
    return [calibration_from_entry(entry) for entry in raw["calibrations"]]


def calibration_from_entry(entry: dict[str, Any]) -> Calibration:
    """One table entry (as the JSON holds it)."""
    entry = dict(entry)
    points = tuple(CalibrationPoint(**point) for point in entry.pop("points"))
    rejects = tuple(RejectPoint(**point) for point in entry.pop("reject_points", []))
    return Calibration(points=points, reject_points=rejects, **entry)


def find(table: list[Calibration], *, model_id: str, population: str, pipeline: str) -> Calibration:
    """The calibration of this model, population and pipeline, or a clear error."""
    for calibration in table:
        if (calibration.model_id, calibration.population, calibration.pipeline) == (
            model_id,
            population,
            pipeline,
        ):
            return calibration
    known = sorted({f"{c.model_id}/{c.population}/{c.pipeline}" for c in table})
    raise CalibrationMissing(
        f"No calibration for model {model_id}, population {population}, pipeline {pipeline}: "
        f"the engine cannot back a threshold. Calibrated: {', '.join(known) or 'none'}. "
        "Run `simkyc eval faces --write-calibration` on data of that population."
    )
