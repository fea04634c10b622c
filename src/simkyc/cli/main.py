"""The `simkyc` command: a thin shell over the same objects the API uses."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from simkyc.cli.admin import admin_app, audit_app
from simkyc.cli.documents import document_app
from simkyc.cli.lang import LANG_VARIABLE, BadValue, cli_locale, said, say
from simkyc.cli.liveness import eval_liveness_command, liveness_app
from simkyc.config import get_settings
from simkyc.errors import SimkycError
from simkyc.files import read_input
from simkyc.i18n import catalogs
from simkyc.i18n.catalog import DEFAULT_LOCALE
from simkyc.i18n.messages import localized_face_reasons

if TYPE_CHECKING:
    from simkyc.faces.pipeline import FacePipeline

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
eval_app = typer.Typer(no_args_is_help=True, help="Measure accuracy on evaluation data.")
app.add_typer(eval_app, name="eval")
app.add_typer(document_app, name="document")
app.add_typer(liveness_app, name="liveness")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")
eval_app.command("liveness")(eval_liveness_command)
console = Console(stderr=True)

EXIT_CODES = {"match": 0, "no_match": 1, "review": 2, "error": 3}


@app.callback()
def language(
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of the messages (en, zh-CN); default: from LANG.")] = None,
) -> None:
    """Options for every command."""
    if lang:
        os.environ[LANG_VARIABLE] = lang


def _fail(error: SimkycError, as_json: bool) -> typer.Exit:
    """Report a domain error (code + sentence) and exit 3; never a traceback."""
    if as_json:
        print(
            json.dumps(
                {
                    "decision": "error",
                    "error": error.code,
                    "message": said(error),
                    **error.details(),
                }
            )
        )
    else:
        console.print(f"[red]{error.code}[/red]: {said(error)}")
    return typer.Exit(EXIT_CODES["error"])


@app.command()
def verify(
    document: Annotated[Path | None, typer.Argument(help="Portrait from the ID document.")] = None,
    selfie: Annotated[Path | None, typer.Argument(help="Live photo of the applicant.")] = None,
    pairs: Annotated[
        Path | None, typer.Option(help="CSV of path_a,path_b; one JSON line each.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is the person in SELFIE the one on DOCUMENT? Exit 0 match, 1 no match, 2 review, 3 error."""
    from simkyc.faces.pipeline import FacePipeline

    try:
        pipeline = FacePipeline.from_settings(get_settings())
    except SimkycError as error:
        raise _fail(error, as_json or pairs is not None) from None
    if pairs is not None:
        _verify_pairs(pipeline, pairs)
        return
    if document is None or selfie is None:
        raise BadValue(say("cli.verify.give_images"))
    try:
        result = pipeline.verify(read_input(document), read_input(selfie))
    except SimkycError as error:
        raise _fail(error, as_json) from None
    # JSON does not change with the language (README, Languages): its reasons are English.
    locale = DEFAULT_LOCALE if as_json else cli_locale()
    reply = localized_face_reasons(catalogs(), locale, result.to_dict(), result.reasons)
    if as_json:
        print(json.dumps(reply))
    else:
        _print_result(reply)
    raise typer.Exit(EXIT_CODES[result.decision.value])


def _verify_pairs(pipeline: FacePipeline, pairs: Path) -> None:
    """One JSON object per CSV row, in input order; a bad row yields decision `error`."""
    with pairs.open(newline="") as handle:
        for row in csv.reader(handle):
            if not row:
                continue
            a, b = [*row, "", ""][:2]
            out: dict[str, object] = {"a": a, "b": b}
            try:
                result = pipeline.verify(read_input(Path(a)), read_input(Path(b)))
                out |= {
                    "decision": result.decision.value,
                    "score": round(result.score, 5),
                    "threshold": result.threshold,
                    "error": None,
                }
            except SimkycError as error:
                out |= {
                    "decision": "error",
                    "score": None,
                    "threshold": pipeline.policy.accept.threshold,
                    "error": error.code,
                    "message": said(error),
                }
            print(json.dumps(out), flush=True)


def _print_result(result: dict[str, object]) -> None:
    """A readable summary of a verification (its `reasons` already said in the CLI's
    language by `localized_face_reasons`)."""
    decision = str(result["decision"])
    colour = {"match": "green", "no_match": "red", "review": "yellow"}[decision]
    out = Console()
    out.print(
        f"[bold {colour}]{say(f'cli.decision.{decision}')}[/]  "
        + escape(say("cli.verify.summary", score=result["score"],
                     threshold=f"{result['threshold']:.4f}", fmr=f"{result['fmr_target']:g}",
                     model=result["model_id"], calibration=result["calibration_id"]))
    )
    for reason in result["reasons"]:  # type: ignore[attr-defined]
        out.print("  " + escape(say("cli.verify.review", reason=reason)))
    for role in ("document_quality", "selfie_quality"):
        quality = result[role]
        assert isinstance(quality, dict)
        pose = quality["pose"]
        who = say("cli.verify.document") if role == "document_quality" else say("cli.verify.selfie")
        out.print("  " + escape(say(
            "cli.verify.quality", who=who, eyes=f"{quality['eye_distance']:.0f}",
            sharpness=f"{quality['sharpness']:.0f}", brightness=f"{quality['brightness']:.0f}",
            yaw=f"{pose['yaw']:.0f}", pitch=f"{pose['pitch']:.0f}", roll=f"{pose['roll']:.0f}")))


@app.command()
def models() -> None:
    """What recognizers are installed, and which calibrations the package carries."""
    from simkyc.faces import calibration
    from simkyc.faces.recognizers import describe, load_recognizers

    settings = get_settings()
    try:
        specs = load_recognizers(settings.recognizers_file)
    except SimkycError as error:
        raise _fail(error, True) from None
    listing = {
        "recognizers": [
            describe(s, settings.models_dir, settings.cache_dir) for s in specs.values()
        ],
        "calibrations": [
            {
                "calibration_id": c.calibration_id,
                "model_id": c.model_id,
                "population": c.population,
                "pipeline": c.pipeline,
                "points": [p.__dict__ for p in c.points],
                "reject_points": [p.__dict__ for p in c.reject_points],
                "n_genuine": c.n_genuine,
                "n_impostor": c.n_impostor,
                "date": c.date,
                "data": c.data,
                "command": c.command,
            }
            for c in calibration.load_table()
        ],
        "configured": {
            "recognizer": settings.recognizer,
            "population": settings.population,
            "detector": settings.detector.value,
            "fmr_target": settings.fmr_target,
            "false_reject_target": settings.false_reject_target,
        },
    }
    print(json.dumps(listing, indent=2))


@eval_app.command("faces")
def eval_faces(  # noqa: PLR0917 - one parameter per command-line option
    datasets: Annotated[
        list[str] | None, typer.Option("--dataset", help="lfw, casia, kpop, apf, lfw-east-asian")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the JSON report and DET plot.")] = Path(
        "artifacts/eval-faces"
    ),
    limit: Annotated[int | None, typer.Option(help="Use only the first N identities.")] = None,
    workers: Annotated[int, typer.Option(help="Processes embedding images.")] = 2,
    write_calibration: Annotated[
        bool,
        typer.Option(help="Write the measured thresholds into the package's calibration table."),
    ] = False,
    compare_with: Annotated[
        str | None,
        typer.Option(help="A second recognizer measured in the same run: its calibrations, "
                     "its DET curves on the same plot, the fusion of both models' scores."),
    ] = None,
) -> None:
    """Accuracy per data set: 10-fold (LFW), EER, TAR at FAR 1e-2/1e-3/1e-4, DET curves, fusion."""
    from simkyc.eval.datasets import NAMES
    from simkyc.eval.faces import run_face_evaluation

    try:
        run_face_evaluation(
            get_settings(),
            datasets or list(NAMES),
            out=out,
            limit=limit,
            workers=workers,
            write_calibration=write_calibration,
            compare_with=compare_with,
        )
    except SimkycError as error:
        raise _fail(error, False) from None


@eval_app.command("documents")
def eval_documents(
    data: Annotated[Path, typer.Option(help="A folder with manifest.csv and the images.")] = Path(
        "../shared/data/documents-specimens"
    ),
    out: Annotated[Path, typer.Option(help="The JSON report.")] = Path(
        "artifacts/eval-documents/report.json"
    ),
    limit: Annotated[int | None, typer.Option(help="Read only the first N documents.")] = None,
    today: Annotated[
        str | None, typer.Option(help="Reference date YYYY-MM-DD (default: today).")
    ] = None,
    own_ocrb: Annotated[bool, typer.Option(
        help="Read MRZs with simkyc's own OCR-B recognizer too (--no-own-ocrb: RapidOCR "
             "and Tesseract only, for comparison).")] = True,
) -> None:
    """Real documents: MRZ found / read / verified, portrait found, fields agreeing, seconds;
    per document type and country."""
    from datetime import date

    from simkyc.eval.document_specimens import format_table, run_specimen_evaluation

    reference = date.fromisoformat(today) if today else date.today()
    try:
        result = run_specimen_evaluation(
            get_settings(), data, today=reference, limit=limit, out=out, own_ocrb=own_ocrb,
            progress=lambda o: typer.echo(say(
                "cli.eval_documents.progress", file=o.specimen.path.name,
                mrz=say("cli.eval_documents.verified") if o.mrz_verified else "-",
                portrait=(say("cli.eval_documents.found") if o.portrait_found
                          else o.portrait_error),
                seconds=f"{o.seconds:.2f}"), err=True))
    except SimkycError as error:
        raise _fail(error, False) from None
    for key in ("by_type", "by_country"):
        print("\n".join(format_table(result, key)) + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing the port (about one per core); "
                          "each loads every model once at start and uses cores / N of the "
                          "CPUs (SIMKYC_WORKER_CORES overrides).")
    ] = 1,
    cpu_affinity: Annotated[
        bool | None, typer.Option("--cpu-affinity/--no-cpu-affinity",
                                  help="Run each worker on its own share of the CPUs "
                                  "(default: SIMKYC_CPU_AFFINITY).")
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /docs). GET /health: the process is alive; GET /ready:
    200 once its models are loaded (503 MODELS_LOADING before; the database is not probed)."""
    import shutil
    import tempfile

    import uvicorn

    from simkyc.api.metrics import MULTIPROCESS_DIR

    settings = get_settings()  # a bad setting fails here, once, before any worker starts
    if settings.worker_cores is None and workers > 1:
        # Each worker uses its share of the cores (engines, OCR and OpenCV threads): N
        # workers each sized for the whole machine would oversubscribe it N times.
        os.environ["SIMKYC_WORKER_CORES"] = str(max(1, settings.cores() // workers))
    cores_each = int(os.environ.get("SIMKYC_WORKER_CORES", settings.cores()))
    _limit_math_threads(cores_each)
    pinned = settings.cpu_affinity if cpu_affinity is None else cpu_affinity
    slots = _cpu_slots(workers, cores_each) if pinned else None
    counts = None
    if workers > 1 and MULTIPROCESS_DIR not in os.environ:
        # The workers' metric counts, added up by /metrics whichever worker it reaches.
        counts = os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="simkyc-metrics-")
    try:
        uvicorn.run("simkyc.api.app:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="info",
                    **_healthcheck(settings.worker_healthcheck_s))
    finally:
        for folder in (counts, slots):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _limit_math_threads(cores: int) -> None:
    """The workers' BLAS/OpenMP pools (NumPy's OpenBLAS, read when a worker imports it)
    sized to a worker's cores, unless the operator set them: each sizes itself for the
    whole machine otherwise."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(cores))


def _cpu_slots(workers: int, cores_each: int) -> str:
    """A folder of one CPU set (`cores_each` CPUs) per worker, named to the workers in the
    environment; each worker locks one at start (simkyc.affinity)."""
    import tempfile

    from simkyc.affinity import SLOTS_DIR, available_cpus, core_sets, write_slots

    folder = tempfile.mkdtemp(prefix="simkyc-cpus-")
    write_slots(Path(folder), core_sets(available_cpus(), workers, cores_each))
    os.environ[SLOTS_DIR] = folder
    return folder


def _healthcheck(seconds: int) -> dict[str, Any]:
    """uvicorn's worker health-check timeout, where this uvicorn has one (not in the oldest
    uvicorn pyproject.toml allows)."""
    import inspect

    import uvicorn

    known = inspect.signature(uvicorn.Config).parameters
    return {"timeout_worker_healthcheck": seconds} if "timeout_worker_healthcheck" in known else {}


def main() -> None:
    """Entry point of the `simkyc` script: its help and sentences in the CLI's language."""
    from simkyc.cli.help import run

    run(app, prog_name="simkyc")


if __name__ == "__main__":
    main()
