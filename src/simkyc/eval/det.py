"""DET (detection error trade-off) plots of one or more score sets, saved as PNG.

Matplotlib is imported inside `plot_det` and drawn through an explicit Agg
canvas, so importing this module is free and never touches pyplot's global
state or the user's interactive backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simkyc.eval.metrics import DetCurve

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Reference lines: the FMR operating points of interest and the FNMR target.
FMR_MARKS = (1e-3, 1e-4)
FNMR_TARGET = 0.05


def _lower_limit(values: npt.NDArray[np.float64], default: float) -> float:
    """Return a power of ten at or below both the smallest positive value and `default`."""
    positive = values[values > 0.0]
    smallest = min(float(positive.min()), default) if positive.size else default
    return float(10.0 ** math.floor(math.log10(smallest)))


def _draw_references(ax: Axes) -> None:
    """Draw vertical lines at `FMR_MARKS` and a horizontal line at `FNMR_TARGET`."""
    for fmr in FMR_MARKS:
        ax.axvline(fmr, color="0.4", linestyle="--", linewidth=0.8)
        ax.annotate(
            rf"FMR $10^{{{math.log10(fmr):.0f}}}$",
            (fmr, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color="0.3",
        )
    ax.axhline(FNMR_TARGET, color="0.4", linestyle=":", linewidth=0.8)
    ax.annotate(
        f"FNMR {FNMR_TARGET:.0%}",
        (1.0, FNMR_TARGET),
        xycoords=("axes fraction", "data"),
        xytext=(-55, 3),
        textcoords="offset points",
        fontsize=8,
        color="0.3",
    )


def plot_det(curves: Mapping[str, DetCurve], path: Path, title: str) -> None:
    """Draw all `curves` as FNMR vs FMR on log-log axes and save a PNG to `path`.

    Log-log axes (rather than NIST's normal-deviate axes) keep the tick labels
    readable as rates.  Points with FMR or FNMR = 0 cannot be shown on log
    axes and are dropped; the legend gives each set's EER.
    """
    if not curves:
        raise ValueError("plot_det needs at least one DET curve")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 6.0), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to fig: Agg rendering, no pyplot
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    # "model: set" names: one colour per set, one line style per model (solid for the first).
    models = list(dict.fromkeys(name.split(": ")[0] for name in curves if ": " in name))
    sets = list(dict.fromkeys(name.split(": ")[-1] for name in curves))
    for name, curve in curves.items():
        shown = (curve.fmr > 0) & (curve.fnmr > 0)
        model = name.split(": ")[0] if ": " in name else ""
        style = ("-", "--", ":", "-.")[models.index(model) % 4] if model in models else "-"
        ax.plot(curve.fmr[shown], curve.fnmr[shown], style,
                color=f"C{sets.index(name.split(': ')[-1]) % 10}",
                label=f"{name} (EER {curve.eer:.2%})")
    all_fmr = np.concatenate([c.fmr for c in curves.values()])
    all_fnmr = np.concatenate([c.fnmr for c in curves.values()])
    # Explicit limits: no autoscaling on empty data (it warns on log axes).
    ax.set_xlim(_lower_limit(all_fmr, min(FMR_MARKS) / 10), 1.0)
    ax.set_ylim(_lower_limit(all_fnmr, FNMR_TARGET / 10), 1.0)
    _draw_references(ax)
    ax.set_xlabel("FMR (false match rate)")
    ax.set_ylabel("FNMR (false non-match rate)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    fig.savefig(path, format="png", dpi=150)
