"""The MRZ line decoder: the exact best CTC path of a fixed length, each position in its own
alphabet (checked against exhaustive search), and the real recognizer's frames decoded."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simkyc.documents.card_text import MRZ_STRETCH, _mrz_row_lines, _strip
from simkyc.documents.mrz_decode import (
    DIGITS,
    LETTERS,
    MRZ_ALPHABET,
    decode_line,
    decode_lines,
    decode_pitched_line,
    decode_pitched_lines,
    greedy_text,
    mrz_scores,
    position_alphabets,
)
from simkyc.documents.mrz_layout import TD1, TD3
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.synth.specimen import DocumentKind, random_specimen, render_card

CLASSES = 1 + len(MRZ_ALPHABET)


def _scores(rows: list[dict[str, float]]) -> np.ndarray:
    """Log-scores per frame from {symbol: probability} ("" is blank), the rest tiny."""
    scores = np.full((len(rows), CLASSES), np.log(1e-6))
    for t, row in enumerate(rows):
        for symbol, p in row.items():
            scores[t, 0 if symbol == "" else MRZ_ALPHABET.index(symbol) + 1] = np.log(p)
    return scores


def _exhaustive(scores: np.ndarray, allowed: list[frozenset[str]], symbols: str) -> str:
    """The best path by trying every path over blank and `symbols`."""
    columns = [0] + [MRZ_ALPHABET.index(s) + 1 for s in symbols]
    best, text = -np.inf, ""
    for path in itertools.product(columns, repeat=scores.shape[0]):
        spelled = [MRZ_ALPHABET[c - 1] for i, c in enumerate(path)
                   if c and (i == 0 or path[i - 1] != c)]
        if len(spelled) != len(allowed) or any(
                c not in a for c, a in zip(spelled, allowed, strict=True)):
            continue
        score = sum(scores[t, c] for t, c in enumerate(path))
        if score > best:
            best, text = score, "".join(spelled)
    return text


def test_the_decoded_line_is_the_best_path_exhaustive_search_finds() -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        frames, width = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        symbols = "A4<"
        scores = np.full((frames, CLASSES), -40.0)
        columns = [0] + [MRZ_ALPHABET.index(s) + 1 for s in symbols]
        scores[:, columns] = np.log(rng.dirichlet(np.ones(4), size=frames))
        allowed = [frozenset(rng.choice(list(symbols), size=int(rng.integers(1, 4)),
                                        replace=False)) for _ in range(width)]
        assert decode_line(scores, allowed) == _exhaustive(scores, allowed, symbols)


def test_a_run_of_fillers_is_spelled_out_to_the_line_length() -> None:
    # Greedy decoding merges the five `<` frames into one; the line needs three.
    scores = _scores([{"<": 0.6, "": 0.4}] * 5)
    assert greedy_text(np.exp(scores), ("blank", *MRZ_ALPHABET)) == "<"
    assert decode_line(scores, [LETTERS] * 3) == "<<<"


def test_a_digit_position_takes_the_digit_even_when_a_letter_looked_likelier() -> None:
    scores = _scores([{"A": 0.7, "4": 0.2}, {"": 0.9}, {"<": 0.6, "K": 0.3}])
    assert decode_line(scores, [DIGITS, LETTERS]) == "4<"
    assert decode_line(scores, [LETTERS, LETTERS]) == "A<"


def test_too_few_frames_or_the_wrong_line_count_decode_nothing() -> None:
    scores = _scores([{"A": 0.9}] * 3)
    assert decode_line(scores, [LETTERS] * 4) == ""
    assert decode_lines([scores, scores], TD1) is None  # TD1 has three lines


def test_look_alikes_of_the_filler_count_for_it() -> None:
    classes = ("blank", "<", "\uff1c", "A", "a")
    probabilities = np.array([[0.1, 0.2, 0.3, 0.35, 0.05]], np.float32)
    scores = mrz_scores(probabilities, classes)
    assert np.exp(scores[0, MRZ_ALPHABET.index("<") + 1]) == pytest.approx(0.5)
    assert np.exp(scores[0, MRZ_ALPHABET.index("A") + 1]) == pytest.approx(0.4)


def test_each_position_has_its_field_alphabet() -> None:
    line1, line2 = position_alphabets(TD3)
    assert line1[5] == LETTERS  # the name
    assert line2[13] == DIGITS  # the birth date
    assert "<" in line2[42] and "7" in line2[42]  # an empty personal number's check digit
    assert set(line2[0]) == set(MRZ_ALPHABET)  # the document number


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_the_recognizers_frames_decode_to_the_printed_mrz() -> None:
    reader = CardReader(threads=2)
    data = random_specimen(np.random.default_rng(8), DocumentKind.TD1_ID_CARD)
    card = render_card(data, None)
    band = [line for line in reader.read(card) if line.centre_y >= 0.765 * card.shape[0]]
    frames = [reader.frame_probabilities(_strip(card, row), stretch=MRZ_STRETCH)
              for row in _mrz_row_lines(band)]
    assert decode_lines([mrz_scores(*f) for f in frames], TD1) == data.mrz


def _band(*rows: str) -> list[TextLine]:
    return [TextLine(text, 0.9, 40.0, 520.0 + 40 * i, 40.0 + 20 * len(text), 550.0 + 40 * i)
            for i, text in enumerate(rows)]


def test_a_blurred_mrz_whose_fillers_detection_dropped_is_still_an_mrz() -> None:
    assert len(_mrz_row_lines(_band("1UT0UF03177485", "5409099K3410288070",
                                    "ROSSETTIKKJAMIE"))) == 3
    assert len(_mrz_row_lines(_band("P<UTOLINDQVIST<<KAI<<<<<", "BL6129091607020"))) == 2


def test_a_resident_cards_label_and_number_are_no_mrz() -> None:
    assert _mrz_row_lines(_band("ID NUMBER", "11010519491231002X")) == []
    assert _mrz_row_lines(_band("110105194912310", "11010519491231002X")) == []


def _pitched_frames(text: str, *, per_char: int = 8, missed: tuple[int, ...] = (),
                    doubled: tuple[int, ...] = ()) -> np.ndarray:
    """Frames of a fixed-pitch line, `per_char` frames a character: blank between
    characters; a `missed` character mostly blank at its centre; a `doubled` one seen again
    half a pitch after its centre."""
    lead = 6
    rows: list[dict[str, float]] = [{"": 0.99} for _ in range(2 * lead + per_char * len(text))]
    for k, char in enumerate(text):
        centre = lead + per_char * k + per_char // 2
        for frame in (centre - 1, centre, centre + 1):
            rows[frame] = {"": 0.8, char: 0.2} if k in missed else {"": 0.05, char: 0.95}
        if k in doubled:
            for frame in (centre + per_char // 2 - 1, centre + per_char // 2):
                rows[frame] = {"": 0.4, char: 0.6}
    return _scores(rows)


NAMES = "SMITH<<JOHN<<<<<<<<<<<<<<<<<<<"


@pytest.mark.parametrize(("missed", "doubled", "ctc_read"), [
    ((3,), (20,), "SMIH<<JOHN<<<<<<<<<<<<<<<<<<<<"),
    ((12,), (2,), "SMIITH<<JOHN<<<<<<<<<<<<<<<<<<"),
])
def test_a_missed_and_a_doubled_character_shift_nothing_at_the_lines_pitch(
    missed: tuple[int, ...], doubled: tuple[int, ...], ctc_read: str
) -> None:
    scores = _pitched_frames(NAMES, missed=missed, doubled=doubled)
    allowed = [frozenset(MRZ_ALPHABET)] * len(NAMES)
    # The CTC path spends the line's 30 characters where it likes: the name shifts.
    assert decode_line(scores, allowed) == ctc_read
    read, margins = decode_pitched_line(scores, allowed, frames_per_char=8)
    assert read == NAMES
    assert len(margins) == len(NAMES)
    # The missed character is read, but less surely than the others.
    assert margins[missed[0]] < min(m for i, m in enumerate(margins) if i != missed[0])


def test_a_pitch_half_the_expected_one_is_found() -> None:
    # A strip whose background reads as ink measures its capitals twice too tall: the
    # windows come 4 a character, not 8.
    scores = _pitched_frames(NAMES, per_char=4)
    read, _ = decode_pitched_line(scores, [frozenset(MRZ_ALPHABET)] * len(NAMES),
                                  frames_per_char=8)
    assert read == NAMES


def test_pitched_decoding_keeps_each_positions_alphabet_and_needs_the_frames() -> None:
    scores = _pitched_frames("O1<")
    read, _ = decode_pitched_line(scores, [LETTERS, DIGITS, LETTERS], frames_per_char=8)
    assert read == "O1<"
    assert decode_pitched_line(scores[:5], [LETTERS] * 3, frames_per_char=8) == ("", ())
    assert decode_pitched_lines([scores], TD1, frames_per_char=8) is None
