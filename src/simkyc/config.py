"""Settings, read from `SIMKYC_*` environment variables (and `.env`), built by get_settings()."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from simkyc.rules.profiles import JurisdictionProfile, default_profiles

# src/simkyc/config.py -> the checkout's root; `../shared` sits beside the checkout.
_CHECKOUT = Path(__file__).resolve().parents[2]


class DetectorKind(StrEnum):
    """Face detectors the pipeline can be built with."""

    YUNET = "yunet"
    MEDIAPIPE = "mediapipe"


def _state_home() -> Path:
    """`$XDG_DATA_HOME/simkyc`, else `~/.local/share/simkyc` (read when Settings is built)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "simkyc"


class Settings(BaseSettings):
    """Everything an operator can configure; each field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="SIMKYC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=_CHECKOUT.parent / "shared" / "data",
        description="Evaluation data (LFW, East Asian sets, liveness and attack samples).",
    )
    models_dir: Path = Field(
        default=_CHECKOUT.parent / "shared" / "models",
        description="Model files no package carries (YuNet, MiniFASNet, SFace), one folder each.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "simkyc",
        description="Where derived models (dlib ResNet, MiniFASNet converted to ONNX) are kept.",
    )
    detector: DetectorKind = Field(default=DetectorKind.YUNET, description="Face detector.")
    mesh_landmarks: bool = Field(
        default=True,
        description="Align on MediaPipe face-mesh points found in the detector's crop "
        "(better alignment than YuNet's own points; see bench/ablation.py).",
    )
    recognizer: str = Field(
        default="omz-face-reid-0095-q8",
        description="Recognizer model id (`simkyc models` lists them).",
    )
    recognizers_file: Path | None = Field(
        default=None,
        description="JSON file describing more ONNX recognizers (see README, Recognizers).",
    )
    population: str = Field(
        default="east-asian",
        description="Calibration population of the applicants; picks the thresholds.",
    )
    fmr_target: float = Field(default=1e-3, description="False-match rate the threshold holds.")
    flip_tta: bool = Field(
        default=True, description="Average embeddings of the face and its mirror."
    )
    threads: int = Field(default=1, ge=1, description="CPU threads per ONNX Runtime session.")
    max_image_bytes: int = Field(default=20_000_000, description="Largest accepted upload.")
    max_image_pixels: int = Field(
        default=50_000_000, description="Largest accepted width x height (decompression bombs)."
    )
    work_max_side: int = Field(
        default=1600, description="Images are downscaled at decode so no side exceeds this."
    )
    detect_max_side: int = Field(
        default=640, description="Detection runs on a copy no larger than this (then full size)."
    )
    min_detection_score: float = Field(default=0.6, description="YuNet/MediaPipe face score.")
    ambiguity_ratio: float = Field(
        default=0.7,
        description="A second face at least this fraction of the largest one's size makes the "
        "image ambiguous (MULTIPLE_FACES).",
    )
    min_eye_distance: float = Field(default=24.0, description="Pixels between the eye centres.")
    min_sharpness: float = Field(
        default=15.0, description="Lowest Laplacian variance of the 112 px face chip (blur)."
    )
    min_brightness: float = Field(default=50.0, description="Lowest mean face luminance (0-255).")
    max_brightness: float = Field(default=225.0, description="Highest mean face luminance.")
    max_yaw: float = Field(default=35.0, description="Largest head turn left/right, degrees.")
    max_pitch: float = Field(default=30.0, description="Largest head tilt up/down, degrees.")
    max_roll: float = Field(default=40.0, description="Largest in-plane head rotation, degrees.")
    challenge_ttl_s: float = Field(default=60.0, description="Seconds a liveness challenge lives.")
    challenge_slot_s: float | None = Field(
        default=2.5,
        description="Seconds per prompt: the client shows prompt k from k x slot after the "
        "recording starts, and action k must start in its slot (+0.75 s); none = order only.",
    )
    lockout_failures: int = Field(
        default=5, description="Liveness attempts (challenges issued, failed answers) per "
        "session, person or device within the window before lockout."
    )
    lockout_window_s: float = Field(default=180.0, description="Window counting those failures.")
    lockout_s: float = Field(default=1800.0, description="How long a lockout lasts, seconds.")
    liveness_max_bytes: int = Field(default=25_000_000, description="Largest liveness upload.")
    liveness_max_seconds: float = Field(default=20.0, description="Longest liveness clip.")
    state_dir: Path = Field(
        default_factory=_state_home,
        description="simkyc's own state: the embedded SQLite database and the key file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the registry (e.g. postgresql+psycopg://...); "
        "unset: sqlite:///<state_dir>/simkyc.db.",
    )
    keyring: SecretStr | None = Field(
        default=None,
        description="The keyring as JSON (format: simkyc/privacy/keyring.py); overrides "
        "keyring_file.",
    )
    keyring_file: Path | None = Field(
        default=None,
        description="JSON keyring file: AES-GCM data keys and HMAC pseudonym keys, one active "
        "of each; unset: <state_dir>-keys/keyring.json (apart from the database; an existing "
        "<state_dir>/keyring.json is still used, with a warning), created (mode 0600) on "
        "first use.",
    )
    approval_ttl_s: float = Field(
        default=1800.0, gt=0, description="How long an approved proofing session may be used."
    )
    dispute_reproof_hours: float = Field(
        default=72.0,
        gt=0,
        description="A line marked 'not mine' is suspended unless its holder re-proofs within "
        "this many hours.",
    )
    citizen_token_ttl_s: float = Field(
        default=900.0, gt=0, description="Lifetime of a citizen's self-service token."
    )
    retain_images: bool = Field(
        default=False,
        description="Keep proofing images (encrypted); off: they live in memory only, for "
        "the request.",
    )
    image_retention_days: int = Field(
        default=30, ge=0, description="Retained images are purged after this many days."
    )
    jurisdiction_profiles: dict[str, JurisdictionProfile] = Field(
        default_factory=default_profiles,
        description="Line caps, number quarantine and document policy per jurisdiction, as "
        'JSON {"CN": {"max_lines_per_operator": 5, "max_lines_total": null, '
        '"quarantine_days": 90, "accepted_documents": ["cn_resident_id", "passport"], '
        '"expiry_grace_days": 0, "min_age": 18, "minors": "refuse"}} '
        "(minors: refuse, or guardian = registered by a parent or guardian in their name).",
    )
    idempotency_retention_hours: float = Field(
        default=24.0,
        gt=0,
        description="Idempotency-Key records are kept (and honoured) at least this long, then "
        "deleted by `simkyc admin purge`; a key may be used afresh after that.",
    )
    web_session_ttl_s: float = Field(
        default=28800.0, gt=0,
        description="Lifetime of a web page's sign-in (an HttpOnly cookie session), seconds.",
    )
    web_secure_cookie: bool = Field(
        default=True,
        description="Mark the web session cookie Secure (HTTPS only; browsers also treat "
        "http://localhost as secure, so local testing works).",
    )
    web_portal_key: SecretStr | None = Field(
        default=None,
        description="An agent API key the citizen portal (/web/citizen) opens self-service "
        "proofing sessions with (the operator running the portal); unset: citizens sign in "
        "with a token issued at a shop.",
    )
    document_ocr: bool = Field(
        default=True,
        description="Read the card's text (RapidOCR) when a card photo is submitted and "
        "compare it with the typed document data.",
    )
    ocr_threads: int | None = Field(
        default=None, ge=1,
        description="CPU threads of the OCR models; unset: worker_cores / engine_pool (at "
        "least 1), so the engines running at once share the worker's cores without "
        "oversubscribing them.",
    )
    ocr_min_score: float = Field(
        default=0.5, ge=0, le=1, description="OCR lines less confident than this are ignored."
    )
    ocr_sure_score: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="A field read at least this confidently (or verified by a check digit) "
        "that differs from the typed value is a mismatch; below it, unreadable.",
    )
    # --- core ---
    proofing_idle_s: float = Field(
        default=1860.0, gt=0,
        description="A pending proofing session's held evidence (typed data, checks, face "
        "samples, liveness) lives this long after its last step; then PROOFING_EXPIRED and "
        "`simkyc admin purge` deletes it (default: challenge TTL + approval TTL, as before).",
    )
    engine_pool: int | None = Field(
        default=None, ge=1, le=64,
        description="Face and liveness engine instances per process; each request checks one "
        "out (detectors and MediaPipe graphs are not thread-safe), so this many inferences "
        "run at once. Each costs its models' memory. Unset: worker_cores (one per core).",
    )
    # --- tlog ---
    log_origin: str = Field(
        default="simkyc.local/audit",
        pattern=r"^[^\s+]{1,100}$",
        description="The transparency log's origin: first line of every checkpoint and the "
        "name of its Ed25519 signing key (no spaces or '+'); name it after the deployment.",
    )
    log_integrate_interval_s: float = Field(
        default=0.2,
        gt=0,
        description="How often the integrator inside `simkyc serve` folds new audit entries "
        "into the Merkle tree and signs a checkpoint (integration lag is about this plus "
        "the round's time).",
    )
    log_integrator: bool = Field(
        default=True,
        description="Run the integrator inside `simkyc serve` (one process integrates at a "
        "time; off when a dedicated `simkyc audit integrate` worker runs).",
    )
    database_pool: int = Field(
        default=20, ge=1, le=200,
        description="Database connections each process keeps (as many again may open under "
        "load): at least the concurrent requests a worker serves, so none queues for a "
        "connection (the old fixed 5 + 5 queued 16 concurrent registrations).",
    )
    # --- bind ---
    selfservice_max_attempts: int = Field(
        default=5, ge=1,
        description="Self-service sign-in attempts allowed per person (by pseudonym) and per "
        "device within selfservice_window_s (counted in the database).",
    )
    selfservice_caller_max_attempts: int = Field(
        default=200, ge=1,
        description="Self-service sign-in attempts allowed per caller key (a shop's agent, the "
        "citizen portal) within selfservice_window_s.",
    )
    selfservice_window_s: float = Field(
        default=3600.0, gt=0, description="Window of the self-service sign-in attempt limits."
    )
    faces_verify_max_calls: int = Field(
        default=60, ge=1,
        description="POST /v1/faces/verify calls allowed per API key within "
        "faces_verify_window_s (counted in the database).",
    )
    faces_verify_window_s: float = Field(
        default=60.0, gt=0, description="Window of the /v1/faces/verify rate limit, seconds."
    )
    faces_verify_max_pixels: int = Field(
        default=4_000_000,
        description="Largest width x height /v1/faces/verify decodes (proofing uploads keep "
        "max_image_pixels): the open comparison endpoint cannot tie up the engines.",
    )
    faces_verify_lock_wait_s: float = Field(
        default=2.0, gt=0,
        description="How long /v1/faces/verify waits to check an engine out of the pool before "
        "answering 503 (proofing traffic goes first).",
    )
    # --- faces ---
    false_reject_target: float = Field(
        default=0.005,
        gt=0,
        lt=1,
        description="Share of genuine pairs the reject threshold may refuse outright "
        "(`no_match`); between it and the accept threshold (at fmr_target) is `review`.",
    )
    probe_frames: int = Field(
        default=3,
        ge=1,
        description="The live probe is the fused embedding of this many best frames (by "
        "quality) of the selfie and liveness capture.",
    )

    # --- deploy ---
    testing: bool = Field(
        default=False,
        description="TEST DEPLOYMENTS ONLY: allow the testing_* hooks below (the service "
        "logs a warning at start); never set in production.",
    )
    testing_challenge_script: list[str] | None = Field(
        default=None,
        description="TEST ONLY, refused unless SIMKYC_TESTING=true: every liveness challenge "
        'asks for these actions, in order (e.g. ["turn_right","turn_left"]), so a recorded '
        "clip can answer; the multi-process tests (tests/deploy) use it.",
    )
    worker_cores: int | None = Field(
        default=None, ge=1, le=256,
        description="CPU cores this process's inference may use: engine_pool and the OCR "
        "and OpenCV threads default from it. Unset: the CPUs the process may run on; "
        "`simkyc serve --workers N` gives each worker cores / N (at least 1).",
    )
    malloc_arena_max: int = Field(
        default=2, ge=1, le=64,
        description="glibc malloc arenas per process (mallopt M_ARENA_MAX at start; Linux): "
        "every thread that runs inference otherwise gets its own arena (glibc's default: up "
        "to 8 per core), each keeping the freed image and frame buffers it once held.",
    )
    worker_healthcheck_s: int = Field(
        default=60, ge=1,
        description="`simkyc serve --workers N`: how long the supervisor waits for a worker's "
        "answer to its health ping before killing and restarting it. uvicorn's 5 s killed "
        "workers busy loading their models or analysing clips on a loaded machine (34 "
        "restarts in one bench/cluster.py run, each reloading every model).",
    )
    malloc_trim_above_mb: int = Field(
        default=128, ge=0,
        description="After an inference (an engine checked back in), if the worker's "
        "resident set has grown more than this many MB over its size at rest (models "
        "loaded), hand freed memory back to the system (glibc malloc_trim): it returns to "
        "about its size at rest instead of keeping its peak. 0: after every inference "
        "(costs page faults on the next one).",
    )
    malloc_mmap_threshold_kb: int = Field(
        default=0, ge=0, le=32768,
        description="If set, glibc allocations of at least this many kB get their own mmap, "
        "handed back to the system when freed (mallopt M_MMAP_THRESHOLD at start; Linux): "
        "a lower peak (256: ~130 MB less per worker) for more CPU (256: a card check "
        "0.25 -> 0.33 CPU-s, its buffers faulted in afresh each time; 1024: ~55 MB less, "
        "a card check unchanged, a document step 40,000 more page faults). 0: glibc's default "
        "threshold, which raises itself up to 32 MB (bench/memory_peak.py).",
    )

    cpu_affinity: bool = Field(
        default=False,
        description="`simkyc serve --workers N`: run each worker on its own worker_cores "
        "CPUs (worker i from CPU i x worker_cores on; Linux, sched_setaffinity), inherited "
        "by every thread it "
        "starts (video decoding, OCR, inference), so a worker configured for K cores uses "
        "K cores (`serve --cpu-affinity` sets it too). Off: the kernel places the threads.",
    )
    liveness_decode_threads: int | None = Field(
        default=None, ge=0, le=64,
        description="FFmpeg's threads decoding one liveness video. Unset: the cores per "
        "engine (as the OCR's); 0: FFmpeg's own choice (every CPU of the machine, plus one, "
        "each holding frames in flight). The frames are the same whatever the count.",
    )

    def cores(self) -> int:
        """worker_cores, else the CPUs this process may run on."""
        if self.worker_cores is not None:
            return self.worker_cores
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1

    def pool_size(self) -> int:
        """engine_pool, else one engine per core."""
        return self.engine_pool if self.engine_pool is not None else self.cores()

    def threads_per_engine(self) -> int:
        """CPU threads one running engine may use (OCR, OpenCV): the cores shared
        between the engines that run at once."""
        return max(1, self.cores() // self.pool_size())

    @model_validator(mode="after")
    def _test_hooks_need_the_testing_flag(self) -> Settings:
        """A test hook in production would let a recorded clip pass liveness: refuse it."""
        if self.testing_challenge_script is not None and not self.testing:
            raise ValueError("SIMKYC_TESTING_CHALLENGE_SCRIPT is a test hook: it is refused "
                             "unless SIMKYC_TESTING=true (test deployments only).")
        return self


def get_settings() -> Settings:
    """Read the settings from the environment; called by the CLI and app factories."""
    return Settings()
