"""The demo: the whole pipeline on the built-in synthetic data, in well under a minute and a half."""

import time

import pandas as pd

from ._load import load_split
from .runs import fit_run, read_stats

__all__ = ["run_demo"]


def run_demo(fusions=("audio", "video", "early"), *, model="logreg", seed=0, n_jobs=2):
    """Fit each fusion mode on synthetic fold1 train and score it on synthetic fold1 evaluate.

    Every head chooses its own settings on location-grouped inner folds, as ``fit`` does; the
    logistic regression head fits its inner folds on ``n_jobs`` cores (the demo is a one-off,
    so it takes both cores of a small machine).

    Returns
    -------
    table : pandas.DataFrame
        One row per mode: accuracy, ``log_loss`` (exact), ``log_loss_ref3`` (over the probabilities
        rounded to 3 decimals, the reference figure), fit seconds (on SYNTHETIC data).
    runs : dict
        ``{fusion: (model, manifest)}``, ready for :func:`avsc_sk.runs.save_run`.
    """
    stats = read_stats({"segment_frames": 0})  # every mode here pools with the defaults
    train = load_split(None, "train+val", stats=stats)
    test = load_split(None, "test", stats=stats)
    rows, runs = [], {}
    for fusion in fusions:
        head = None if fusion == "intermediate" else model  # the network is its own head
        params = {"head__n_jobs": n_jobs} if head == "logreg" and n_jobs not in (None, 1) else {}
        config = {"fusion": fusion, "model": head, "seed": seed, "segment_frames": 0, "params": params}
        t0 = time.perf_counter()
        fitted, manifest = fit_run(config, train, evaluate=test)
        runs[fusion] = (fitted, manifest)
        rows.append({"fusion": fusion, "accuracy": manifest["scores"]["accuracy"],
                     "log_loss": manifest["scores"]["log_loss"], "log_loss_ref3": manifest["scores"]["log_loss_ref3"],
                     "fit_s": time.perf_counter() - t0})
    return pd.DataFrame(rows).set_index("fusion"), runs
