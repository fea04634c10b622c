"""Seconds per `simkyc document check` on 2 cores: the portrait, the card's text, both.

What it measures
    On photographed SPECIMEN cards (virtual_photo's defaults: tilt up to 30 degrees, any
    rotation, glare, blur, JPEG 60-95; faces from LFW), card by card, from the JPEG bytes:
    - portrait: `extract_portrait_from_bytes` (decode, find, flatten, orient, embed): the
      document check before OCR, the peer the OCR's cost is measured against;
    - text: `DocumentReader.text`, the proofing flow's document reader, on the photo and its
      upright card (RapidOCR detection + recognition, each MRZ line read again as a strip,
      the MRZ anywhere with the own OCR-B recognizer when the band's did not verify,
      correction, cross-check) with `SIMKYC_OCR_THREADS` (2);
    - rapidocr-defaults: RapidOCR as shipped (angle classifier on, its own thread count) on
      the same upright card, detection + recognition only: a second peer;
    - check: portrait + text, what `simkyc document check` and the API's document upload do
      (the target: <= 1.5 s per card on 2 cores).
    p50 / p95 / mean seconds; ratios check / portrait and text / rapidocr-defaults.

How
    Models are loaded and warmed on one card first (untimed). The three stages run on the
    same card in turn, rotating which goes first. The machine's load average is recorded:
    other processes slow every stage alike.

Real specimens (--specimens DIR, e.g. ../shared/data/documents-specimens)
    Instead, every image of the folder's manifest.csv that carries a transcribed MRZ is read
    by simkyc (`reading.DocumentReader.read`, what the proofing flow and `simkyc document
    check` run: the portrait, the card's text, the MRZ anywhere with its own OCR-B
    recognizer, RapidOCR + Tesseract) and by PassportEye (`passporteye.read_mrz`, with
    Debian's Tesseract), from the same file, in turn, in the same run. For each: MRZ
    verified (every check digit holds), verified but differing from the transcription (must
    be 0), seconds p50 / p95 (wall clock) and CPU seconds p50 / p95 (this process's threads
    and its child processes, Tesseract's included: what a document costs a machine that
    reads several at once); simkyc also the portrait found. `documents` lists each image's
    outcome (verified, MRZ lines, portrait) for comparing two runs of the reader;
    `--no-peer` reads with simkyc alone (faster iterations; no ratios then). PassportEye's
    `valid` is its
    own all-check-digits verdict. With `--megapixels 2` each image is first resampled to
    about 2 million pixels (its proportions kept) and re-encoded as JPEG (quality 92), and
    both read that file: the document check's speed target is p50 <= 1 s for a 2 MP photo
    on 2 cores.

Run
    .venv/bin/python bench/documents.py [--cards 40] [--json out.json]
    .venv/bin/python bench/documents.py --specimens ../shared/data/documents-specimens
    .venv/bin/python bench/documents.py --specimens ../shared/data/documents-specimens \
        --megapixels 2 [--no-peer] --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cards", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--specimens", type=Path, help="A folder with manifest.csv.")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--megapixels", type=float,
                        help="Resample each specimen to about this many million pixels.")
    parser.add_argument("--no-peer", action="store_true",
                        help="Specimens: read with simkyc alone (no PassportEye).")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    if args.specimens:
        report = run_specimens(args.specimens, args.limit, args.megapixels,
                               peer=not args.no_peer)
    else:
        report = run(args.cards, args.seed)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def run(cards: int, seed: int) -> dict[str, object]:
    """Time the stages on `cards` photographed specimens."""
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    from simkyc.config import get_settings
    from simkyc.documents.portrait import extract_portrait_from_bytes
    from simkyc.documents.reading import DocumentReader
    from simkyc.eval.document_text import typed_as_agent
    from simkyc.faces.pipeline import FaceEncoder
    from simkyc.synth.specimen import DocumentKind, random_specimen, render_card
    from simkyc.synth.virtual_photo import photograph

    settings = get_settings()
    encoder = FaceEncoder.from_settings(settings)
    documents = DocumentReader.from_settings(settings)
    shipped = RapidOCR()
    rng = np.random.default_rng(seed)
    faces = sorted((settings.data_dir / "lfw" / "images_deepfunneled").glob("*/*_0001.jpg"))
    kinds = list(DocumentKind)
    laps: dict[str, list[float]] = {"portrait": [], "text": [], "rapidocr-defaults": []}
    for index in range(cards + 1):
        face = cv2.cvtColor(cv2.imread(str(faces[index * 7 % len(faces)])), cv2.COLOR_BGR2RGB)
        data = random_specimen(rng, kinds[index % len(kinds)])
        jpeg = photograph(render_card(data, face), rng).jpeg
        found = extract_portrait_from_bytes(jpeg, encoder, require_quality=False)
        pixels = encoder.decoder.decode(jpeg).pixels
        stages: dict[str, Callable[[], object]] = {
            "portrait": lambda jpeg=jpeg: extract_portrait_from_bytes(
                jpeg, encoder, require_quality=False),
            "text": lambda card=found.card, data=data, pixels=pixels: documents.text(
                pixels, card=card, typed=typed_as_agent(data), today=date.today()),
            "rapidocr-defaults": lambda card=found.card: shipped(card[:, :, ::-1]),
        }
        order = list(stages)[index % 3 :] + list(stages)[: index % 3]
        for name in order:
            start = time.perf_counter()
            stages[name]()
            if index > 0:  # the first card warms the models up
                laps[name].append(time.perf_counter() - start)
    laps["check"] = [p + t for p, t in zip(laps["portrait"], laps["text"], strict=True)]
    summary = {name: _stats(values) for name, values in laps.items()}
    return {
        "cards": cards,
        "ocr_threads": settings.ocr_threads,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "seconds": summary,
        "ratio_check_to_portrait": summary["check"]["p50"] / summary["portrait"]["p50"],
        "ratio_text_to_rapidocr_defaults": (summary["text"]["p50"]
                                            / summary["rapidocr-defaults"]["p50"]),
    }


def run_specimens(folder: Path, limit: int | None, megapixels: float | None = None, *,
                  peer: bool = True) -> dict[str, object]:
    """simkyc and PassportEye (unless not `peer`) on the same real specimen images, in
    turn."""
    import tempfile

    from simkyc.config import get_settings
    from simkyc.documents.reading import DocumentReader
    from simkyc.eval.document_specimens import load_manifest
    from simkyc.faces.pipeline import FaceEncoder

    settings = get_settings()
    encoder = FaceEncoder.from_settings(settings)
    documents = DocumentReader.from_settings(settings)
    documents.warm()
    today = date.today()
    specimens = [s for s in load_manifest(folder) if s.mrz_lines is not None][:limit]
    readers = ("simkyc", "passporteye") if peer else ("simkyc",)
    tallies: dict[str, dict[str, list[float]]] = {
        name: {"verified": [], "verified_wrong": [], "seconds": [], "cpu_seconds": []}
        for name in readers}
    outcomes: list[dict[str, object]] = []
    portraits = 0
    sizes: list[float] = []
    scratch = Path(tempfile.mkdtemp(prefix="simkyc-bench-"))
    for index, specimen in enumerate(specimens):
        truth = "\n".join(specimen.mrz_lines or ())
        path = specimen.path if megapixels is None else _resampled(
            specimen.path, megapixels, scratch / f"{index}.jpg")
        data = path.read_bytes()

        def ours(data: bytes = data, name: str = specimen.path.name) -> tuple[bool, str]:
            pixels = encoder.decoder.decode(data).pixels
            sizes.append(pixels.shape[0] * pixels.shape[1] / 1e6)
            found = documents.read(pixels, encoder=encoder, today=today)
            lines = found.mrz.lines if found.mrz else ()
            nonlocal portraits
            portraits += found.portrait is not None
            outcomes.append({"file": name, "verified": found.mrz_verified,
                             "lines": list(lines), "portrait": found.portrait is not None})
            return found.mrz_verified, "\n".join(lines)

        def passporteye(path: Path = path, truth: str = truth) -> tuple[bool, str]:
            return _passporteye(path, truth, today)

        runs = [("simkyc", ours), ("passporteye", passporteye)][: len(readers)]
        for name, read in runs if index % 2 == 0 else runs[::-1]:
            start, cpu = time.perf_counter(), _cpu_seconds()
            verified, text = read()
            tally = tallies[name]
            tally["seconds"].append(time.perf_counter() - start)
            tally["cpu_seconds"].append(_cpu_seconds() - cpu)
            tally["verified"].append(verified)
            tally["verified_wrong"].append(verified and text != truth)
    counts = {name: (int(sum(t["verified"])), int(sum(t["verified_wrong"])))
              for name, t in tallies.items()}
    times = {name: (_stats(t["seconds"]), _stats(t["cpu_seconds"]))
             for name, t in tallies.items()}
    figures = {name: {"verified": counts[name][0], "verified_wrong": counts[name][1],
                      "seconds": times[name][0], "cpu_seconds": times[name][1]}
               for name in tallies}
    for outcome, seconds, cpu in zip(outcomes, tallies["simkyc"]["seconds"],
                                     tallies["simkyc"]["cpu_seconds"], strict=True):
        outcome.update(seconds=round(seconds, 3), cpu_seconds=round(cpu, 3))
    ratios = _ratios(counts, times) if peer else {}
    return {
        "documents_with_mrz": len(specimens),
        "megapixels": {"asked": megapixels, "p50": statistics.median(sizes) if sizes else None},
        "simkyc_portraits_found": portraits,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        **figures,
        **ratios,
        "documents": outcomes,
    }


def _passporteye(path: Path, truth: str, today: date) -> tuple[bool, str]:
    """PassportEye's verdict on one image (`valid`: its all-check-digits verdict) and the
    transcription if its fields are the transcription's, else "differs"."""
    from passporteye import read_mrz

    from simkyc.documents.mrz import parse_mrz

    mrz = read_mrz(str(path))
    if mrz is None:
        return False, ""
    # PassportEye repairs its raw text internally: its fields are compared with the
    # transcription's (number, names, dates), and the truth returned if equal.
    fields = mrz.to_dict()
    expected = parse_mrz(truth.split("\n"), today=today)
    born = expected.birth_date.strftime("%y%m%d") if expected.birth_date else ""
    same = (str(fields.get("number", "")).rstrip("<") == expected.document_number
            and str(fields.get("surname", "")).strip() == expected.surname
            and str(fields.get("names", "")).strip() == expected.given_names
            and str(fields.get("date_of_birth", "")) == born)
    return bool(mrz.valid), truth if same else "differs"


def _ratios(counts: dict[str, tuple[int, int]],
            times: dict[str, tuple[dict[str, float], dict[str, float]]]) -> dict[str, float]:
    """simkyc over PassportEye: MRZs verified, p50 seconds, p50 CPU seconds."""
    return {
        "ratio_verified_simkyc_to_passporteye": (
            counts["simkyc"][0] / max(1, counts["passporteye"][0])),
        "ratio_seconds_simkyc_to_passporteye": (
            times["simkyc"][0]["p50"] / times["passporteye"][0]["p50"]),
        "ratio_cpu_seconds_simkyc_to_passporteye": (
            times["simkyc"][1]["p50"] / times["passporteye"][1]["p50"]),
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and of its finished
    child processes (Tesseract, run by both readers)."""
    own, children = (resource.getrusage(who)
                     for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _resampled(path: Path, megapixels: float, out: Path) -> Path:
    """`path`'s image scaled (up or down, proportions kept) to about `megapixels` million
    pixels, written to `out` as a JPEG (quality 92): a phone photo's size."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    scale = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    cv2.imwrite(str(out), cv2.resize(image, size, interpolation=interpolation),
                [cv2.IMWRITE_JPEG_QUALITY, 92])
    return out


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": float(np.percentile(values, 95)),
            "mean": statistics.fmean(values)}


if __name__ == "__main__":
    main()
