"""The command line's help in the CLI's language.

Typer builds the help from the commands' docstrings and `help=` texts, in English; those stay
the source. Before a command runs, `run` reads `--lang` (and LANG) from the raw arguments -
the help is printed while the arguments are parsed, before any option's callback - and
replaces, on the click command tree, every command's and parameter's help by the catalog's
`cli.help.<command path>[.<parameter>]` message, and Typer's own words (Usage, Options,
[required], ...) by `cli.typer.*`. The English catalog holds the same texts as the code
(a test keeps them equal), so `python -m simkyc.cli.extract` names what a catalog lacks.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator, Sequence

import typer
from typer import rich_utils
from typer._click import exceptions as click_errors
from typer._click.core import Command, Parameter
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.main import get_command

from simkyc.cli.lang import LANG_VARIABLE, cli_locale
from simkyc.cli.usage import catalog_say, localized_message
from simkyc.i18n.catalog import DEFAULT_LOCALE, Catalogs, catalogs

ROOT = "simkyc"
HELP_PREFIX = "cli.help."
# Typer's fixed words: (module attribute of typer.rich_utils, catalog id).
TYPER_WORDS = (
    ("ARGUMENTS_PANEL_TITLE", "cli.typer.arguments"),
    ("OPTIONS_PANEL_TITLE", "cli.typer.options"),
    ("COMMANDS_PANEL_TITLE", "cli.typer.commands"),
    ("ERRORS_PANEL_TITLE", "cli.typer.error"),
    ("DEFAULT_STRING", "cli.typer.default"),
    ("REQUIRED_LONG_STRING", "cli.typer.required"),
    ("ABORTED_TEXT", "cli.typer.aborted"),
    ("RICH_HELP", "cli.typer.try_help"),
)
USAGE_ID = "cli.typer.usage"
HELP_OPTION_ID = "cli.typer.help_option"
# The usage line's placeholders: click's `options_metavar`, a group's `subcommand_metavar`.
OPTIONS_METAVAR_ID = "cli.typer.options_metavar"
COMMAND_METAVAR_ID = "cli.typer.command_metavar"
FIXED_IDS = frozenset({USAGE_ID, HELP_OPTION_ID, OPTIONS_METAVAR_ID, COMMAND_METAVAR_ID,
                       *(msg_id for _, msg_id in TYPER_WORDS)})


def lang_option(argv: Sequence[str]) -> str | None:
    """The value of `--lang X` / `--lang=X` in raw arguments (before a `--`), else None."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("--lang="):
            return arg.partition("=")[2] or None
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def normalized(text: str | None) -> str:
    """A help text as the catalog keeps it: the docstring cleaned, lines joined."""
    return " ".join(inspect.cleandoc(text or "").split())


def walk(command: Command, path: str = ROOT) -> Iterator[tuple[str, Command | Parameter]]:
    """Every command and parameter under `command` with its catalog id (without prefix):
    `simkyc.document.check`, `simkyc.document.check.id_number`."""
    yield path, command
    for param in command.params:
        if param.name:
            yield f"{path}.{param.name}", param
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from walk(sub, f"{path}.{name}")


def help_texts(command: Command, path: str = ROOT) -> dict[str, str]:
    """The English help of every command and parameter, by catalog id (those with help)."""
    out = {}
    for key, item in walk(command, path):
        text = normalized(getattr(item, "help", None))
        if text:
            out[HELP_PREFIX + key] = text
    return out


def localize(command: Command, *, cat: Catalogs, locale: str, path: str = ROOT) -> None:
    """Put `locale`'s help on the command tree and Typer's words (the process's CLI speaks
    one language, so Typer's module-level words are set for the process)."""
    for key, item in walk(command, path):
        text = cat.lookup(locale, HELP_PREFIX + key)
        if text is None:
            continue
        if isinstance(item, Command):
            item.help, item.short_help = text, None
        elif isinstance(item, TyperArgument | TyperOption):
            item.help = text
    for attribute, msg_id in TYPER_WORDS:
        word = cat.lookup(locale, msg_id)
        if word is not None:
            setattr(rich_utils, attribute, word)
    _localize_usage_and_help_option(command, cat=cat, locale=locale)


def _localize_usage_and_help_option(command: Command, *, cat: Catalogs, locale: str) -> None:
    """Click writes "Usage: " through the context's formatter and makes the --help option
    per command: each command gets a context whose formatter says the catalog's word, its
    help option the catalog's sentence, its usage line the catalog's placeholders."""
    usage = cat.lookup(locale, USAGE_ID) or "Usage: "
    help_sentence = cat.lookup(locale, HELP_OPTION_ID)
    options_metavar = cat.lookup(locale, OPTIONS_METAVAR_ID)
    command_metavar = cat.lookup(locale, COMMAND_METAVAR_ID)

    class Formatter(HelpFormatter):
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, usage if prefix is None else prefix)

    class Context(typer.Context):
        formatter_class = Formatter

    for _, item in walk(command):
        if isinstance(item, Command):
            item.context_class = Context
            option = item.get_help_option(Context(item))
            if option is not None and help_sentence is not None:
                option.help = help_sentence
            if item.options_metavar and options_metavar is not None:
                item.options_metavar = options_metavar
        if isinstance(item, TyperGroup) and command_metavar is not None:
            item.subcommand_metavar = command_metavar


def run(app: typer.Typer, *, prog_name: str, argv: Sequence[str] | None = None) -> None:
    """Run `app` as the command `prog_name` with its help in the CLI's language (`--lang`,
    else LANG and the other POSIX variables)."""
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = lang_option(args)
    if chosen:
        os.environ[LANG_VARIABLE] = chosen
    command = get_command(app)
    locale = cli_locale()
    if locale == DEFAULT_LOCALE:
        command(args=args, prog_name=prog_name)
        return
    localize(command, cat=catalogs(), locale=locale, path=prog_name.replace(" ", "."))
    # Click prints its usage errors itself in standalone mode; here they come back as
    # exceptions and are printed as Typer would, with the sentence in the CLI's language.
    try:
        result = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click_errors.UsageError as error:
        text = localized_message(error, catalog_say(catalogs(), locale))
        error.format_message = lambda: text  # type: ignore[method-assign]
        rich_utils.rich_format_error(error)
        sys.exit(error.exit_code)
    except click_errors.ClickException as error:
        rich_utils.rich_format_error(error)
        sys.exit(error.exit_code)
    except typer.Abort:
        rich_utils.rich_abort_error()
        sys.exit(1)
    # Without standalone mode click returns the exit code of a typer.Exit (and of Ctrl-C,
    # 130) instead of exiting; the commands themselves return None.
    sys.exit(result if isinstance(result, int) else 0)

