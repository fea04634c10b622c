"""`simkyc eval faces`: accuracy per data set, calibration per population, DET plot, report."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from simkyc.config import Settings
from simkyc.eval import datasets, scoring
from simkyc.eval.det import plot_det
from simkyc.eval.embedding import EmbeddedSet, embed_dataset
from simkyc.eval.metrics import (
    ScoreSet,
    VerificationSummary,
    det_curve,
    fmr_at,
    fnmr_at,
    kfold_accuracy,
    summary,
)
from simkyc.eval.policy_eval import ZNorm, fuse_scores, policy_shares, reject_points, round_up
from simkyc.faces.calibration import TABLE, calibration_from_entry
from simkyc.faces.pipeline import pipeline_id

FMRS = (1e-2, 1e-3, 1e-4)
FUSION_FRAMES = 3
console = Console(stderr=True)


@dataclass(frozen=True)
class Measured:
    """One data set's embeddings and all-pairs scores."""

    dataset: datasets.FaceDataset
    embedded: EmbeddedSet
    scores: ScoreSet
    fused: scoring.FusionScores | None  # document vs FUSION_FRAMES live frames


def run_face_evaluation(
    settings: Settings,
    names: list[str],
    *,
    out: Path,
    limit: int | None,
    workers: int,
    write_calibration: bool,
    compare_with: str | None = None,
) -> dict[str, object]:
    """Measure every named data set, print a table, write report.json and det.png to `out`;
    with `compare_with`, measure that recognizer too (its calibrations, its DET curves on the
    same plot, and the fusion of both models' scores)."""
    report, populations = _evaluate(settings, names, limit, workers)
    out.mkdir(parents=True, exist_ok=True)
    curves = {f"{settings.recognizer}: {name}": det_curve(scores)
              for name, scores in populations.items()}
    models = [report]
    if compare_with is not None:
        other_settings = settings.model_copy(update={"recognizer": compare_with})
        other, other_populations = _evaluate(other_settings, names, limit, workers)
        models.append(other)
        curves |= {f"{compare_with}: {name}": det_curve(scores)
                   for name, scores in other_populations.items()}
        report["score_fusion"] = _score_fusion(populations, other_populations)
        report["compared_with"] = other
    plot_det(curves, out / "det.png", f"DET, all pairs ({pipeline_id(settings)})")
    (out / "report.json").write_text(json.dumps(report, indent=2))
    for model in models:
        _print(model)
    if write_calibration:
        _write_calibrations([c for m in models for c in m["calibrations"]])
    console.print(f"report: {out / 'report.json'}  DET: {out / 'det.png'}")
    return report


def _evaluate(
    settings: Settings, names: list[str], limit: int | None, workers: int
) -> tuple[dict[str, Any], dict[str, ScoreSet]]:
    """One recognizer over the named sets: its report (figures, calibrations, the deployed
    policy) and the score set of each population."""
    measured = {
        name: _measure(settings, datasets.load(name, settings.data_dir, limit), workers)
        for name in names
    }
    report: dict[str, Any] = {
        "model_id": settings.recognizer,
        "pipeline": pipeline_id(settings),
        "date": dt.date.today().isoformat(),
        "sets": {},
        "calibrations": [],
    }
    populations = _populations(measured)
    for name, m in measured.items():
        report["sets"][name] = _set_report(m, populations)
    calibrations = [
        _calibration(settings, pop, scores, _members(measured, pop))
        for pop, scores in populations.items()
    ]
    report["calibrations"] = calibrations
    report["policy"] = _policy_report(settings, measured, populations, calibrations)
    return report, populations


def _members(measured: dict[str, Measured], population: str) -> dict[str, ScoreSet]:
    """The score sets an accept threshold must also hold its FMR on: each member set of a
    pooled population, and the deployed probe kind (FUSION_FRAMES live frames fused) of each."""
    members: dict[str, ScoreSet] = {}
    for name, m in measured.items():
        if population not in {name, m.dataset.population}:
            continue
        if name != population:
            members[name] = m.scores
        if m.fused is not None:
            members[f"{name}, {FUSION_FRAMES} frames fused"] = m.fused.mean_embedding
    return members


def _deployed_population(dataset: datasets.FaceDataset, populations: dict[str, ScoreSet]) -> str:
    """The calibration a deployment would use for this set's people."""
    return dataset.population if dataset.population in populations else dataset.name


def _policy_report(
    settings: Settings,
    measured: dict[str, Measured],
    populations: dict[str, ScoreSet],
    entries: list[dict[str, object]],
) -> dict[str, object]:
    """Per population and per set: where the deployed two-threshold policy sends the pairs
    (with the calibration of the set's population, at the configured targets)."""
    table = {c.population: c for c in map(calibration_from_entry, entries)}
    targets = {"fmr_target": settings.fmr_target,
               "false_reject_target": settings.false_reject_target}
    by_population = {
        pop: policy_shares(scores, table[pop], **targets).to_dict()
        for pop, scores in populations.items()
    }
    by_set = {
        name: {
            "population": (pop := _deployed_population(m.dataset, populations)),
            **policy_shares(m.scores, table[pop], **targets).to_dict(),
        }
        for name, m in measured.items()
    }
    # The deployed probe is several live frames fused: the same policy on those scores.
    fused = {
        name: policy_shares(m.fused.mean_embedding,
                            table[_deployed_population(m.dataset, populations)],
                            **targets).to_dict()
        for name, m in measured.items() if m.fused is not None
    }
    return {**targets, "populations": by_population, "sets": by_set,
            f"sets_fused_{FUSION_FRAMES}_frames": fused}


def _score_fusion(
    first: dict[str, ScoreSet], second: dict[str, ScoreSet]
) -> dict[str, object]:
    """Both models' scores, z-normalised by each model's LFW impostor scores (a set apart
    from the East Asian ones), averaged: FNMR at each FMR per population, vs each alone."""
    if "lfw" not in first:
        return {"skipped": "needs the lfw set for the z-normalisation"}
    norm_a, norm_b = ZNorm.of(first["lfw"].impostor), ZNorm.of(second["lfw"].impostor)
    result: dict[str, object] = {"znorm": {"first": asdict(norm_a), "second": asdict(norm_b)}}
    for pop, scores in first.items():
        fused = fuse_scores(scores, norm_a, second[pop], norm_b)
        result[pop] = {
            label: {f"fnmr_at_{p.target_fmr:g}": p.fnmr for p in summary(s, FMRS).operating_points}
            for label, s in (("first", scores), ("second", second[pop]), ("fused", fused))
        }
    return result


def _measure(settings: Settings, dataset: datasets.FaceDataset, workers: int) -> Measured:
    """Embed a data set (with a progress bar) and score all its pairs."""
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"embedding {dataset.name}", total=len(dataset.images))

        def ticks() -> object:
            while True:
                bar.advance(task)
                yield None

        embedded = embed_dataset(settings, dataset, workers, ticks())  # type: ignore[arg-type]
    matrix = scoring.similarity_matrix(embedded.embeddings, embedded.found)
    fused = scoring.fusion(embedded.embeddings, embedded.found, embedded.quality,
                           dataset.identities, FUSION_FRAMES)
    scores = scoring.all_pairs(matrix, dataset.identities, embedded.found)
    return Measured(dataset, embedded, scores, fused)


def _populations(measured: dict[str, Measured]) -> dict[str, ScoreSet]:
    """Score sets to calibrate: each data set, and the East Asian sets pooled (cross-set
    impostors included, since a deployment's applicants come from all of them)."""
    sets = {name: m.scores for name, m in measured.items()}
    east = [m for m in measured.values() if m.dataset.population == "east-asian"]
    if len(east) > 1:
        embeddings = np.concatenate([m.embedded.embeddings for m in east])
        found = np.concatenate([m.embedded.found for m in east])
        people: dict[str, int] = {}
        identities = np.concatenate([
            np.array([people.setdefault(m.dataset.person_keys[i], len(people))
                      for i in m.dataset.identities], np.intp)
            for m in east
        ])
        matrix = scoring.similarity_matrix(embeddings, found)
        sets["east-asian"] = scoring.all_pairs(matrix, identities, found)
    return sets


def _set_report(m: Measured, populations: dict[str, ScoreSet]) -> dict[str, object]:
    """Figures for one data set: all pairs, protocol pairs, threshold transfer, fusion."""
    entry: dict[str, object] = {
        "images": len(m.dataset.images),
        "identities": int(m.dataset.identities.max()) + 1,
        "no_face": m.embedded.failures,
        "all_pairs": summary(m.scores, FMRS).to_dict(),
        **_acquired_report(m),
    }
    protocol = m.dataset.protocol
    if protocol is not None:
        matrix = scoring.similarity_matrix(m.embedded.embeddings, m.embedded.found)
        pair_scores = matrix[protocol.first, protocol.second]
        folds = kfold_accuracy(pair_scores, protocol.same, protocol.fold)
        entry["protocol"] = {
            "accuracy": folds.mean,
            "standard_error": folds.standard_error,
            "summary": summary(
                ScoreSet(pair_scores[protocol.same], pair_scores[~protocol.same]), FMRS
            ).to_dict(),
        }
    if "lfw" in populations and m.dataset.population != "lfw":
        threshold = summary(populations["lfw"], FMRS).operating_points[1].threshold
        entry["at_lfw_threshold"] = {
            "threshold": threshold,
            "fmr": fmr_at(m.scores.impostor, threshold),
            "fnmr": fnmr_at(m.scores.genuine, threshold),
        }
    fused = m.fused
    if fused is not None:
        entry["fusion"] = {
            f"{name}_of_{FUSION_FRAMES}": summary(s, FMRS[:2]).to_dict()
            for name, s in (
                ("best_frame", fused.best_frame),
                ("mean_embedding", fused.mean_embedding),
                ("mean_score", fused.mean_score),
            )
        }
    return entry


def _acquired_report(m: Measured) -> dict[str, object]:
    """The failure-to-acquire rate and the figures over the pairs of acquired images alone:
    how outside evaluations (ISO/IEC 19795-1, and this issue's author) state FNMR, so the
    two conventions can be told apart. `all_pairs` stays the headline and the calibration's
    input: a photo the pipeline cannot use is a refused applicant."""
    found = m.embedded.found
    acquired: dict[str, object] = {"failure_to_acquire": 1.0 - float(found.mean())}
    if found.sum() > 1 and not found.all():
        matrix = scoring.similarity_matrix(m.embedded.embeddings, found)
        pairs = scoring.acquired_pairs(matrix, m.dataset.identities, found)
        if pairs.genuine.size and pairs.impostor.size:
            acquired["acquired_pairs"] = summary(pairs, FMRS).to_dict()
    return acquired


def _calibration(
    settings: Settings, population: str, scores: ScoreSet, members: dict[str, ScoreSet]
) -> dict[str, object]:
    """A calibration-table entry for one population, with its provenance.

    The accept threshold holds the FMR target on the population's pairs and on every member
    score set whose impostor count supports that FMR (the highest of those thresholds): each
    set of a pooled population, and the deployed probe (several live frames fused, whose
    impostor scores run higher than single photos'). The safety promise is kept for each
    group of applicants and for what is deployed, not only on average."""
    result: VerificationSummary = summary(scores, FMRS[1:])
    parts = {name: summary(s, FMRS[1:]) for name, s in members.items()}
    date = dt.date.today().isoformat()
    points = []
    floor = ("pooled", -np.inf)  # a lower FMR never gets a lower threshold than a higher one
    for k, p in enumerate(result.operating_points):
        bound = {"pooled": p.threshold} | {
            name: part.operating_points[k].threshold
            for name, part in parts.items() if part.operating_points[k].supported
        }
        by, threshold = max([*bound.items(), floor], key=lambda item: item[1])
        floor = (by, threshold)
        points.append({
            "fmr": p.target_fmr,
            "threshold": round_up(threshold),
            "fnmr": round(fnmr_at(scores.genuine, round_up(threshold)), 6),
            "supported": p.supported,
            **({"bound_by": by} if members else {}),
        })
    return {
        "calibration_id": f"{settings.recognizer}/{population}/{pipeline_id(settings)}/{date}",
        "model_id": settings.recognizer,
        "population": population,
        "pipeline": pipeline_id(settings),
        "points": points,
        "reject_points": [asdict(p) for p in reject_points(scores)],
        "n_genuine": result.n_genuine,
        "n_impostor": result.n_impostor,
        "date": date,
        "data": _DATA_NOTES.get(population, population),
        "command": f"SIMKYC_RECOGNIZER={settings.recognizer} "
        f"SIMKYC_DETECTOR={settings.detector.value} "
        f"SIMKYC_MESH_LANDMARKS={str(settings.mesh_landmarks).lower()} "
        f"SIMKYC_FLIP_TTA={str(settings.flip_tta).lower()} simkyc eval faces --write-calibration",
    }


_DATA_NOTES = {
    "lfw": "LFW deep-funneled, 7,701 protocol images, all pairs",
    "casia": "CASIA-FaceV5 subset, 40 subjects x 5, all pairs",
    "kpop": "K-pop idols crops, 15 people, all pairs",
    "apf": "East Asian public figures (bigblockofice/AsianFaces), 410 people, 725 photos, "
    "all pairs",
    "lfw-east-asian": "LFW's 183 East Asian identities among the protocol images, all pairs",
    "east-asian": "CASIA-FaceV5 subset + K-pop crops + East Asian public figures + LFW's East "
    "Asian identities pooled, all pairs (one person in two sets counted as one)",
}


def _write_calibrations(entries: list[dict[str, Any]]) -> None:
    """Replace this model+pipeline's entries in the package's calibration table."""
    path = Path(__file__).resolve().parents[1] / "faces" / "data" / TABLE
    table = json.loads(path.read_text()) if path.is_file() else {"calibrations": []}
    table["calibrations"] = merge_calibrations(table["calibrations"], entries)
    path.write_text(json.dumps(table, indent=2) + "\n")
    console.print(f"calibration table updated: {path}")


def merge_calibrations(table: list[dict[str, Any]], entries: list[dict[str, Any]]
                       ) -> list[dict[str, Any]]:
    """The table with `entries` in place of the ones of the same model, population and
    pipeline.

    A calibration id names one set of thresholds for good: sessions and evidence records
    store it. So an entry whose thresholds equal the one it would replace keeps the old
    entry (its id, date and provenance), and one recalibrated the same day with other
    thresholds gets the next free revision, `<date>.2`, `.3`, ... The entry replaced stays
    named in `replaces`.
    """
    def key(e: dict[str, Any]) -> tuple[str, str, str]:
        return (e["model_id"], e["population"], e["pipeline"])

    def thresholds(e: dict[str, Any]) -> tuple[object, object]:
        return (e["points"], e["reject_points"])

    old = {key(e): e for e in table}
    taken = {e["calibration_id"] for e in table} | {e.get("replaces") for e in table}
    merged = {}
    for new in entries:
        before = old.get(key(new))
        if before is not None and thresholds(before) == thresholds(new):
            merged[key(new)] = before
            continue
        base, revision, name = new["calibration_id"], 2, new["calibration_id"]
        while name in taken:
            name, revision = f"{base}.{revision}", revision + 1
        taken.add(name)
        # provenance: the entry a recalibration replaces stays named
        merged[key(new)] = new | {"calibration_id": name} | (
            {"replaces": before["calibration_id"]} if before is not None else {})
    # In place (a recalibration's diff shows what changed), new keys at the end.
    return [merged.pop(key(e), e) for e in table] + list(merged.values())


def _print(report: dict[str, object]) -> None:
    """The headline figures as a table."""
    table = Table(title=f"{report['model_id']} ({report['pipeline']})")
    for column in (
        "set",
        "no face",
        "10-fold acc",
        "EER",
        "TAR@1e-2",
        "TAR@1e-3",
        "TAR@1e-4",
        "FNMR@1e-3",
        "FTA",
        "FNMR@1e-3 acquired",
    ):
        table.add_column(column)
    for name, entry in report["sets"].items():  # type: ignore[attr-defined]
        points = entry["all_pairs"]["operating_points"]
        protocol = entry.get("protocol")
        table.add_row(
            name,
            str(sum(entry["no_face"].values())),
            f"{protocol['accuracy']:.2%} ± {protocol['standard_error']:.2%}" if protocol else "-",
            f"{entry['all_pairs']['eer']:.2%}",
            *(f"{p['tar']:.2%}{'' if p['supported'] else '*'}" for p in points),
            f"{points[1]['fnmr']:.2%}",
            f"{entry['failure_to_acquire']:.2%}",
            _acquired_fnmr(entry),
        )
    Console().print(table)
    Console().print("* FMR target below what the number of impostor pairs supports")


def _acquired_fnmr(entry: dict[str, Any]) -> str:
    """FNMR at FMR 1e-3 over the acquired images' pairs ('=' when every image was)."""
    acquired = entry.get("acquired_pairs")
    if acquired is None:
        return "="
    point = acquired["operating_points"][1]
    return f"{point['fnmr']:.2%}{'' if point['supported'] else '*'}"
