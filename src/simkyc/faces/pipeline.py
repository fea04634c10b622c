"""The face-verification pipeline: decode -> detect -> align -> quality -> embed -> match."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from simkyc.config import DetectorKind, Settings
from simkyc.errors import ModelUnavailable, PoorQuality
from simkyc.faces import calibration as calibrations
from simkyc.faces.align import Aligner
from simkyc.faces.decode import Decoder
from simkyc.faces.detect import (
    Detector,
    MediaPipeDetector,
    MeshLandmarks,
    YuNetDetector,
    select_applicant,
)
from simkyc.faces.embed import OnnxEmbedder
from simkyc.faces.match import Decision, cosine, fuse
from simkyc.faces.models import verified_file
from simkyc.faces.policy import Comparison, FacePolicy
from simkyc.faces.quality import QualityAssessor, QualityLimits, QualityReport
from simkyc.faces.reasons import ReviewReason
from simkyc.faces.recognizers import RecognizerSpec, load_recognizers
from simkyc.types import Embedding, Face, Image

YUNET_FILE = "yunet/face_detection_yunet_2023mar.onnx"
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"


@dataclass(frozen=True)
class FaceSample:
    """One face ready to compare: where it was, how good it is, its embedding."""

    face: Face
    quality: QualityReport
    embedding: Embedding
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class VerificationResult:
    """A 1:1 decision with everything needed to re-check it later."""

    decision: Decision
    score: float
    threshold: float  # the accept threshold
    reject_threshold: float | None
    fmr_target: float
    model_id: str
    calibration_id: str
    reasons: tuple[ReviewReason, ...]
    document_quality: QualityReport
    selfie_quality: QualityReport
    frames_used: int
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the CLI and the API; language-free (`reasons` as codes and
        figures: `i18n.messages.localized_face_reasons` says them in the reader's language)."""
        out = asdict(self)
        out["decision"] = self.decision.value
        out["reasons"] = [reason.to_dict() for reason in self.reasons]
        out["comparison"] = Comparison.DOCUMENT_VS_LIVE.value
        out["score"] = round(self.score, 5)
        return out


@dataclass
class _Stopwatch:
    """Milliseconds per stage, summed when a stage runs more than once."""

    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.laps[name] = self.laps.get(name, 0.0) + (time.perf_counter() - start) * 1000


@dataclass
class FaceEncoder:
    """Image bytes -> the applicant's face, its quality and its embedding (no decision)."""

    decoder: Decoder
    detector: Detector
    aligner: Aligner
    assessor: QualityAssessor
    embedder: OnnxEmbedder
    ambiguity_ratio: float
    landmarks: MeshLandmarks | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> FaceEncoder:
        """Build the stages; model files are located and checked here, loaded on first use."""
        spec = recognizer_spec(settings)
        return cls(
            decoder=Decoder(
                settings.max_image_bytes, settings.max_image_pixels, settings.work_max_side
            ),
            detector=build_detector(settings),
            aligner=spec.input.aligner(detector_points=settings.detector is DetectorKind.YUNET
                                       and not uses_mesh_landmarks(settings)),
            assessor=QualityAssessor(quality_limits(settings)),
            embedder=OnnxEmbedder(
                spec.locate(settings.models_dir, settings.cache_dir),
                spec.input,
                settings.flip_tta,
                settings.threads,
            ),
            ambiguity_ratio=settings.ambiguity_ratio,
            landmarks=MeshLandmarks() if uses_mesh_landmarks(settings) else None,
        )

    def sample(self, data: bytes, *, require_quality: bool = True) -> FaceSample:
        """Decode an image and embed the applicant's face in it (PoorQuality if not usable)."""
        watch = _Stopwatch()
        with watch.stage("decode"):
            pixels = self.decoder.decode(data).pixels
        return self.sample_pixels(pixels, watch=watch, require_quality=require_quality)

    def sample_pixels(
        self, pixels: Image, *, watch: _Stopwatch | None = None, require_quality: bool = True
    ) -> FaceSample:
        """As `sample`, for pixels already decoded (video frames, document crops)."""
        watch = watch or _Stopwatch()
        with watch.stage("detect"):
            face = select_applicant(self.detector.detect(pixels), self.ambiguity_ratio)
        return self.sample_face(pixels, face, watch=watch, require_quality=require_quality)

    def align_face(self, pixels: Image, face: Face, *, watch: _Stopwatch | None = None,
                   mesh_points: bool = False) -> Image:
        """The recognizer's chip of a face already chosen: aligned on the face mesh's points
        where the encoder uses them (unless `mesh_points`: the face's are the mesh's)."""
        watch = watch or _Stopwatch()
        with watch.stage("landmarks"):
            # The mesh points align; the detector's points keep feeding the quality checks,
            # whose 5-point head model is fitted to them.
            points = face
            if self.landmarks is not None and not mesh_points:
                points = self.landmarks.refine(pixels, face)
        with watch.stage("align"):
            return self.aligner.align(pixels, points)

    def sample_face(
        self,
        pixels: Image,
        face: Face,
        *,
        watch: _Stopwatch | None = None,
        require_quality: bool = True,
        mesh_points: bool = False,
    ) -> FaceSample:
        """Align, assess and embed a face already chosen (`mesh_points`: its landmarks
        already come from the face mesh, as in a tracked liveness clip)."""
        watch = watch or _Stopwatch()
        chip = self.align_face(pixels, face, watch=watch, mesh_points=mesh_points)
        with watch.stage("quality"):
            quality = self.assessor.assess(pixels, face, chip)
        if require_quality and not quality.acceptable:
            raise PoorQuality(quality.findings)
        with watch.stage("embed"):
            embedding = self.embedder.embed([chip])[0]
        return FaceSample(face, quality, embedding, watch.laps)


@dataclass
class FacePipeline:
    """An encoder and a calibrated decision policy; build it with `from_settings(settings)`."""

    encoder: FaceEncoder
    policy: FacePolicy
    probe_frames: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> FacePipeline:
        """The encoder plus the calibration of (recognizer, population, pipeline)."""
        return cls(FaceEncoder.from_settings(settings), face_policy(settings),
                   settings.probe_frames)

    def verify(self, document: bytes, selfie: bytes) -> VerificationResult:
        """Is the person in `selfie` the person on the `document` portrait?"""
        return self.compare(self.encoder.sample(document), [self.encoder.sample(selfie)])

    def compare(self, document: FaceSample, probes: Sequence[FaceSample]) -> VerificationResult:
        """Decide on a document sample against the live samples: the probe is the fused
        embedding of the `probe_frames` best of them by quality."""
        used = best_frames(probes, self.probe_frames)
        probe = live_probe(used, len(used))
        start = time.perf_counter()
        outcome = self.policy.decide(cosine(document.embedding, probe),
                                     comparison=Comparison.DOCUMENT_VS_LIVE)
        timings = _sum_timings([document, *used])
        timings["match"] = (time.perf_counter() - start) * 1000
        return VerificationResult(
            decision=outcome.decision,
            score=outcome.score,
            threshold=outcome.accept_threshold,
            reject_threshold=outcome.reject_threshold,
            fmr_target=self.policy.fmr_target,
            model_id=self.policy.calibration.model_id,
            calibration_id=self.policy.calibration.calibration_id,
            reasons=outcome.reasons,
            document_quality=document.quality,
            selfie_quality=used[0].quality,
            frames_used=len(used),
            timings_ms=timings,
        )


def face_policy(settings: Settings) -> FacePolicy:
    """The deployment's decision policy: the calibration of (recognizer, population,
    pipeline) and the FMR and false-reject targets; an uncalibrated target fails here."""
    calibration = calibrations.find(
        calibrations.load_table(),
        model_id=settings.recognizer,
        population=settings.population,
        pipeline=pipeline_id(settings),
    )
    policy = FacePolicy(calibration, settings.fmr_target, settings.false_reject_target)
    policy.check()
    return policy


def live_probe(samples: Sequence[FaceSample], count: int) -> Embedding:
    """The live side of a session as one embedding: the mean of the `count` best frames by
    quality (selfie and liveness frames alike), renormalised."""
    chosen = best_frames(samples, count)
    if not chosen:
        raise ValueError("no live face sample to build a probe from")
    return fuse([s.embedding for s in chosen]) if len(chosen) > 1 else chosen[0].embedding


def best_frames(samples: Sequence[FaceSample], count: int) -> list[FaceSample]:
    """The `count` frames of best quality, best first: what the live side contributes."""
    return sorted(samples, key=lambda s: s.quality.score(), reverse=True)[:count]


def _sum_timings(samples: Sequence[FaceSample]) -> dict[str, float]:
    """Milliseconds per stage over several samples."""
    total: dict[str, float] = {}
    for sample in samples:
        for stage, ms in sample.timings_ms.items():
            total[stage] = round(total.get(stage, 0.0) + ms, 3)
    return total


def recognizer_spec(settings: Settings) -> RecognizerSpec:
    """The configured recognizer's spec, or a clear error naming the known ones."""
    specs = load_recognizers(settings.recognizers_file)
    if settings.recognizer not in specs:
        raise ModelUnavailable(
            f"Unknown recognizer {settings.recognizer!r}; known: {', '.join(sorted(specs))}."
        )
    return specs[settings.recognizer]


def uses_mesh_landmarks(settings: Settings) -> bool:
    """YuNet boxes with MediaPipe's mesh points (MediaPipe as detector has them already)."""
    return settings.mesh_landmarks and settings.detector is DetectorKind.YUNET


def pipeline_id(settings: Settings) -> str:
    """What the calibration depends on besides the model: detector, landmarks and flip."""
    mesh = "+mesh" if uses_mesh_landmarks(settings) else ""
    return f"{settings.detector.value}{mesh}{'+flip' if settings.flip_tta else ''}"


def build_detector(settings: Settings) -> Detector:
    """The configured detector."""
    if settings.detector is DetectorKind.MEDIAPIPE:
        return MediaPipeDetector(
            score_threshold=settings.min_detection_score, max_side=settings.detect_max_side
        )
    path = verified_file(settings.models_dir / YUNET_FILE, YUNET_SHA256)
    return YuNetDetector(path, settings.min_detection_score, settings.detect_max_side,
                         threads=settings.threads)


def quality_limits(settings: Settings) -> QualityLimits:
    """Quality thresholds from settings."""
    return QualityLimits(
        min_eye_distance=settings.min_eye_distance,
        min_sharpness=settings.min_sharpness,
        min_brightness=settings.min_brightness,
        max_brightness=settings.max_brightness,
        max_yaw=settings.max_yaw,
        max_pitch=settings.max_pitch,
        max_roll=settings.max_roll,
    )
