"""`simkyc liveness check`: judge a clip or a burst of frames; and `simkyc eval liveness`.

Exit codes: 0 live, 1 spoof, 2 retry, 3 error (a domain error, printed as a code and a
sentence; with --json as {"verdict": "error", "error": CODE, "message": ...}).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simkyc.cli.lang import column, liveness_said, said, say
from simkyc.config import get_settings
from simkyc.errors import InvalidMedia, SimkycError
from simkyc.files import read_input
from simkyc.i18n.catalog import DEFAULT_LOCALE, catalogs
from simkyc.i18n.messages import liveness_reason
from simkyc.liveness.challenge import Action

if TYPE_CHECKING:
    from simkyc.liveness.analyzer import LivenessResult
    from simkyc.liveness.media import Frame
    from simkyc.liveness.service import LivenessService

liveness_app = typer.Typer(no_args_is_help=True, help="Check liveness evidence.")
console = Console(stderr=True)

EXIT_CODES = {"live": 0, "spoof": 1, "retry": 2, "error": 3}
STILL_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})


class InvalidArgument(SimkycError):
    """A command-line value the command cannot use (an unknown action, a bad frame rate)."""

    code = "INVALID_ARGUMENT"
    status = 400


@liveness_app.callback()
def _liveness() -> None:
    """Check liveness evidence: a short video, or a burst of frames."""


@liveness_app.command("check")
def check(  # noqa: PLR0917 - typer maps each parameter to an option
    media: Annotated[list[Path], typer.Argument(help="One video, or several image frames.")],
    challenge: Annotated[
        str | None,
        typer.Option(help="Actions to check, in order: turn_left,turn_right,look_up,blink."),
    ] = None,
    passive: Annotated[bool, typer.Option("--passive", help="No challenge: checks only.")] = False,
    fps: Annotated[float, typer.Option(help="Frame rate of image frames (their timing).")] = 15.0,
    slot: Annotated[
        float | None,
        typer.Option(help="Seconds per prompt, if the prompts were timed (default: order only)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is the face in MEDIA a live person doing the challenge? Exit 0 live, 1 spoof, 2 retry,
    3 error."""
    from simkyc.liveness.service import LivenessService

    try:
        actions = parse_challenge(challenge, passive)
        service = LivenessService.from_settings(get_settings())
        frames = _decode(service, media, fps)
        result = service.analyzer.analyse(frames, actions=actions, slot_s=slot)
    except SimkycError as error:
        raise _fail(error, as_json) from None
    if as_json:
        print(json.dumps(_reply(result)))
    else:
        _print_result(result)
    raise typer.Exit(EXIT_CODES[result.verdict.value])


def _reply(result: LivenessResult) -> dict[str, object]:
    """The JSON reply: reasons said in English (JSON does not change with the language), and
    their catalog keys beside them (`reason_keys`, as in the API's liveness reply)."""
    english = partial(liveness_reason, catalogs(), DEFAULT_LOCALE)
    return {**result.to_dict(say=english), "reason_keys": [r.key() for r in result.reasons]}


def parse_challenge(challenge: str | None, passive: bool) -> tuple[Action, ...] | None:
    """The actions of --challenge (comma-separated), or None with --passive; one is required."""
    if passive == (challenge is not None):
        raise InvalidArgument("Give either --challenge ACTIONS or --passive.")
    if challenge is None:
        return None
    names = [name.strip() for name in challenge.split(",") if name.strip()]
    unknown = [name for name in names if name not in {a.value for a in Action}]
    if unknown or not names:
        known = ", ".join(a.value for a in Action)
        raise InvalidArgument(f"Unknown actions {unknown or [challenge]}; known: {known}.")
    return tuple(Action(name) for name in names)


def _decode(service: LivenessService, media: Sequence[Path], fps: float) -> list[Frame]:
    """One video, or image frames timed at `fps` in the order given."""
    if len(media) == 1 and media[0].suffix.lower() not in STILL_SUFFIXES:
        return service.decode(video=read_input(media[0], InvalidMedia))
    if fps <= 0:
        raise InvalidArgument(f"--fps must be positive, not {fps}.")
    stills = [(read_input(path, InvalidMedia), k / fps) for k, path in enumerate(media)]
    return service.decode(stills=stills)


def _fail(error: SimkycError, as_json: bool) -> typer.Exit:
    """Report a domain error (code + sentence) and exit 3; never a traceback."""
    if as_json:
        print(
            json.dumps(
                {
                    "verdict": "error",
                    "error": error.code,
                    "message": said(error),
                    **error.details(),
                }
            )
        )
    else:
        console.print(f"[red]{error.code}[/red]: {escape(said(error))}")
    return typer.Exit(EXIT_CODES["error"])


def _print_result(result: LivenessResult) -> None:
    """The verdict, then one line per check."""
    colour = {"live": "green", "spoof": "red", "retry": "yellow"}[result.verdict.value]
    out = Console()
    seen = [say(f"cli.action.{a}") for a, _ in result.actions_seen]
    out.print(
        f"[bold {colour}]{say(f'cli.verdict.{result.verdict.value}')}[/]  "
        + escape(say("cli.liveness.summary", frames=result.frames_analysed,
                     actions=say("cli.list_separator").join(seen) or say("cli.none")))
    )
    for c in result.checks:
        mark = {True: f"[green]{column(say('cli.liveness.pass'), 6)}[/]",
                False: f"[red]{column(say('cli.liveness.fail'), 6)}[/]",
                None: f"[yellow]{column(say('cli.liveness.not_applicable'), 6)}[/]"}[c.passed]
        value = "-" if c.value is None else f"{c.value:.3f}"
        limit = "-" if c.threshold is None else f"{c.threshold:g}"
        reason = f"  {escape(liveness_said(c.reason))}" if c.passed is not True else ""
        out.print(f"  {mark}  {column(say(f'cli.check.{c.name}'), 16)} {value:>8} "
                  f"({escape(say('cli.liveness.threshold', limit=limit))}){reason}")


def eval_liveness_command(
    out: Annotated[Path, typer.Option(help="Folder for report.json.")] = Path(
        "artifacts/eval-liveness"
    ),
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="headturn, blink, nuaa, silent-face, synthetic, bona-fide, speed (default: all).",
        ),
    ] = None,
) -> None:
    """Liveness figures: challenges, blinks, APCER/BPCER on photos, videos and synthetic
    attacks (ISO/IEC 30107-3), speed."""
    from simkyc.eval.liveness import SETS, run_liveness_evaluation

    chosen = sets or list(SETS)
    unknown = [name for name in chosen if name not in SETS]
    try:
        if unknown:
            raise InvalidArgument(f"Unknown sets {unknown}; known: {', '.join(SETS)}.")
        command = " ".join(
            ["simkyc eval liveness", f"--out {out}", *(f"--set {name}" for name in sets or ())]
        )
        run_liveness_evaluation(get_settings(), out=out, sets=chosen, command=command)
    except SimkycError as error:
        raise _fail(error, False) from None


if __name__ == "__main__":
    from simkyc.cli.help import run

    run(liveness_app, prog_name="simkyc liveness")
