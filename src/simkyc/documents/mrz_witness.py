"""What a second reader's lines vouch for in a reading being judged (`mrz_read._judged`).

Tesseract, the second reader, reads OCR-B fillers well but drops or doubles characters, so
its line is often a character or more off the format's length. Such a line still vouches
for the characters it reads in place: from the line's start, back from its end, and in long
runs it reads exactly with the rest shifted by the characters it lost or doubled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from simkyc.documents.mrz_correct import PositionKind, by_kind, position_kinds
from simkyc.documents.mrz_layout import layout_for

# A second reader's line of the wrong length vouches for a run of characters it reads
# exactly, shifted, only this long with this many letters or digits in it (`_runs`): 8
# characters of the 37-symbol alphabet agree by chance at one of a handful of shifts far
# less often than a recognizer misreads (~1e-12 against ~1e-2 per character).
MIN_RUN = 8
MIN_RUN_LETTERS = 3


def witness_line(lines: tuple[str, ...], candidate: tuple[str, ...]) -> str | None:
    """The second reader's lines joined as a witness to `candidate` (the lines being
    judged): a line of the candidate's length as read; a line of another length (Tesseract
    drops or doubles characters, mostly in runs of fillers) only where it reads the
    candidate's characters in place (`anchored`), `?` elsewhere (it vouches for nothing
    there). None if the line count differs."""
    layout = layout_for(candidate)
    if len(lines) != len(candidate) or layout is None:
        return None
    kinds = position_kinds(layout)
    width = layout.width
    return "".join(
        line if len(line) == width else anchored(line, want, kinds[k * width:(k + 1) * width])
        for k, (line, want) in enumerate(zip(lines, candidate, strict=True)))


def anchored(line: str, want: str, kinds: Sequence[PositionKind]) -> str:
    """`want`'s characters that `line` (of another length) reads in place, `?` elsewhere:
    its longest common prefix with `want`, its longest common suffix, and any run of at
    least MIN_RUN characters (MIN_RUN_LETTERS of them no filler) it reads exactly with the
    rest of it shifted by as many places as the lengths differ, or one more (`_runs`). A
    reader that read the same run of characters vouches for them whatever it lost or
    doubled elsewhere: each of its characters is compared with the one at the same place
    of the anchor, never slid character by character to find a match; not the end of a run
    where it broke off on a repeated character (`_trimmed`). Each is taken in its place's
    alphabet first, as `correct_mrz` takes every reading (`O` in a date: 0)."""
    width = len(want)

    def same(char: str, at: int) -> bool:
        return by_kind(char, kinds[at]) == want[at]

    head = 0
    while head < min(len(line), width) and same(line[head], head):
        head += 1
    tail = 0
    while tail < min(len(line), width) - head and same(line[-1 - tail], width - 1 - tail):
        tail += 1
    shift = len(line) - width
    vouched = _trimmed(range(head), line, want, 0)
    vouched |= _trimmed(range(width - tail, width), line, want, shift)
    vouched |= _runs(line, want, same)
    return "".join(char if i in vouched else "?" for i, char in enumerate(want))


def _trimmed(run: range, line: str, want: str, shift: int) -> set[int]:
    """A run's positions (`want`'s; `line`'s are `shift` on), less each end where the
    reading broke off (not the line's own ends) whose character repeats a neighbour's, in
    `want` or in `line`: there a doubled or dropped neighbour reads like a misreading that
    repeats it (`XAB` misread `XAA` and read `XAAB`: the second `A` agrees)."""

    def repeats(k: int) -> bool:
        j = k + shift
        return (want[k] in want[max(0, k - 1):k] + want[k + 1:k + 2]
                or line[j] in line[max(0, j - 1):j] + line[j + 1:j + 2])

    kept = set(run)
    if run and run.start > 0 and repeats(run.start):
        kept.discard(run.start)
    if run and run.stop < len(want) and repeats(run.stop - 1):
        kept.discard(run.stop - 1)
    return kept


def _runs(line: str, want: str, same: Callable[[str, int], bool]) -> set[int]:
    """The positions of `want` in runs that `line`, shifted by up to one place more than
    the lengths differ, reads exactly: at least MIN_RUN in a row, MIN_RUN_LETTERS of them
    no filler (a run of fillers agrees at any shift)."""
    width, slack = len(want), abs(len(line) - len(want)) + 1
    vouched: set[int] = set()
    for shift in range(-slack, slack + 1):
        run: list[int] = []
        for i in range(width + 1):
            j = i + shift
            if i < width and 0 <= j < len(line) and same(line[j], i):
                run.append(i)
                continue
            if len(run) >= MIN_RUN and sum(want[k] != "<" for k in run) >= MIN_RUN_LETTERS:
                vouched |= _trimmed(range(run[0], run[-1] + 1), line, want, shift)
            run = []
    return vouched
