"""Click's usage errors in the CLI's language.

Click (vendored by Typer) writes its usage errors in English: `Missing argument 'X'.`,
`No such option: --x`, `Invalid value for '--x': ...`, `Got unexpected extra argument(s)`.
`localized_message` rebuilds the sentence of such an error from the catalog's `cli.usage.*`
messages, with click's own parameters (the option's name, the possibilities it suggests, the
parameter's hint); `simkyc.cli.help.run` prints it where click would (the usage line, the
"try --help" hint and the error panel, whose words `cli.typer.*` already translates), exit
code 2. The English catalog says what click says, word for word (a test checks it), so a
sentence no pattern here knows stays as click wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from typer._click import exceptions as click_errors

from simkyc.i18n.catalog import Catalogs

# Free-text messages click and Typer raise, as (catalog id, the English it fills in): the
# English catalog's sentence with `{name}` placeholders matching the named groups.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("cli.usage.extra_arguments", r"Got unexpected extra argument\(s\) \((?P<arguments>.*)\)"),
    ("cli.usage.did_you_mean",
     r"No such command (?P<name>.+)\. Did you mean (?P<suggestions>.+)\?"),
    ("cli.usage.no_such_command", r"No such command (?P<name>.+)\."),
    ("cli.usage.missing_command", r"Missing command\."),
    ("cli.usage.no_such_option", r"No such option: (?P<option>\S+)"),
    ("cli.usage.requires_argument", r"Option (?P<name>.+) requires an argument\."),
    ("cli.usage.requires_arguments",
     r"Option (?P<name>.+) requires (?P<count>\d+) arguments\."),
    ("cli.usage.takes_no_value", r"Option (?P<name>.+) does not take a value\."),
    ("cli.usage.argument_takes", r"Argument (?P<name>.+) takes (?P<count>\d+) values\."),
    ("cli.usage.not_one_of", r"(?P<value>.+) is not one of (?P<choices>.+)\."),
    ("cli.usage.not_valid", r"Value (?P<value>.+) is not a valid (?P<kind>\w+)\."),
    # Pydantic's sentences for the numbers Typer parses.
    ("cli.usage.not_a_number",
     r"Input should be a valid number, unable to parse string as a number"),
    ("cli.usage.not_an_integer",
     r"Input should be a valid integer, unable to parse string as an integer"),
)
POSSIBLE_OPTIONS_ID = "cli.usage.possible_options"
MISSING_IDS = {"argument": "cli.usage.missing_argument", "option": "cli.usage.missing_option",
               "parameter": "cli.usage.missing_parameter"}
CHOOSE_FROM_ID = "cli.usage.choose_from"
INVALID_VALUE_FOR_ID = "cli.usage.invalid_value_for"
INVALID_VALUE_ID = "cli.usage.invalid_value"
USAGE_IDS = frozenset({*(msg_id for msg_id, _ in MESSAGES), POSSIBLE_OPTIONS_ID,
                       *MISSING_IDS.values(), CHOOSE_FROM_ID, INVALID_VALUE_FOR_ID,
                       INVALID_VALUE_ID})
_COMPILED = tuple((msg_id, re.compile(pattern, re.S)) for msg_id, pattern in MESSAGES)

Say = Callable[..., str]


def sentence(message: str, say: Say) -> str:
    """`message` (one of click's free-text sentences) in the catalog's words; as it is when
    no pattern knows it."""
    for msg_id, pattern in _COMPILED:
        found = pattern.fullmatch(message)
        if found:
            return say(msg_id, **found.groupdict())
    return message


def _hint(error: click_errors.BadParameter) -> str | None:
    """The parameter's name as click quotes it (`'--fps'`, `'card_image'`), or None."""
    hint: Sequence[str] | str | None = error.param_hint
    if hint is None and error.param is not None:
        hint = error.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        return " / ".join(repr(x) for x in hint)
    return hint


def _missing(error: click_errors.MissingParameter, say: Say) -> str:
    kind = error.param_type or (error.param.param_type_name if error.param else "parameter")
    hint = _hint(error)
    text = say(MISSING_IDS.get(kind, MISSING_IDS["parameter"]), name=hint or "")
    if not hint:  # click then writes no name and no space: "Missing parameter."
        text = re.sub(r"\s+(?=[.。])", "", text)
    extra = error.param.get_missing_message(ctx=error.ctx) if error.param else None
    if error.message or extra:
        choices = (extra or "").removeprefix("Choose from:\n\t")
        parts = [sentence(error.message, say)] if error.message else []
        if extra:
            parts.append(say(CHOOSE_FROM_ID, choices=choices) if choices != extra else extra)
        text = f"{text} {'. '.join(parts)}"
    return text


def _no_such_option(error: click_errors.NoSuchOption, say: Say) -> str:
    text = sentence(error.message, say)
    if not error.possibilities:
        return text
    return say(POSSIBLE_OPTIONS_ID, message=text, options=", ".join(sorted(error.possibilities)))


def _bad_parameter(error: click_errors.BadParameter, say: Say) -> str:
    if type(error).format_message is not click_errors.BadParameter.format_message:
        return error.format_message()  # a sentence already the CLI's (lang.BadValue)
    detail = sentence(error.message, say)
    hint = _hint(error)
    if hint is None:
        return say(INVALID_VALUE_ID, detail=detail)
    return say(INVALID_VALUE_FOR_ID, name=hint, detail=detail)


def localized_message(error: click_errors.UsageError, say: Say) -> str:
    """The sentence click's `error.format_message()` says, in the words of `say` (the
    CLI's `say`, or `catalog_say` for a given locale)."""
    if isinstance(error, click_errors.MissingParameter):
        return _missing(error, say)
    if isinstance(error, click_errors.NoSuchOption):
        return _no_such_option(error, say)
    if isinstance(error, click_errors.BadParameter):
        return _bad_parameter(error, say)
    if type(error).format_message is not click_errors.UsageError.format_message:
        return error.format_message()
    return sentence(error.message, say)


def catalog_say(cat: Catalogs, locale: str) -> Say:
    """A `say` for `locale` (the English catalog's words where it lacks one)."""

    def say(msg_id: str, **params: object) -> str:
        return cat.text(locale, msg_id, None, **params)

    return say
