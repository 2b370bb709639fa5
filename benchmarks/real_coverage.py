"""Conformal prediction sets on real (not generated) two-view data: empirical coverage and set size per mode.

The sets of ``benchmarks/real.py`` (``digits`` and ``wine`` split into two views, pseudo-locations,
one location-grouped half for test): every avsc-sk mode is fitted with its defaults on the training
half, calibrated as ``avsc-sk fit`` calibrates a run (grouped out-of-fold probabilities of the
training samples, hyper-parameters fixed: :func:`avsc_sk.experiments.calibration_probabilities`)
and its sets at ``--coverage`` scored on the test half: empirical coverage over samples, the lowest
class's, the mean set size and the share of empty sets, with one threshold over samples ('all') and
one per class ('class', Mondrian); beside them the coverage of the non-empty sets of
``predict --non-empty``. One split says little on small sets (the binomial standard error of a
coverage near 0.9 on n test samples is sqrt(0.09 / n): 0.010 for digits' 899, 0.032 for wine's
89), so ``--repeats R`` redraws the grouped split R times (seeds 0 .. R-1) and prints each figure's
mean over the splits, coverage with its standard error over them.

Usage: python benchmarks/real_coverage.py [--sets digits wine] [--coverage 0.9] [--repeats 20]
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


def run_split(name, seed=0, coverage=0.9, cv=5):
    """``{(mode, by): figures}`` on one grouped split of one set (``coverage``, ``lowest`` class coverage,
    ``size``, ``empty`` share, ``non_empty`` coverage, ``accuracy``, calibration ``seconds``)."""
    d = load_views(name, seed=seed)
    X, y, g, tr, te = d["X"], d["y"].astype(str), d["groups"], d["train"], d["test"]
    modes = [*(m[0] for m in d["modalities"]), "early", "intermediate", "late", "weighted"]
    out = {}
    for mode in modes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fit_with_groups(make_estimator(mode, d["modalities"]), X[tr], y[tr], g[tr])
            t0 = time.perf_counter()
            oof, _ = calibration_probabilities(model, X[tr], y[tr], g[tr], cv=cv)
            seconds = time.perf_counter() - t0
        record = calibration_record(oof, y[tr], model.classes_)
        P = model.predict_proba(X[te])
        classes = [str(c) for c in model.classes_]
        accuracy = float(np.mean(np.asarray(classes)[P.argmax(axis=1)] == y[te]))
        for by in ("all", "class"):
            table = coverage_table(y[te], prediction_sets(P, classes, record, coverage, by=by), classes)
            filled = coverage_table(y[te], prediction_sets(P, classes, record, coverage, by=by, non_empty=True),
                                    classes)
            out[(mode, by)] = {"coverage": table.loc["all", "coverage"],
                               "lowest": table.drop(index="all")["coverage"].min(),
                               "size": table.loc["all", "mean_size"],
                               "empty": table.loc["all", "share_empty"],
                               "non_empty": filled.loc["all", "coverage"], "accuracy": accuracy,
                               "seconds": seconds}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--coverage", type=float, default=0.9)
    ap.add_argument("--repeats", type=int, default=20, metavar="R",
                    help="grouped splits (seeds 0 .. R-1) to average over (default: 20)")
    ap.add_argument("--calibration-folds", type=int, default=5, metavar="K",
                    help="grouped folds of the calibration's out-of-fold fits (default: 5, as fit --calibrate)")
    args = ap.parse_args()
    print(f"means over {args.repeats} location-grouped splits; coverage +- its standard error over the splits")
    print("| set | mode | by | coverage | lowest class | mean set size | share empty | coverage, --non-empty | "
          "accuracy | calibration s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        splits = [run_split(name, seed, args.coverage, args.calibration_folds) for seed in range(args.repeats)]
        for key in splits[0]:
            f = {k: np.array([s[key][k] for s in splits]) for k in splits[0][key]}
            se = f["coverage"].std(ddof=1) / np.sqrt(len(splits)) if len(splits) > 1 else float("nan")
            print(f"| {name} | {key[0]} | {key[1]} | {f['coverage'].mean():.3f} +- {se:.3f} | "
                  f"{f['lowest'].mean():.3f} | {f['size'].mean():.2f} | {f['empty'].mean():.3f} | "
                  f"{f['non_empty'].mean():.3f} | {f['accuracy'].mean():.3f} | {f['seconds'].mean():.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
