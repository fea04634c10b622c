"""How often a second reader's line of the wrong length vouches for a misread character.

`mrz_witness.anchored` lets Tesseract's line, a character or more off the format's length,
vouch for the characters it reads in place (from the start, from the end, and in runs of
MIN_RUN it reads exactly at a shift). A misread a recognizer makes (one character of a
names line replaced by another letter, which no check digit can catch) is verified only
if the witness also reads that wrong character there. Here the witness is the TRUE line
with Tesseract's kinds of errors injected (characters dropped, doubled, replaced; `<` read
`K`); the candidate is the true line with one letter replaced. Counted: how often the
witness vouches for the replaced letter (a false vouch), and how often it vouches for the
position when the candidate is right (what the method is for). Synthetic text only
(`ocrb_lines.random_text`), never the real specimens.

    PYTHONPATH=src python scripts/witness_false_vouch.py --trials 20000
"""

from __future__ import annotations

import argparse
import string

import numpy as np

from simkyc.documents.mrz_correct import PositionKind, by_kind
from simkyc.documents.mrz_witness import anchored
from simkyc.synth.ocrb_lines import names_text

LETTERS = string.ascii_uppercase


def noisy(rng: np.random.Generator, text: str) -> str:
    """`text` as Tesseract might read it: each character dropped, doubled or replaced with
    a few per cent chance, fillers read `K` more often, and a run of fillers cut short."""
    out: list[str] = []
    for char in text:
        roll = rng.random()
        if roll < 0.02:
            continue  # dropped
        if roll < 0.04:
            out.extend([char, char])  # doubled
        elif roll < 0.07:
            out.append(str(rng.choice(list(LETTERS + string.digits))))
        elif char == "<" and roll < 0.12:
            out.append("K")
        else:
            out.append(char)
    line = "".join(out)
    if rng.random() < 0.5:
        line = line.rstrip("<") + "<" * int(rng.integers(0, 6))
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--trials", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    false_vouch = right_vouch = wrong_length = same_length = same_false = 0
    for _ in range(args.trials):
        width = int(rng.choice([30, 36, 44]))
        letters: list[int] = []
        while not letters:
            truth = names_text(rng, width)
            letters = [i for i, c in enumerate(truth) if c in LETTERS]
        kinds = [PositionKind.LETTER] * width
        position = int(rng.choice(letters))
        wrong = str(rng.choice([c for c in LETTERS if c != truth[position]]))
        misread = truth[:position] + wrong + truth[position + 1 :]
        witness = noisy(rng, truth)
        if len(witness) == width:  # compared in place, as before: the baseline
            same_length += 1
            same_false += by_kind(witness[position], PositionKind.LETTER) == wrong
            continue
        wrong_length += 1
        false_vouch += anchored(witness, misread, kinds)[position] == wrong
        right_vouch += anchored(witness, truth, kinds)[position] == truth[position]
    print(f"{wrong_length} witness lines of the wrong length (of {args.trials})")
    print(f"misread letter vouched for: {false_vouch} ({false_vouch / max(1, wrong_length):.4%})")
    print(f"right letter vouched for: {right_vouch} ({right_vouch / max(1, wrong_length):.1%})")
    print(f"baseline, {same_length} witness lines of the right length compared in place: "
          f"misread letter vouched for {same_false} ({same_false / max(1, same_length):.4%})")


if __name__ == "__main__":
    main()
