"""How sure the own OCR-B recognizer must be of a character no check digit covers.

`mrz_read._judged` takes a name's letter (or a state code's) on one recognizer's word only
when its margin (log-probability lead over the position's next likeliest symbol, as the own
recognizer's decoder `mrz_decode.decode_pitched_line` gives it) reaches
`mrz_read.MIN_MARGIN_ALONE`. This measures, on
synthetic names lines the recognizer never saw in training (`ocrb_lines`, another seed;
never the real specimens), each letter's margin and whether it was right, and prints, per
threshold, how many right letters pass and how many wrong ones slip through. Lines read with
more than SHIFTED wrong characters (a character dropped or doubled, the rest shifted: rare
since the fixed-pitch decoder, and not a letter's failure) are left out, as
`mrz_read.MIN_MARGIN_ALONE` is about a single letter misread; their count is printed.

    PYTHONPATH=src nice -n 5 python scripts/calibrate_ocrb_margin.py --lines 400

It also counts letters read as the filler `<`, by margin: what `mrz_read._outweighed` (the
own recognizer's sure filler against a doubtful dissenter) could wrongly accept.
"""

from __future__ import annotations

import argparse

import numpy as np

from simkyc.documents.mrz_decode import LETTERS, decode_pitched_line
from simkyc.documents.mrz_read import MIN_MARGIN_ALONE
from simkyc.documents.ocrb import FRAMES_PER_CHAR, OcrbRecognizer
from simkyc.synth.ocrb_lines import names_text, render_line

THRESHOLDS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
SHIFTED = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--lines", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    own = OcrbRecognizer.load()
    margins: list[float] = []
    right: list[bool] = []
    as_filler: list[float] = []  # margins of letters read as the filler `<`
    fillers = 0
    shifted = 0
    for _ in range(args.lines):
        width = int(rng.choice([30, 36, 44]))
        text = names_text(rng, width)
        line = render_line(text, rng)
        read, found = decode_pitched_line(own.line_scores(line.strip), [LETTERS] * width,
                                          frames_per_char=FRAMES_PER_CHAR)
        if not read or sum(a != b for a, b in zip(read, text, strict=True)) > SHIFTED:
            shifted += 1
            continue
        for char, truth, margin in zip(read, text, found, strict=True):
            if truth != "<" or char != "<":  # letters, and fillers read as letters
                margins.append(margin)
                right.append(char == truth)
            fillers += char == "<"
            if char == "<" and truth != "<":
                as_filler.append(margin)
    m, ok = np.asarray(margins), np.asarray(right)
    print(f"{args.lines} lines, {shifted} left out (more than {SHIFTED} characters wrong)")
    print(f"{len(m)} characters, {(~ok).sum()} wrong ({(~ok).mean():.2%})")
    for threshold in THRESHOLDS:
        kept = m >= threshold
        wrong = int((kept & ~ok).sum())
        print(f"margin >= {threshold:3.1f}: {kept[ok].mean():6.1%} of right ones kept, "
              f"{wrong} wrong kept ({wrong / max(1, kept.sum()):.3%} of kept)")
    # `mrz_read._outweighed` lets the own recognizer's `<` overrule a dissenter when its
    # lead, less the dissent's, is still MIN_MARGIN_ALONE: a letter it reads as `<` that
    # surely is what that rule could wrongly accept.
    filler_margins = np.asarray(as_filler)
    print(f"{fillers} read as `<`, {len(filler_margins)} of them letters")
    for threshold in (MIN_MARGIN_ALONE, 2 * MIN_MARGIN_ALONE, 4 * MIN_MARGIN_ALONE):
        print(f"  letters read as `<` with margin >= {threshold:4.1f}: "
              f"{int((filler_margins >= threshold).sum())}")


if __name__ == "__main__":
    main()
