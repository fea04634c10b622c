"""An MRZ line decoded from the recognizer's per-frame probabilities, of a known length.

The general recognizer's greedy decoding picks, frame by frame, any of its 6,623 symbols:
on a blurred photo a run of fillers `<` comes back as `4`, `A` or `K`, look-alikes, or a
line a few characters short. An MRZ line is narrower than that: a fixed number of
characters (30, 36 or 44; ICAO Doc 9303) from A-Z, 0-9 and `<`, each position of its own
kind (dates and check digits are digits, codes and names letters or `<`). So the CTC path
is searched (Viterbi, exact) among the paths that spell a line of exactly that length with
each position in its own alphabet; look-alikes of a symbol (lower case, full width,
brackets for `<`) count for it. Check digits still decide whether the reading is taken:
this only chooses, among readings the model finds likely, one of the right shape.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simkyc.documents.mrz_correct import PositionKind, position_kinds
from simkyc.documents.mrz_layout import Layout

MRZ_ALPHABET = string.ascii_uppercase + string.digits + "<"
DIGITS, LETTERS = frozenset(string.digits), frozenset(string.ascii_uppercase + "<")
SEXES = frozenset("MFX<")
# What else the recognizer writes for a symbol of the MRZ alphabet (OCR-B seen blurred).
LOOK_ALIKES = {"<": "\uff1c\u00ab\u2039\u3008\u300a([{\uff2b"}
# Look-alikes of the filler `<` that OCR returns: guillemets, full-width forms, brackets.
_MRZ_FILLERS = str.maketrans({"\u00ab": "<<", "\u2039": "<", "\uff1c": "<", "(": "<", "[": "<",
                              "{": "<", "\u304f": "<", "\uff2b": "<"})
NEG = -1e9  # log-probability of an impossible path (finite: no inf - inf)


def position_alphabets(layout: Layout) -> list[tuple[frozenset[str], ...]]:
    """What each position of each line of `layout` may hold."""
    allowed: list[frozenset[str]] = []
    for position, kind in enumerate(position_kinds(layout)):
        if kind is PositionKind.DIGIT:
            # A personal number's check digit is `<` when there is no personal number.
            filler = position == layout.personal_number_check
            allowed.append(DIGITS | {"<"} if filler else DIGITS)
        elif kind is PositionKind.LETTER:
            allowed.append(LETTERS)
        elif kind is PositionKind.OTHER:
            allowed.append(SEXES)
        else:
            allowed.append(frozenset(MRZ_ALPHABET))
    width = layout.width
    return [tuple(allowed[start : start + width]) for start in range(0, len(allowed), width)]


def mrz_scores(probabilities: NDArray[np.float32], classes: Sequence[str]) -> NDArray[np.float64]:
    """Per-frame log-probabilities of blank and each MRZ symbol (look-alikes added in), from
    the recognizer's (frames, classes) softmax whose class i is `classes[i]` (0: blank)."""
    index = {char: i for i, char in enumerate(classes) if i > 0}
    columns = np.zeros((probabilities.shape[0], len(MRZ_ALPHABET) + 1), np.float64)
    columns[:, 0] = probabilities[:, 0]
    for j, symbol in enumerate(MRZ_ALPHABET, start=1):
        forms = {symbol, symbol.lower(), chr(ord(symbol) + 0xFEE0), *LOOK_ALIKES.get(symbol, "")}
        for form in forms:
            if form in index:
                columns[:, j] += probabilities[:, index[form]]
    logs: NDArray[np.float64] = np.log(np.maximum(columns, 1e-12))
    return logs


def greedy_text(probabilities: NDArray[np.float32], classes: Sequence[str]) -> str:
    """What the recognizer itself reads (best class per frame, repeats merged, blanks out)."""
    best = probabilities.argmax(axis=1)
    kept = best[np.r_[True, best[1:] != best[:-1]] & (best != 0)]
    return "".join(classes[i] for i in kept)


def decode_lines(
    frames: Sequence[NDArray[np.float64]], layout: Layout
) -> tuple[str, ...] | None:
    """The MRZ of `layout` from each line's `mrz_scores` (None: the line count differs, or a
    line has too few frames to spell its width)."""
    decoded = decode_lines_margins(frames, layout)
    return None if decoded is None else decoded[0]


def decode_lines_margins(
    frames: Sequence[NDArray[np.float64]], layout: Layout
) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """`decode_lines`, with each character's margin (`decode_line_margins`), the lines'
    characters joined into one sequence."""
    if len(frames) != layout.lines:
        return None
    found = [decode_line_margins(scores, allowed)
             for scores, allowed in zip(frames, position_alphabets(layout), strict=True)]
    if not all(text for text, _ in found):
        return None
    return tuple(text for text, _ in found), tuple(m for _, margins in found for m in margins)


def decode_line(scores: NDArray[np.float64], allowed: Sequence[frozenset[str]]) -> str:
    """The most likely line of exactly len(`allowed`) characters, the i-th from
    `allowed[i]`, under CTC's rules (repeats merge unless a blank separates them); "" when
    the frames are too few to spell it."""
    return decode_line_margins(scores, allowed)[0]


def decode_line_margins(
    scores: NDArray[np.float64], allowed: Sequence[frozenset[str]]
) -> tuple[str, tuple[float, ...]]:
    """`decode_line`, and for each character how sure the recognizer was of it: the best,
    over the frames the path spends on it, of its log-probability minus that of the likeliest
    other symbol its position allows (0 and below: a coin toss or worse)."""
    frames, width = scores.shape[0], len(allowed)
    if width == 0 or frames < width:
        return "", ()
    mask = np.full((width + 1, len(MRZ_ALPHABET) + 1), NEG)
    for k, alphabet in enumerate(allowed, start=1):
        mask[k, [MRZ_ALPHABET.index(c) + 1 for c in alphabet]] = 0.0
    mask[:, 0] = NEG  # column 0 of `chars` is unused: the blank state is kept apart
    blank = np.full(width + 1, NEG)
    chars = np.full_like(mask, NEG)
    blank[0] = scores[0, 0]
    chars[1] = scores[0] + mask[1]
    moves = []
    for t in range(1, frames):
        blank, chars, step = _step(blank, chars, scores[t], mask)
        moves.append(step)
    text, spans = _backtrack(blank, chars, moves, width)
    return text, _margins(scores, text, spans, allowed)


def _margins(
    scores: NDArray[np.float64], text: str, spans: list[list[int]],
    allowed: Sequence[frozenset[str]],
) -> tuple[float, ...]:
    """Each character's best log-probability lead over its position's other symbols."""
    margins = []
    for position, (char, frames) in enumerate(zip(text, spans, strict=True)):
        own = MRZ_ALPHABET.index(char) + 1
        others = [MRZ_ALPHABET.index(c) + 1 for c in allowed[position] if c != char]
        if not others:
            margins.append(float("inf"))
            continue
        rows = scores[frames]
        margins.append(float((rows[:, own] - rows[:, others].max(axis=1)).max()))
    return tuple(margins)


# Where each state of one frame came from: a blank state's previous state (-1: blank, else
# the character), a character state's previous row (0: the same character held, 1: the
# position before) and state.
_Step = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def _step(
    blank: NDArray[np.float64], chars: NDArray[np.float64], frame: NDArray[np.float64],
    mask: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], _Step]:
    """One frame of the search: the new scores and where each state came from."""
    rows, columns = np.arange(chars.shape[0]), np.arange(chars.shape[1])
    best = chars.argmax(axis=1)
    top = chars[rows, best]
    second = chars.copy()
    second[rows, best] = NEG
    runner = second.argmax(axis=1)
    is_best = columns[None, :] == best[:, None]
    # The best previous character state other than c (a repeat would merge), per row and c.
    other = np.where(is_best, second[rows, runner][:, None], top[:, None])
    other_from = np.where(is_best, runner[:, None], best[:, None])
    blank_src = np.where(top > blank, best, -1)
    new_blank = np.maximum(blank, top) + frame[0]
    shifted_blank = np.vstack([np.full((1, chars.shape[1]), NEG),
                               np.repeat(blank[:-1, None], chars.shape[1], axis=1)])
    shifted_other = np.vstack([np.full((1, chars.shape[1]), NEG), other[:-1]])
    options = np.stack([chars, shifted_blank, shifted_other])
    choice = options.argmax(axis=0)
    new_chars = np.maximum(options.max(axis=0) + frame[None, :] + mask, NEG)
    shifted_from = np.vstack([np.zeros((1, chars.shape[1]), np.int64), other_from[:-1]])
    row_back = (choice > 0).astype(np.int64)
    state_back = np.select([choice == 0, choice == 1], [columns[None, :].repeat(len(rows), 0),
                                                         np.full_like(shifted_from, -1)],
                           shifted_from)
    return new_blank, new_chars, (blank_src, row_back, state_back)


def _backtrack(
    blank: NDArray[np.float64], chars: NDArray[np.float64], moves: list[_Step], width: int
) -> tuple[str, list[list[int]]]:
    """The characters of the best complete path, read backwards through `moves`, and the
    frames the path spends on each."""
    char = int(chars[width].argmax())
    if max(blank[width], chars[width, char]) <= NEG / 2:
        return "", []
    state = -1 if blank[width] >= chars[width, char] else char
    k, out, spans, held = width, [], [], []
    for frame, (blank_src, row_back, state_back) in reversed(list(enumerate(moves, start=1))):
        if state == -1:
            state = int(blank_src[k])
            continue
        held.append(frame)
        if row_back[k, state]:
            out.append(MRZ_ALPHABET[state - 1])
            spans.append(held)
            held = []
            previous = int(state_back[k, state])
            k -= 1
            state = previous
    if state != -1:
        out.append(MRZ_ALPHABET[state - 1])
        spans.append([*held, 0])
    return "".join(reversed(out)), spans[::-1]


def mrz_text(text: str) -> str:
    """OCR text in the MRZ alphabet: upper case, look-alikes of `<` as `<`, no spaces."""
    cleaned = text.upper().translate(_MRZ_FILLERS).replace(" ", "")
    return "".join(char if re.fullmatch(r"[A-Z0-9<]", char) else "<" for char in cleaned)


# The fixed-pitch decoder (`decode_pitched_line`) for a recognizer whose frames are windows a
# known fraction of the pitch apart (the own OCR-B recognizer: `ocrb.FRAMES_PER_CHAR`).
# The line's pitch in frames is searched over this range of the expected one: the capital
# height it is measured from is within 20% on most rendered lines (test_ocrb), but on a
# strip whose background reads as ink it comes out up to twice too tall (29 of 200
# synthetic names lines: the windows are then too wide, a character 4-5 frames on). On 200
# unseen synthetic names lines (seed 4242), lines read exactly / with over 3 characters
# wrong: CTC 161 / 24; from 0.75: 163 / 25; from 0.5: 169 / 10; from 0.4: 167 / 13.
PITCH_SEARCH = (0.5, 1.3)
PITCH_STEP = 1.1
# Two neighbouring characters' centres lie within this share of the line's pitch of one
# pitch apart (print jitter, a slight perspective); a character seen twice sits about half
# a pitch from itself, a neighbour across a missed one two pitches away: both excluded.
GAP_RANGE = (0.8, 1.2)


def decode_pitched_lines(
    frames: Sequence[NDArray[np.float64]], layout: Layout, *, frames_per_char: int
) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """`decode_lines_margins` for fixed-pitch frames (`decode_pitched_line`)."""
    if len(frames) != layout.lines:
        return None
    found = [decode_pitched_line(scores, allowed, frames_per_char=frames_per_char)
             for scores, allowed in zip(frames, position_alphabets(layout), strict=True)]
    if not all(text for text, _ in found):
        return None
    return tuple(text for text, _ in found), tuple(m for _, margins in found for m in margins)


def decode_pitched_line(
    scores: NDArray[np.float64], allowed: Sequence[frozenset[str]], *, frames_per_char: int
) -> tuple[str, tuple[float, ...]]:
    """The line of exactly len(`allowed`) characters that a fixed-pitch line's frames
    (`mrz_scores` layout, `frames_per_char` frames per character's advance) read best: the
    k-th character at one frame f_k, consecutive ones GAP_RANGE of the line's pitch apart,
    each the likeliest symbol `allowed[k]` permits there. A missed or doubled character
    costs that one position, never the rest of the line (the CTC decoder's failure: it may
    spend the line's characters anywhere). With each character's margin as the CTC decoder
    gives it (`decode_line_margins`), over f_k and its two neighbours (within 1/8 pitch).
    "" when the frames are too few to spell the line."""
    width = len(allowed)
    if width == 0 or scores.shape[0] < 2 * width:
        return "", ()
    smooth = _smoothed(scores)
    masks = _masks(allowed)
    emit = (smooth[:, None, :] + masks[None]).max(axis=2)  # frames x positions
    found = [_aligned(emit, smooth[:, 0], pitch)
             for pitch in _pitches(frames_per_char, scores.shape[0], width)]
    if not found:
        return "", ()
    _, positions = max(found, key=lambda option: option[0])
    text = "".join(MRZ_ALPHABET[int((smooth[frame] + masks[k])[1:].argmax())]
                   for k, frame in enumerate(positions))
    near = [[f for f in (frame - 1, frame, frame + 1) if 0 <= f < scores.shape[0]]
            for frame in positions]
    return text, _margins(scores, text, near, allowed)


def _smoothed(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each frame's probabilities averaged with its two neighbours' (within 1/8 pitch: all
    centred on the same character), as log-probabilities: one noisy window decides less."""
    probabilities = np.exp(scores)
    padded = np.vstack([probabilities[:1], probabilities, probabilities[-1:]])
    mean = (padded[:-2] + padded[1:-1] + padded[2:]) / 3
    logs: NDArray[np.float64] = np.log(np.maximum(mean, 1e-12))
    return logs


def _masks(allowed: Sequence[frozenset[str]]) -> NDArray[np.float64]:
    """Per position, 0 for the columns of its symbols and NEG elsewhere (blank too)."""
    masks = np.full((len(allowed), len(MRZ_ALPHABET) + 1), NEG)
    for k, alphabet in enumerate(allowed):
        masks[k, [MRZ_ALPHABET.index(c) + 1 for c in alphabet]] = 0.0
    return masks


def _pitches(frames_per_char: int, frames: int, width: int) -> list[float]:
    """The pitches (frames) tried: PITCH_SEARCH's range of `frames_per_char`, each PITCH_STEP
    times the last (GAP_RANGE's tolerance overlaps from one to the next), that fit the
    line's `width` characters into its `frames`."""
    low, high = (share * frames_per_char for share in PITCH_SEARCH)
    pitches = []
    pitch = low
    while pitch <= high and GAP_RANGE[0] * pitch * (width - 1) < frames:
        pitches.append(pitch)
        pitch *= PITCH_STEP
    return pitches


def _aligned(emit: NDArray[np.float64], blank: NDArray[np.float64], pitch: float
             ) -> tuple[float, list[int]]:
    """The frames f_0 < ... of the best path (Viterbi over frames x positions, each step
    GAP_RANGE of `pitch` frames) through characters and the blanks half way between (where
    the classifier learnt to say blank: a path that puts two positions on one character
    or skips one crosses a character where it should cross a blank), and its score."""
    frames, width = emit.shape
    low = max(1, int(np.floor(GAP_RANGE[0] * pitch)))
    high = int(np.ceil(GAP_RANGE[1] * pitch))
    score = emit[:, 0].copy()
    back = np.zeros((width, frames), np.int64)
    for k in range(1, width):
        best = np.full(frames, 2 * NEG)
        for gap in range(low, min(high, frames - 1) + 1):
            came = np.full(frames, 2 * NEG)
            came[gap:] = score[:-gap] + blank[np.arange(gap, frames) - gap // 2]
            better = came > best
            best = np.where(better, came, best)
            back[k] = np.where(better, np.arange(frames) - gap, back[k])
        score = best + emit[:, k]
    frame = int(score.argmax())
    total = float(score[frame])
    path = [frame]
    for k in range(width - 1, 0, -1):
        frame = int(back[k, frame])
        path.append(frame)
    return total, path[::-1]
