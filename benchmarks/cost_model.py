"""The fits behind avsc_sk/experiments/_budget.py's cost model: CPU seconds per head and fusion mode.

    python benchmarks/cost_model.py --features FULL.h5 --clips 1000 2305 8646 --what logreg fixed-logreg late

FULL.h5 is full-size SYNTHETIC fold1 (``avsc-sk synth --layout native --out FULL.h5``; without
``--features``, the built-in data: the same clips, pooled over 10 frames instead of 96); train+val is read
as pooled means (as ``fit`` reads it) and a stratified prefix of ``--clips`` clips taken (the order auto
selection's rungs use). For each size and each of ``--what``: ``HEAD`` (logreg, linsvm, svm, lgbm, knn,
mlp) fits ``make_estimator("audio", model=HEAD)`` choosing its hyper-parameters by grouped inner CV;
``fixed-HEAD`` fits it on 80% of those clips with them given (a late/weighted out-of-fold fit);
``early``, ``late``, ``weighted`` (logreg heads) and ``intermediate`` fit that mode. Each fit is followed by
predicting a quarter as many clips. CPU and wall seconds are printed, with one BLAS thread (as the command
line runs). The figures the cost model uses are quoted in its comments.
"""

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from avsc_sk._load import load_split
from avsc_sk.experiments._auto import _stratified_order
from avsc_sk.fusion import make_estimator
from avsc_sk.heads import chosen_params, fit_with_groups

FIXED = {"logreg": {"head__C": 0.01}, "svm": {"head__C": 1.0, "head__gamma": "scale"}, "linsvm": {"head__C": 0.01},
         "knn": {"head__n_neighbors": 20}, "mlp": {"head__alpha": 0.01}, "lgbm": {"head__n_estimators": 200}}


def _timed(est, X, y, g):
    t0, c0 = time.perf_counter(), time.process_time()
    fit_with_groups(est, X, y, g)
    est.predict_proba(X[: len(y) // 4])
    return time.process_time() - c0, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", help="default: the built-in data (the same fold1 clips, 10 frames a clip)")
    ap.add_argument("--clips", type=int, nargs="+", default=[1000])
    ap.add_argument("--what", nargs="+", default=["logreg", "fixed-logreg", "early", "late", "weighted"])
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    threadpool_limits(limits=1, user_api="blas")
    fs = load_split(args.features, "train+val", stats=("mean",))
    order = _stratified_order(fs.y, 0)  # the order auto selection's rungs take clips in
    for n in args.clips:
        idx = np.sort(order[:n])
        X, y, g = fs.X[idx], fs.y[idx], fs.groups[idx]
        for what in args.what:
            if what in ("early", "late", "weighted", "intermediate"):
                kw = {} if what == "intermediate" else {"model": "logreg"}
                est = make_estimator(what, fs.modalities, input_stats=fs.stats, random_state=0, **kw)
                label, data = f"{what} {n}", (X, y, g)
            elif what.startswith("fixed-"):
                head = what.removeprefix("fixed-")
                est = make_estimator("audio", fs.modalities, model=head, input_stats=fs.stats, random_state=0)
                est.set_params(**FIXED[head])
                m = int(0.8 * n)
                label, data = f"{what} {m}", (X[:m], y[:m], g[:m])
            else:
                est = make_estimator("audio", fs.modalities, model=what, input_stats=fs.stats, random_state=0)
                label, data = f"audio {what} {n}", (X, y, g)
            cpu, wall = _timed(est, *data)
            print(f"{label}: {cpu:.2f} s CPU, {wall:.2f} s wall  {chosen_params(est)}", flush=True)


if __name__ == "__main__":
    main()
