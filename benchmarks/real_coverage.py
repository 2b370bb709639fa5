"""Conformal prediction sets on real (not generated) two-view data: empirical coverage and set size per mode.

The sets of ``benchmarks/real.py`` (``digits`` and ``wine`` split into two views, pseudo-locations,
one location-grouped half for test): every avsc-sk mode is fitted with its defaults on the training
half, calibrated as ``avsc-sk fit`` calibrates a run (grouped out-of-fold probabilities of the
training samples, hyper-parameters fixed: :func:`avsc_sk.experiments.calibration_probabilities`)
and its sets at ``--coverage`` scored on the test half: empirical coverage over samples, the lowest
class's, and the mean set size, with one threshold over samples ('all') and one per class
('class', Mondrian). The binomial standard error of a coverage near 0.9 on n test samples is
sqrt(0.09 / n): 0.010 for digits (899), 0.032 for wine (89).

Usage: python benchmarks/real_coverage.py [--sets digits wine] [--coverage 0.9]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real import SETS, load_views  # noqa: E402

from avsc_sk.evaluation import calibration_record, coverage_table, prediction_sets  # noqa: E402
from avsc_sk.experiments import calibration_probabilities  # noqa: E402
from avsc_sk.fusion import make_estimator  # noqa: E402
from avsc_sk.heads import fit_with_groups  # noqa: E402


def run_set(name, coverage=0.9):
    """Rows of ``(mode, by, coverage, lowest class coverage, mean size, exact coverage, share empty, accuracy,
    calibration seconds)`` on one set (exact: the split-conformal sets, empty ones allowed)."""
    d = load_views(name)
    X, y, g, tr, te = d["X"], d["y"].astype(str), d["groups"], d["train"], d["test"]
    modes = [*(m[0] for m in d["modalities"]), "early", "intermediate", "late", "weighted"]
    rows = []
    for mode in modes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fit_with_groups(make_estimator(mode, d["modalities"]), X[tr], y[tr], g[tr])
            t0 = time.perf_counter()
            oof, _ = calibration_probabilities(model, X[tr], y[tr], g[tr])
            seconds = time.perf_counter() - t0
        record = calibration_record(oof, y[tr], model.classes_)
        P = model.predict_proba(X[te])
        classes = [str(c) for c in model.classes_]
        accuracy = float(np.mean(np.asarray(classes)[P.argmax(axis=1)] == y[te]))
        for by in ("all", "class"):
            table = coverage_table(y[te], prediction_sets(P, classes, record, coverage, by=by), classes)
            exact_sets = prediction_sets(P, classes, record, coverage, by=by, allow_empty=True)
            exact = coverage_table(y[te], exact_sets, classes)
            rows.append((mode, by, table.loc["all", "coverage"], table.drop(index="all")["coverage"].min(),
                         table.loc["all", "mean_size"], exact.loc["all", "coverage"],
                         float(np.mean([len(s) == 0 for s in exact_sets])), accuracy, seconds))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--coverage", type=float, default=0.9)
    args = ap.parse_args()
    print("| set | mode | by | coverage | lowest class | mean set size | coverage, empty sets allowed | "
          "share empty | accuracy | calibration s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        for mode, by, cov, low, size, exact, empty, acc, seconds in run_set(name, args.coverage):
            print(f"| {name} | {mode} | {by} | {cov:.3f} | {low:.3f} | {size:.2f} | {exact:.3f} | {empty:.3f} | "
                  f"{acc:.3f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
