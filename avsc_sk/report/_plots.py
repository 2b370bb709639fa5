"""Report figures. Each function draws on ``ax`` (or a new figure) and returns the figure; nothing is written.

New figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot ones, so
building a report leaves pyplot's global state alone and needs no display.
"""

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

from ..evaluation import unpack_predictions

__all__ = ["plot_confusion_matrix", "plot_f1_bars", "plot_reliability", "FIGSIZES", "DPI", "MIN_BIN_CLIPS"]

#: Size in inches of each figure the report makes; at :data:`DPI` this gives the PNG size in pixels.
FIGSIZES = {"confusion": (8.0, 7.0), "f1_bars": (10.0, 5.0), "reliability": (6.0, 6.0)}
DPI = 100
#: Reliability bins with fewer clips are drawn hollow and not joined: their accuracy is mostly noise.
MIN_BIN_CLIPS = 10


def _axes(ax, kind):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=FIGSIZES[kind], dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def plot_confusion_matrix(frame, *, ax=None, title=None):
    """Row-normalised confusion matrix (recall on the diagonal) of one prediction frame."""
    fig, ax = _axes(ax, "confusion")
    t, p, _, labels = unpack_predictions(None, frame)
    cm = confusion_matrix(t, p, labels=range(len(labels)), normalize="true")
    disp = ConfusionMatrixDisplay(cm, display_labels=labels)
    disp.plot(ax=ax, values_format=".2f", colorbar=False, xticks_rotation=45, cmap="Blues")
    for text in disp.text_.ravel():
        text.set_fontsize(7)
    ax.set_title(title or "normalised confusion matrix")
    return fig


def plot_f1_bars(per_class, *, ax=None, title="per-class F1"):
    """F1 of every class, the runs' bars side by side.

    Parameters
    ----------
    per_class : mapping of str to DataFrame
        Run name to its :func:`~avsc_sk.evaluation.per_class_table`.
    """
    fig, ax = _axes(ax, "f1_bars")
    names = list(per_class)
    summary = ("accuracy", "macro avg", "weighted avg", "overall log loss")
    labels = []
    for table in per_class.values():
        labels += [c for c in table.index if c not in summary and c not in labels]
    x = np.arange(len(labels))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        f1 = per_class[name]["f1-score"].reindex(labels, fill_value=0.0).to_numpy()
        ax.bar(x - 0.4 + width * (i + 0.5), f1, width, label=name)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title)
    # Below the axes: inside, the legend covers the bars of the last scenes.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=min(len(names), 6), fontsize=8,
              frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_reliability(reliability, *, ax=None, title="reliability diagram", min_clips=MIN_BIN_CLIPS):
    """Accuracy against mean confidence per bin, one line per run, and the diagonal of perfect calibration.

    Parameters
    ----------
    reliability : mapping of str to DataFrame
        Run name to its :func:`~avsc_sk.evaluation.reliability_table`.
    min_clips : int, default=MIN_BIN_CLIPS
        Bins with fewer clips are drawn as hollow markers, not joined to the line: the
        accuracy of 1 to 4 clips swings between 0 and 1 and says nothing of calibration.
    """
    fig, ax = _axes(ax, "reliability")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    sparse_any = False
    for name, table in reliability.items():
        full = table["count"] >= min_clips
        sparse = (table["count"] > 0) & ~full
        (line,) = ax.plot(table.loc[full, "confidence"], table.loc[full, "accuracy"], marker="o", markersize=4,
                          label=name)
        if sparse.any():
            sparse_any = True
            ax.plot(table.loc[sparse, "confidence"], table.loc[sparse, "accuracy"], linestyle="none", marker="o",
                    markersize=4, markerfacecolor="none", color=line.get_color())
    if sparse_any:
        ax.plot([], [], linestyle="none", marker="o", markerfacecolor="none", color="grey",
                label=f"bin of fewer than {min_clips} clips (not joined)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig
