"""`simkyc eval liveness`: challenges, blinks, attack detection (ISO/IEC 30107-3) and speed.

Attack detection is reported in ISO/IEC 30107-3 terms: APCER, the share of attack
presentations of one type (print, replay) accepted as live, and BPCER, the share of bona fide
presentations rejected. Sets: headturn (challenge order), blink (ZJU, precision and recall),
nuaa and silent-face (the passive check on single photos), synthetic (print and replay attacks
made by `liveness.synthetic`, full analysis), bona-fide (real videos, passive mode), speed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from simkyc.config import Settings
from simkyc.faces.detect import YuNetDetector
from simkyc.faces.pipeline import YUNET_FILE
from simkyc.i18n.catalog import DEFAULT_LOCALE, catalogs
from simkyc.i18n.messages import liveness_reason
from simkyc.liveness.analyzer import LivenessResult, LivenessThresholds, Verdict
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import Frame, MediaLimits, decode_video
from simkyc.liveness.passive import PassiveAntiSpoof
from simkyc.liveness.pose import MeshPoseEstimator
from simkyc.liveness.service import LivenessService
from simkyc.liveness.signals import (
    Event,
    EventThresholds,
    blink_events,
    performed_in_order,
    series,
)
from simkyc.liveness.tracking import MeshTracker
from simkyc.synth.liveness_attacks import print_attack, screen_attack
from simkyc.types import Image

console = Console(stderr=True)

SETS = ("headturn", "blink", "nuaa", "silent-face", "synthetic", "bona-fide", "speed")
HEADTURN = Path("liveness", "headturn", "test.avi")
ZJU = Path("liveness", "zju-eyeblink")
# liveness/headturn/test.avi, judged by eye on every decoded frame (the AVI holds 89 packets,
# 4.55-11.05 s of the recording; t counts from the first decoded frame). She looks up
# (0.1-1.5 s), turns to her right still looking up (0.6-1.6 s), looks down while turning back
# (1.65-3.0 s), turns to her left (3.0-4.3 s), looks up (4.2-5.5 s), then faces the camera.
# (action, start in s), in order of start: the order a challenge must follow to be valid.
HEADTURN_ACTIONS = (
    (Action.LOOK_UP, 0.1),
    (Action.TURN_RIGHT, 0.6),
    (Action.TURN_LEFT, 3.0),
    (Action.LOOK_UP, 4.2),
)
# No blink is visible (eyes open in every frontal frame; the dips of eye aperture come with
# looking down), but at ~13.5 decoded frames per second one between frames cannot be ruled
# out: challenges with a blink are run but not scored.
UNSCORED = Action.BLINK
HEAD_TURNS = (Action.TURN_LEFT, Action.TURN_RIGHT)  # the synthetic print attacks' challenge
SYNTHETIC_PEOPLE, SCREEN_ZJU_CLIPS = 20, 4
SPEED_RUNS, SPEED_ACTIONS = 5, (Action.LOOK_UP, Action.TURN_RIGHT)  # done in its first 3 s
Row = tuple[str, str, str]  # measure, value, note: one line of the printed table


@dataclass
class _Context:
    """What the sets share: settings, and the service built once on first use."""

    settings: Settings

    @cached_property
    def service(self) -> LivenessService:
        """The liveness service as the API builds it."""
        return LivenessService.from_settings(self.settings)

    def data(self, *parts: str | Path) -> Path:
        """A path inside the evaluation data."""
        return self.settings.data_dir.joinpath(*parts)

    def decode(self, path: Path, sample_fps: float | None = None) -> list[Frame]:
        """A video's frames, as the service samples them (or at `sample_fps`)."""
        if sample_fps is None:
            return self.service.decode(video=path.read_bytes())
        return decode_video(path.read_bytes(), MediaLimits(sample_fps=sample_fps))


def run_liveness_evaluation(
    settings: Settings, *, out: Path, sets: list[str], command: str | None = None
) -> dict[str, object]:
    """Measure the named sets, print a table, write `out/report.json`; return the report."""
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise ValueError(f"unknown sets {unknown}; known: {', '.join(SETS)}")
    context = _Context(settings)
    results: dict[str, dict[str, object]] = {}
    for name in sets:
        console.print(f"[bold]{name}[/bold] ...")
        started = time.perf_counter()
        results[name] = _MEASURES[name](context)
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
    report: dict[str, object] = {
        "command": command or _command(out, sets),
        "date": dt.date.today().isoformat(),
        "thresholds": asdict(LivenessThresholds()),
        "sets": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    _print(results)
    console.print(f"report: {out / 'report.json'}")
    return report


def _command(out: Path, sets: Sequence[str]) -> str:
    """The CLI command that reproduces the report."""
    return " ".join(["simkyc eval liveness", f"--out {out}", *(f"--set {s}" for s in sets)])


def _rate(count: int, total: int) -> dict[str, object]:
    """count / total, with both kept."""
    return {"count": count, "total": total, "rate": round(count / total, 4) if total else None}


def _shown(rate: dict[str, object]) -> str:
    """'3/20 (15.0%)'."""
    value = rate["rate"]
    percent = "n/a" if value is None else f"{100 * float(str(value)):.1f}%"
    return f"{rate['count']}/{rate['total']} ({percent})"


def _failed(result: LivenessResult) -> list[str]:
    """Names of the checks that failed."""
    return [c.name for c in result.checks if c.passed is False]


# -- headturn: challenge order ---------------------------------------------------------------


def performs(challenge: Sequence[Action], sequence: Sequence[tuple[Action, float]]) -> bool:
    """Does the ground-truth sequence contain the challenge's actions in this order (each
    starting after the previous one started)?"""
    after = -1.0
    for action in challenge:
        start = next((s for a, s in sequence if a is action and s > after), None)
        if start is None:
            return False
        after = start
    return True


def all_challenges() -> list[tuple[Action, ...]]:
    """Every challenge the protocol can issue: 2 or 3 distinct actions, in any order."""
    return [c for n in (2, 3) for c in itertools.permutations(list(Action), n)]


def _headturn(context: _Context) -> dict[str, object]:
    """Valid challenges (done in order) should pass, invalid ones should not."""
    frames = context.decode(context.data(HEADTURN))
    analyzer = context.service.analyzer
    seen = analyzer.analyse(frames).actions_seen
    outcome = {c: analyzer.analyse(frames, actions=c) for c in all_challenges()}
    scored = [c for c in outcome if UNSCORED not in c]
    valid = [c for c in scored if performs(c, HEADTURN_ACTIONS)]
    invalid = [c for c in scored if c not in valid]
    live = {c for c, r in outcome.items() if r.verdict is Verdict.LIVE}
    passed, rejected = (
        _rate(len(live & set(valid)), len(valid)),
        _rate(len(set(invalid) - live), len(invalid)),
    )
    names = ["+".join(a.value for a in c) for c in outcome]
    return {
        "frames": len(frames),
        "actions_seen": [{"action": a, "t": round(t, 2)} for a, t in seen],
        "ground_truth": [{"action": a.value, "start": s} for a, s in HEADTURN_ACTIONS],
        "valid_passed": passed | {"not_passed": _described(outcome, valid, live, False)},
        "invalid_rejected": rejected | {"accepted": _described(outcome, invalid, live, True)},
        "with_blink_unscored": {
            "total": len(outcome) - len(scored),
            "live": sorted(
                n for n, c in zip(names, outcome, strict=True) if c in live and UNSCORED in c
            ),
        },
        "summary": [
            ("valid challenges passed", _shown(passed), "target 100%"),
            ("invalid challenges rejected", _shown(rejected), "target 100%"),
            (
                "challenges with blink",
                f"{len(outcome) - len(scored)} not scored",
                f"no visible blink; {len(live) - len(live & set(scored))} of them live",
            ),
        ],
    }


def _described(
    outcome: dict[tuple[Action, ...], LivenessResult],
    challenges: Sequence[tuple[Action, ...]],
    live: set[tuple[Action, ...]],
    want_live: bool,
) -> list[dict[str, object]]:
    """The challenges whose outcome was wrong, with the verdict and the reasons."""
    return [
        {
            "challenge": [a.value for a in c],
            "verdict": outcome[c].verdict.value,
            "reasons": [liveness_reason(catalogs(), DEFAULT_LOCALE, r)
                        for r in outcome[c].reasons],
        }
        for c in challenges
        if (c in live) is want_live
    ]


# -- blink: ZJU eyeblink -----------------------------------------------------------------------


@dataclass(frozen=True)
class BlinkScore:
    """One clip: annotated blinks found, missed, events matching no blink, counts."""

    found: int
    missed: int
    spurious: int
    annotated: int
    detected: int


def read_tag(text: str) -> tuple[int, dict[int, list[int]]]:
    """A .tag file: (number of frame lines, blink id -> its 1-based frame numbers)."""
    lines = [line for line in text.split("#start", 1)[1].split() if ":" in line]
    blinks: dict[int, list[int]] = {}
    for line in lines:
        frame, blink = line.split(":")[:2]
        if blink != "-1":
            blinks.setdefault(int(blink), []).append(int(frame))
    return len(lines), blinks


def score_blinks(
    events: Sequence[tuple[int, int]], blinks: dict[int, list[int]], scale: float, slack: int = 4
) -> BlinkScore:
    """Match detected (first, last) decoded-frame spans with annotated blinks.

    Tag frame k maps to decoded index round((k - 1) * scale), scale = decoded / tag lines
    (conversions dropped or duplicated frames); a blink is found if an event overlaps its span
    widened by `slack` frames each side (4 frames, 0.13 s: that proportional mapping drifts
    by up to ~5 frames over a clip, checked by eye on the aperture curves); events matching
    no blink are spurious.
    """
    matched: set[int] = set()
    found = 0
    for frames in blinks.values():
        low = round((min(frames) - 1) * scale) - slack
        high = round((max(frames) - 1) * scale) + slack
        hits = {k for k, (first, last) in enumerate(events) if first <= high and last >= low}
        found += bool(hits)
        matched |= hits
    return BlinkScore(
        found, len(blinks) - found, len(events) - len(matched), len(blinks), len(events)
    )


def _blink(context: _Context) -> dict[str, object]:
    """Blink detection on the ZJU clips with the analyzer's own tracker, thresholds and frame
    sampling (the service's 15 per second)."""
    tracker, estimator, limits = MeshTracker(), MeshPoseEstimator(), EventThresholds()
    clips = {}
    for row in _manifest(context.data(ZJU, "manifest.csv")):
        frames = context.decode(context.data(ZJU, row["file"]))
        signals = series(tracker.track(frames), estimator)
        index = dict(zip(signals.t.tolist(), signals.index.tolist(), strict=True))
        spans = [(index[e.start], index[e.end]) for e in blink_events(signals, limits)]
        lines, blinks = read_tag(context.data(ZJU, row["tag_file"]).read_text())
        clips[row["file"]] = score_blinks(spans, blinks, (frames[-1].index + 1) / lines)
    return _blink_report(clips, limits)


def _blink_report(clips: dict[str, BlinkScore], limits: EventThresholds) -> dict[str, object]:
    """Precision, recall, and per-clip count agreement (needs no frame alignment)."""
    found = sum(c.found for c in clips.values())
    spurious = sum(c.spurious for c in clips.values())
    missed = sum(c.missed for c in clips.values())
    precision, recall = found / max(found + spurious, 1), found / max(found + missed, 1)
    exact = _rate(sum(c.detected == c.annotated for c in clips.values()), len(clips))
    error = statistics.mean(abs(c.detected - c.annotated) for c in clips.values())
    return {
        "blink_ratio": limits.blink_ratio,
        "clips": len(clips),
        "found": found,
        "spurious": spurious,
        "missed": missed,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "count_exact": exact,
        "count_mean_abs_error": round(error, 3),
        "per_clip": {name: asdict(c) for name, c in clips.items()},
        "summary": [
            (
                "precision / recall",
                f"{precision:.3f} / {recall:.3f}",
                f"{found} found, {spurious} spurious, {missed} missed",
            ),
            (
                "clips with the right count",
                _shown(exact),
                f"mean |error| {error:.2f} blinks per clip",
            ),
        ],
    }


def _manifest(path: Path) -> list[dict[str, str]]:
    """Rows of a manifest.csv."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# -- nuaa, silent-face: the passive check on photos --------------------------------------------


@dataclass
class _PhotoScorer:
    """MiniFASNet's live score of the largest YuNet face in a photo (None: no face)."""

    passive: PassiveAntiSpoof
    detector: YuNetDetector

    @classmethod
    def from_settings(cls, settings: Settings) -> _PhotoScorer:
        """The ensemble and YuNet from settings.models_dir."""
        return cls(
            PassiveAntiSpoof.from_settings(settings),
            YuNetDetector(settings.models_dir / YUNET_FILE),
        )

    def score(self, path: Path) -> float | None:
        """Live probability, or None when no face is found."""
        rgb = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
        faces = self.detector.detect(rgb)
        return self.passive.score(rgb, faces[0].box).live if faces else None


def _photo_rates(
    scores: dict[str, tuple[str, float | None]], limit: float
) -> dict[str, dict[str, object]]:
    """APCER per attack type and BPCER ('bona_fide' is the live label); no face: not scored."""
    rates = {}
    for kind in sorted({k for k, _ in scores.values()}):
        values = [s for k, s in scores.values() if k == kind and s is not None]
        wrong = (
            sum(s < limit for s in values)
            if kind == "bona_fide"
            else sum(s >= limit for s in values)
        )
        key = "bpcer" if kind == "bona_fide" else f"apcer_{kind}"
        no_face = sum(k == kind and s is None for k, s in scores.values())
        rates[key] = _rate(wrong, len(values)) | {"no_face": no_face}
    return rates


def _nuaa(context: _Context) -> dict[str, object]:
    """NUAA frames: printed-photo attacks and live webcam frames, one photo at a time."""
    scorer, limit = _PhotoScorer.from_settings(context.settings), LivenessThresholds().min_passive
    folder = context.data("pad", "nuaa")
    scores = {
        row["file"]: (
            "bona_fide" if row["label"] == "real" else "print",
            scorer.score(folder / row["file"]),
        )
        for row in _manifest(folder / "manifest.csv")
    }
    rates = _photo_rates(scores, limit)
    return {
        "threshold": limit,
        **rates,
        "summary": [
            ("APCER print", _shown(rates["apcer_print"]), f"live score >= {limit}"),
            ("BPCER", _shown(rates["bpcer"]), "threshold chosen on these frames"),
        ],
    }


def _silent_face(context: _Context) -> dict[str, object]:
    """Upstream's four samples: F1 print, F2 replay, T1/T2 live."""
    scorer, limit = _PhotoScorer.from_settings(context.settings), LivenessThresholds().min_passive
    kinds = {"F1": "print", "F2": "replay", "T1": "bona_fide", "T2": "bona_fide"}
    folder = context.data("pad", "silent-face-samples")
    scores = {
        name: (kind, scorer.score(folder / f"image_{name}.jpg")) for name, kind in kinds.items()
    }
    rates = _photo_rates(scores, limit)
    files = {
        name: {
            "type": kind,
            "live_score": None if s is None else round(s, 4),
            "accepted": s is not None and s >= limit,
        }
        for name, (kind, s) in scores.items()
    }
    shown = ", ".join(f"{n} {f['live_score']}" for n, f in files.items())
    return {
        "threshold": limit,
        "files": files,
        **rates,
        "summary": [
            (
                "APCER print / replay",
                f"{_shown(rates['apcer_print'])} / {_shown(rates['apcer_replay'])}",
                shown,
            ),
            ("BPCER", _shown(rates["bpcer"]), ""),
        ],
    }


# -- synthetic attacks and bona fide videos: the whole analysis --------------------------------


def _synthetic(context: _Context) -> dict[str, object]:
    """Print attacks of LFW photos and replays of real clips, with a challenge and passive."""
    runs = [*_print_runs(context), *_screen_runs(context)]
    rates: dict[str, object] = {}
    rows: list[Row] = []
    for kind, mode in itertools.product(("print", "replay"), ("challenge", "passive")):
        chosen = [r for r in runs if r["type"] == kind and r["mode"] == mode]
        rate = _rate(sum(r["verdict"] == "live" for r in chosen), len(chosen))
        stopped = Counter(s for r in chosen for s in r["stopped_by"])  # type: ignore[attr-defined]
        verdicts = Counter(str(r["verdict"]) for r in chosen)
        rates[f"apcer_{kind}_{mode}"] = rate | {
            "verdicts": dict(verdicts),
            "stopped_by": dict(stopped),
        }
        rows.append(
            (
                f"APCER {kind}, {mode}",
                _shown(rate),
                "stopped by " + ", ".join(f"{k} {v}" for k, v in stopped.most_common()),
            )
        )
    timed = _timed_replays(context, context.settings.challenge_slot_s or 2.5)
    rates["apcer_replay_random_timed_challenge"] = timed
    rows.append(("APCER replay, random timed challenge", _shown(timed),
                 f"all {len(all_challenges())} challenges, prompts every {timed['slot_s']} s"))
    return {**rates, "attacks": runs, "summary": rows}


def _judged(
    context: _Context, frames: list[Frame], challenge: Sequence[Action] | None, **about: object
) -> dict[str, object]:
    """One clip through the analyzer: verdict, failed checks, what stopped it (an attack),
    each check's value."""
    result = context.service.analyzer.analyse(frames, actions=challenge)
    failed = _failed(result)
    stopped = sorted({n if n in ("depth", "passive", "challenge") else "other" for n in failed})
    return {
        **about,
        "mode": "passive" if challenge is None else "challenge",
        "challenge": [a.value for a in challenge or ()],
        "verdict": result.verdict.value,
        "failed": failed,
        "stopped_by": stopped if result.verdict is not Verdict.LIVE else [],
        "values": {c.name: round(c.value, 4) for c in result.checks if c.value is not None},
    }


def _print_runs(context: _Context) -> list[dict[str, object]]:
    """A print attack of one photo of each of N people, swung as if turning left, right."""
    root = context.data("lfw", "images_deepfunneled")
    people = sorted(p for p in root.iterdir() if p.is_dir())
    chosen = people[:: max(len(people) // SYNTHETIC_PEOPLE, 1)][:SYNTHETIC_PEOPLE]
    runs = []
    for seed, person in enumerate(chosen):
        photo = sorted(person.glob("*.jpg"))[0]
        rgb = np.ascontiguousarray(cv2.imread(str(photo))[..., ::-1])
        frames = print_attack(rgb, HEAD_TURNS, seed=seed)
        for challenge in (HEAD_TURNS, None):
            runs.append(_judged(context, frames, challenge, type="print", source=photo.name))
    return runs


def _screen_sources(context: _Context) -> list[tuple[str, list[Image], tuple[Action, ...]]]:
    """Replayed clips, zoomed on the face as an attacker would, with the challenge each one's
    content performs (the head-turn video: two stretches) or, failing that, head turns."""
    headturn = context.decode(context.data(HEADTURN))
    sources = [
        ("headturn 0-3 s", [f for f in headturn if f.t < 3.0], SPEED_ACTIONS),
        (
            "headturn 2.5-5.5 s",
            [f for f in headturn if 2.5 <= f.t < 5.5],
            (Action.TURN_LEFT, Action.LOOK_UP),
        ),
    ]
    rows = _manifest(context.data(ZJU, "manifest.csv"))
    for row in rows[:: len(rows) // SCREEN_ZJU_CLIPS][:SCREEN_ZJU_CLIPS]:
        sources.append((row["file"], context.decode(context.data(ZJU, row["file"])), HEAD_TURNS))
    return [(name, face_crop(frames), challenge) for name, frames, challenge in sources]


def _timed_replays(context: _Context, slot_s: float) -> dict[str, object]:
    """Replays against the protocol as deployed: a random challenge with timed prompts. For
    each replayed clip, the share of all issuable challenges it would pass (its other checks
    passing and its content happening to perform the actions in their slots)."""
    accepted, total = 0, 0
    per_source = {}
    for seed, (name, pixels, _) in enumerate(_screen_sources(context)):
        frames = screen_attack(pixels, seed=1000 + seed)
        result = context.service.analyzer.analyse(frames, actions=None)
        seen = [Event(Action(a), t, t, 0.0) for a, t in result.actions_seen]
        end = frames[-1].t
        ok = [c for c in all_challenges()
              if performed_in_order(seen, c, (0.0, end), slot_s)[0]]
        live = len(ok) if result.verdict is Verdict.LIVE else 0
        accepted, total = accepted + live, total + len(all_challenges())
        per_source[name] = {"verdict_without_challenge": result.verdict.value,
                            "challenges_passed": live}
    rate = _rate(accepted, total)
    return rate | {"slot_s": slot_s, "per_source": per_source}


def _screen_runs(context: _Context) -> list[dict[str, object]]:
    """Each source replayed on a phone, judged with its challenge and in passive mode."""
    runs = []
    for seed, (name, pixels, challenge) in enumerate(_screen_sources(context)):
        frames = screen_attack(pixels, seed=1000 + seed)
        for mode in (challenge, None):
            runs.append(_judged(context, frames, mode, type="replay", source=name))
    return runs


def face_crop(frames: Sequence[Frame]) -> list[Image]:
    """The frames cut to a 16:9 window around the face, 1.6 times as tall as its extent over
    the clip (an attacker replaying a video zooms in on the face)."""
    meshes = [t.mesh for t in MeshTracker().track(frames) if t.mesh is not None]
    pixels = [f.pixels for f in frames]
    if not meshes:
        return pixels
    points = np.concatenate([m[:, :2] for m in meshes])
    centre_x, centre_y = np.median(points, axis=0)
    height, width = pixels[0].shape[:2]
    span = float(np.percentile(points[:, 1], 98) - np.percentile(points[:, 1], 2))
    h = min(float(height), 1.6 * span)
    w = min(float(width), h * 16 / 9)
    left = int(np.clip(centre_x - w / 2, 0, width - w))
    top = int(np.clip(centre_y - h / 2, 0, height - h))
    return [p[top : top + int(h), left : left + int(w)] for p in pixels]


def _bona_fide(context: _Context) -> dict[str, object]:
    """Real people's clips in passive mode: how many are not accepted (BPCER)."""
    paths = [context.data(HEADTURN)] + [
        context.data(ZJU, row["file"]) for row in _manifest(context.data(ZJU, "manifest.csv"))
    ]
    runs = [_judged(context, context.decode(p), None, source=p.name) for p in paths]
    total = len(runs)
    rejected = _rate(sum(r["verdict"] != "live" for r in runs), total)
    retry = _rate(sum(r["verdict"] == "retry" for r in runs), total)
    spoof = _rate(sum(r["verdict"] == "spoof" for r in runs), total)
    return {
        "bpcer": rejected,
        "retry": retry,
        "spoof": spoof,
        "clips": runs,
        "summary": [
            (
                "BPCER (passive mode)",
                _shown(rejected),
                f"retry {retry['count']}, spoof {spoof['count']}",
            )
        ],
    }


# -- speed -------------------------------------------------------------------------------------


def speed_clip(path: Path, seconds: float = 3.0, fps: int = 30) -> bytes:
    """The first seconds of a video as a 640x480 WebM/VP8 clip at `fps`, made in memory."""
    import av

    source = decode_video(path.read_bytes(), MediaLimits(sample_fps=fps, analysis_side=1280))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.bit_rate = 2_000_000
        for k in range(round(seconds * fps)):
            latest = [f for f in source if f.t <= k / fps][-1]
            frame = av.VideoFrame.from_ndarray(_four_by_three(latest.pixels), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def _four_by_three(pixels: Image) -> Image:
    """The centre 4:3 of a frame, resized to 640x480."""
    height, width = pixels.shape[:2]
    keep = min(width, height * 4 // 3)
    left = (width - keep) // 2
    crop = pixels[:, left : left + keep]
    return np.ascontiguousarray(cv2.resize(crop, (640, 480), interpolation=cv2.INTER_AREA))


def _speed(context: _Context) -> dict[str, object]:
    """Milliseconds from bytes to verdict for a 3 s 640x480 30 fps WebM clip: median of runs."""
    data = speed_clip(context.data(HEADTURN))
    service = context.service
    laps: dict[str, list[float]] = {}
    result = None
    for _ in range(SPEED_RUNS):
        start = time.perf_counter()
        frames = service.decode(video=data)
        decoded = time.perf_counter()
        result = service.analyzer.analyse(frames, actions=SPEED_ACTIONS)
        done = time.perf_counter()
        stages = {"decode": (decoded - start) * 1000, **result.timings_ms}
        stages["other"] = (done - decoded) * 1000 - sum(result.timings_ms.values())
        stages["total"] = (done - start) * 1000
        for name, ms in stages.items():
            laps.setdefault(name, []).append(ms)
    assert result is not None
    p50 = {name: round(statistics.median(values), 1) for name, values in laps.items()}
    stages_shown = ", ".join(f"{k} {v:.0f}" for k, v in p50.items() if k != "total")
    return {
        "clip": {
            "bytes": len(data),
            "seconds": 3.0,
            "fps": 30,
            "size": "640x480",
            "codec": "VP8 (WebM)",
        },
        "runs": SPEED_RUNS,
        "challenge": [a.value for a in SPEED_ACTIONS],
        "verdict": result.verdict.value,
        "frames_analysed": result.frames_analysed,
        "p50_ms": p50,
        "summary": [
            (
                "p50 bytes -> verdict",
                f"{p50['total']:.0f} ms",
                f"{result.frames_analysed} frames; {stages_shown} ms",
            )
        ],
    }


_MEASURES: dict[str, Callable[[_Context], dict[str, object]]] = {
    "headturn": _headturn,
    "blink": _blink,
    "nuaa": _nuaa,
    "silent-face": _silent_face,
    "synthetic": _synthetic,
    "bona-fide": _bona_fide,
    "speed": _speed,
}


def _print(results: dict[str, dict[str, object]]) -> None:
    """One table: every set's summary rows."""
    table = Table(title="Liveness evaluation (ISO/IEC 30107-3: APCER per attack type, BPCER)")
    for column in ("set", "measure", "value", "note"):
        table.add_column(column)
    for name, result in results.items():
        for measure, value, note in result["summary"]:  # type: ignore[attr-defined]
            table.add_row(name, measure, value, note)
    Console().print(table)
