"""Evaluation of portrait extraction and document-vs-selfie matching on synthetic specimens.

For each person (LFW people with two or more photos; the East Asian sets' people), photo 1
goes on a specimen card that is then photographed virtually, and photo 2 plays the selfie.
Measured: how often a portrait is extracted, how long the document check takes, and, per
calibration population at its deployed threshold, the TAR of card portrait vs selfie and the
FMR against every other person's selfie, beside the same figures for the original photo 1,
so the loss the card and the photo cause is visible; and the card's text (OCR) against the
typed data (`text_evaluation`). Images stay in memory.

    python -m simkyc.eval.documents --count 200 --seed 1 --out /tmp/documents-eval
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from simkyc.config import Settings, get_settings
from simkyc.documents.portrait import extract_portrait
from simkyc.documents.reading import DocumentReader
from simkyc.errors import SimkycError
from simkyc.eval.datasets import IMAGE_SUFFIXES
from simkyc.eval.document_text import (
    TextOutcome,
    measure_text,
    print_text,
    text_figures,
    typed_as_agent,
)
from simkyc.faces.detect import central_face
from simkyc.faces.pipeline import FaceEncoder, FacePipeline, pipeline_id
from simkyc.synth.specimen import DocumentKind, portrait_from_photo, random_specimen, render_card
from simkyc.synth.virtual_photo import VirtualPhoto, photograph
from simkyc.types import Embedding, Face, Image

console = Console(stderr=True)
LFW, EAST_ASIAN = "lfw", "east-asian"
# Corners further from the truth than this share of the card's diagonal: wrong card or turn.
CORNER_TOLERANCE = 0.1


@dataclass(frozen=True)
class Person:
    """One identity: the photo that goes on the card and the one that plays the selfie."""

    population: str
    card_photo: Path
    selfie: Path
    kind: DocumentKind


@dataclass(frozen=True)
class Outcome:
    """What happened to one person's card."""

    person: Person
    error: str | None  # the error code when no portrait was extracted
    seconds: float
    original: Embedding  # photo 1 itself
    selfie: Embedding  # photo 2
    original_findings: tuple[str, ...]  # the quality checks photo 1 itself fails
    text: TextOutcome | None = None  # the OCR cross-check (None: the person was skipped)
    card: Embedding | None = None  # the portrait extracted from the photographed card
    corner_error: float | None = None  # largest corner distance / card diagonal
    upright: bool = False  # no other turn of the corners found is nearer the truth
    quality_ok: bool = False
    findings: tuple[str, ...] = ()  # the quality checks the card portrait fails


@dataclass(frozen=True)
class _Tools:
    """What reading a card takes, and the generator of the other data typed."""

    settings: Settings
    encoder: FaceEncoder
    documents: DocumentReader  # the service's document reader
    others: np.random.Generator


@dataclass(frozen=True)
class _Source:
    """A data-set photo, its central face, that face's embedding and failed quality checks."""

    pixels: Image
    face: Face
    embedding: Embedding
    findings: tuple[str, ...]


def run_document_evaluation(
    settings: Settings, *, count: int = 200, seed: int = 1, out: Path
) -> dict[str, object]:
    """Generate, photograph and read `count` cards; write out/report.json and print a table."""
    rng = np.random.default_rng(seed)
    encoder = FaceEncoder.from_settings(settings)
    # The other data typed comes from a generator of its own: the cards stay those of `seed`.
    tools = _Tools(settings, encoder, DocumentReader.from_settings(settings),
                   np.random.default_rng(seed + 7919))
    outcomes = _measure(tools, candidates(settings.data_dir, rng), count, rng)
    report = _report(settings, outcomes, count=count, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    _print(report)
    console.print(f"report: {out / 'report.json'}")
    return report


def candidates(data_dir: Path, rng: np.random.Generator) -> tuple[list[Person], list[Person]]:
    """The East Asian sets' people and LFW's, each in a random order."""
    east_asian = _folders(data_dir / "east-asian" / "casia-facev5-40") + _folders(
        data_dir / "east-asian" / "kpop-idols-15" / "images"
    )
    lfw = _folders(data_dir / "lfw" / "images_deepfunneled")
    kinds = (DocumentKind.TD1_ID_CARD, DocumentKind.TD1_ID_CARD, DocumentKind.TD3_PASSPORT)
    return (
        [
            _person(f, EAST_ASIAN, DocumentKind.CN_RESIDENT_ID, rng)
            for f in _shuffled(east_asian, rng)
        ],
        [_person(f, LFW, kinds[i % 3], rng) for i, f in enumerate(_shuffled(lfw, rng))],
    )


def _shuffled(items: list[list[Path]], rng: np.random.Generator) -> list[list[Path]]:
    """The items in a random order."""
    return [items[int(i)] for i in rng.permutation(len(items))]


def _folders(root: Path) -> list[list[Path]]:
    """Each person's images, for the people with at least two."""
    if not root.is_dir():
        return []
    people = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if len(images) >= 2:
            people.append(images)
    return people


def _person(
    images: list[Path], population: str, kind: DocumentKind, rng: np.random.Generator
) -> Person:
    """Two different photos of one person, drawn at random."""
    first, second = rng.choice(len(images), size=2, replace=False)
    return Person(population, images[int(first)], images[int(second)], kind)


def _measure(
    tools: _Tools,
    groups: tuple[list[Person], list[Person]],
    count: int,
    rng: np.random.Generator,
) -> list[Outcome]:
    """Cards of up to `count` // 2 East Asian people, then LFW people up to `count` in all.

    A person whose own photos show no usable face is skipped: that says nothing about cards.
    """
    east_asian, lfw = groups
    outcomes: list[Outcome] = []
    for people, quota in ((east_asian, count // 2), (lfw, count)):
        taken = 0
        for person in people:
            if taken >= quota or len(outcomes) >= count:
                break
            outcome = _one(tools, person, rng)
            if outcome is not None:
                outcomes.append(outcome)
                taken += 1
                _progress(outcomes, count)
    return outcomes


def _progress(outcomes: list[Outcome], count: int) -> None:
    """A line every 20 cards."""
    done = len(outcomes)
    if done % 20 == 0 or done == count:
        failed = sum(o.error is not None for o in outcomes)
        console.print(f"{done}/{count} cards, {failed} without a portrait")


def _one(tools: _Tools, person: Person, rng: np.random.Generator) -> Outcome | None:
    """Make, photograph and read one person's card; None if their own photos are unusable."""
    encoder = tools.encoder
    try:
        source, selfie = _source(encoder, person.card_photo), _source(encoder, person.selfie)
    except SimkycError:
        return None
    portrait = portrait_from_photo(source.pixels, source.face.box)
    data, other = random_specimen(rng, person.kind), random_specimen(tools.others, person.kind)
    photo = photograph(render_card(data, portrait), rng)
    base = Outcome(
        person=person,
        error=None,
        seconds=0.0,
        original=source.embedding,
        selfie=selfie.embedding,
        original_findings=source.findings,
    )
    start = time.perf_counter()
    sure = tools.settings.ocr_sure_score
    try:  # as the proofing flow's document step: decode, portrait, then the text
        pixels = encoder.decoder.decode(photo.jpeg).pixels
        result = extract_portrait(pixels, encoder, require_quality=False)
    except SimkycError as error:
        unread = measure_text(None, data, other, seconds=0.0, sure_score=sure)
        return replace(base, error=error.code, seconds=time.perf_counter() - start, text=unread)
    seconds = time.perf_counter() - start
    read_at = time.perf_counter()
    checked = tools.documents.text(pixels, card=result.card, typed=typed_as_agent(data),
                                   today=date.today())
    text = measure_text(checked, data, other, seconds=time.perf_counter() - read_at,
                        sure_score=sure)
    return replace(
        base,
        seconds=seconds,
        text=text,
        card=result.sample.embedding,
        corner_error=_corner_error(photo, result.quad.corners),
        upright=_upright(photo, result.quad.corners),
        quality_ok=result.sample.quality.acceptable,
        findings=tuple(finding.check for finding in result.sample.quality.findings),
    )


def _source(encoder: FaceEncoder, path: Path) -> _Source:
    """A data-set photo and its central face (as `eval faces` picks it), embedded."""
    pixels = encoder.decoder.decode(path.read_bytes()).pixels
    face = central_face(encoder.detector.detect(pixels), pixels.shape[1], pixels.shape[0])
    sample = encoder.sample_face(pixels, face, require_quality=False)
    findings = tuple(finding.check for finding in sample.quality.findings)
    return _Source(pixels, face, sample.embedding, findings)


def _corner_error(photo: VirtualPhoto, corners: NDArray[np.float32]) -> float:
    """How far the found upright corners are from the truth, over the card's diagonal."""
    truth = photo.corners[0]
    diagonal = float(np.linalg.norm(truth[2] - truth[0]))
    return float(np.linalg.norm(corners - truth, axis=1).max()) / diagonal


def _upright(photo: VirtualPhoto, corners: NDArray[np.float32]) -> bool:
    """True when no other labelling of the corners (another turn) is nearer the truth."""
    truth = photo.corners[0]
    errors = [float(np.abs(np.roll(corners, k, axis=0) - truth).sum()) for k in range(4)]
    return int(np.argmin(errors)) == 0


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #


def _report(
    settings: Settings, outcomes: list[Outcome], *, count: int, seed: int
) -> dict[str, object]:
    """Every figure, JSON-ready."""
    return {
        "date": time.strftime("%Y-%m-%d"),
        "command": f"python -m simkyc.eval.documents --count {count} --seed {seed}",
        "model_id": settings.recognizer,
        "pipeline": pipeline_id(settings),
        "fmr_target": settings.fmr_target,
        "cards": len(outcomes),
        "extraction": _extraction(outcomes),
        "seconds_per_card": _timing(outcomes),
        "document_check_seconds": _check_timing(outcomes),
        "ocr": text_figures([o.text for o in outcomes if o.text is not None]),
        "populations": {
            population: _matching(settings, population, group)
            for population in (LFW, EAST_ASIAN)
            if (group := [o for o in outcomes if o.person.population == population])
        },
    }


def _extraction(outcomes: list[Outcome]) -> dict[str, object]:
    """How often a portrait came out, why not, and how well the card was found."""
    extracted = [o for o in outcomes if o.error is None]
    errors = [o.corner_error for o in extracted if o.corner_error is not None]
    return {
        "rate": len(extracted) / max(len(outcomes), 1),
        "failures": dict(Counter(o.error for o in outcomes if o.error is not None)),
        "quality_acceptable_rate": sum(o.quality_ok for o in extracted) / max(len(extracted), 1),
        "upright_rate": sum(o.upright for o in extracted) / max(len(extracted), 1),
        "quality_findings": dict(Counter(c for o in extracted for c in o.findings)),
        "original_quality_findings": dict(
            Counter(c for o in outcomes for c in o.original_findings)
        ),
        "doubtful": [
            {
                "photo": str(o.person.card_photo.relative_to(o.person.card_photo.parents[2])),
                "corner_error": o.corner_error,
                "upright": o.upright,
            }
            for o in extracted
            if not o.upright or (o.corner_error or 0.0) > CORNER_TOLERANCE
        ],
        "corners_within_10pct_rate": sum(e <= CORNER_TOLERANCE for e in errors)
        / max(len(errors), 1),
        "corner_error_median": float(np.median(errors)) if errors else None,
        "corner_error_p95": float(np.percentile(errors, 95)) if errors else None,
        "by_kind": {
            kind.value: _rate([o for o in outcomes if o.person.kind is kind])
            for kind in DocumentKind
        },
    }


def _rate(group: list[Outcome]) -> dict[str, float]:
    """Extraction rate of a subgroup."""
    return {"cards": len(group), "rate": sum(o.error is None for o in group) / max(len(group), 1)}


def _timing(outcomes: list[Outcome]) -> dict[str, float]:
    """Seconds from the photo's JPEG bytes to the portrait's embedding."""
    seconds = np.array([o.seconds for o in outcomes])
    return {
        "p50": float(np.percentile(seconds, 50)),
        "p95": float(np.percentile(seconds, 95)),
        "max": float(seconds.max()),
        "mean": float(seconds.mean()),
    }


def _check_timing(outcomes: list[Outcome]) -> dict[str, float]:
    """Seconds of the whole `document check`: the portrait, then the card's text."""
    seconds = np.array([o.seconds + (o.text.seconds if o.text else 0.0) for o in outcomes])
    return {"p50": float(np.percentile(seconds, 50)), "p95": float(np.percentile(seconds, 95))}


def _matching(settings: Settings, population: str, group: list[Outcome]) -> dict[str, object]:
    """TAR and FMR at the population's deployed threshold: card portraits and originals."""
    pipeline = FacePipeline.from_settings(settings.model_copy(update={"population": population}))
    threshold = pipeline.policy.accept.threshold
    selfies = np.stack([o.selfie for o in group])
    return {
        "threshold": threshold,
        "calibration_id": pipeline.policy.calibration.calibration_id,
        "people": len(group),
        "card": _rates([o.card for o in group], selfies, threshold),
        "original": _rates([o.original for o in group], selfies, threshold),
    }


def _rates(
    probes: list[Embedding | None], selfies: NDArray[np.float32], threshold: float
) -> dict[str, float]:
    """TAR (a missing portrait counts as a rejection), TAR of those present, FMR over all
    pairs of a probe with another person's selfie."""
    present = np.array([p is not None for p in probes])
    width = selfies.shape[1]
    matrix = np.stack([p if p is not None else np.zeros(width, np.float32) for p in probes])
    scores = matrix @ selfies.T
    genuine = np.diag(scores)
    others = ~np.eye(len(probes), dtype=bool)
    impostor = scores[present][others[present]]
    accepted = (genuine >= threshold) & present
    return {
        "tar": float(accepted.mean()),
        "tar_of_extracted": float(accepted[present].mean()) if present.any() else 0.0,
        "fmr": float((impostor >= threshold).mean()) if impostor.size else 0.0,
        "genuine_pairs": int(present.sum()),
        "impostor_pairs": int(impostor.size),
        "genuine_median": float(np.median(genuine[present])) if present.any() else 0.0,
    }


def _print(report: dict[str, object]) -> None:
    """The figures as two tables."""
    extraction = report["extraction"]
    timing = report["seconds_per_card"]
    assert isinstance(extraction, dict) and isinstance(timing, dict)
    summary = Table(title=f"Portrait extraction ({report['cards']} card photos)")
    columns = ("extracted", "failures", "upright", "corners ok", "quality ok", "p50 s", "p95 s")
    for column in columns:
        summary.add_column(column)
    summary.add_row(
        f"{extraction['rate']:.1%}",
        ", ".join(f"{k} {v}" for k, v in extraction["failures"].items()) or "none",
        f"{extraction['upright_rate']:.1%}",
        f"{extraction['corners_within_10pct_rate']:.1%}",
        f"{extraction['quality_acceptable_rate']:.1%}",
        f"{timing['p50']:.2f}",
        f"{timing['p95']:.2f}",
    )
    console.print(summary)
    target = report["fmr_target"]
    matching = Table(
        title=f"Document portrait vs selfie at the deployed threshold (FMR {target:g})"
    )
    for column in ("population", "threshold", "people", "probe", "TAR", "FMR", "impostor pairs"):
        matching.add_column(column)
    populations = report["populations"]
    assert isinstance(populations, dict)
    for name, figures in populations.items():
        for probe in ("card", "original"):
            rates = figures[probe]
            matching.add_row(
                name,
                f"{figures['threshold']:.4f}",
                str(figures["people"]),
                "card photo" if probe == "card" else "original photo",
                f"{rates['tar']:.1%}",
                f"{rates['fmr']:.2%}",
                f"{rates['impostor_pairs']:,}",
            )
    console.print(matching)
    ocr, check = report["ocr"], report["document_check_seconds"]
    assert isinstance(ocr, dict) and isinstance(check, dict)
    print_text(ocr, console)
    console.print(f"document check (portrait + text): {check['p50']:.2f} s p50, "
                  f"{check['p95']:.2f} s p95 per card")


def main(argv: list[str] | None = None) -> None:
    """Command line: --count, --seed, --out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/simkyc-documents-eval"))
    args = parser.parse_args(argv)
    run_document_evaluation(get_settings(), count=args.count, seed=args.seed, out=args.out)


if __name__ == "__main__":
    main()
