"""A deterministic cost model of candidate fits, and how successive halving spends a budget with it.

What is scored depends only on the data's shape, the candidates, their scores and the
budget, never on the wall clock, so the same seed picks the same candidate on any machine
and under any load. The model's seconds are rough figures for one core of a 2-core machine
(one BLAS thread): a search is meant to land within its budget there, not to predict
timings elsewhere.
"""

import math

__all__ = ["afford", "estimate_fit_seconds", "halving_schedule"]

# Per head: seconds to fit on 1,000 pooled clips of 512 dimensions and predict 250, the power of
# the number of clips that part grows with, and a part that does not grow with the clips. Each
# head chooses its own hyper-parameters by an inner grouped CV, which these figures include.
# Measured as CPU seconds of make_estimator("audio", model=...) fit + predict on the built-in data's
# shape (10 classes, pooled means of 512 dims; /tmp/cost-*/budget.py on synthetic fold1 subsets),
# on the reference machine at a load average of 4-7, where the wall clock was 4-5x the CPU time:
# logreg 2.26 s at 1,000 clips and 3.80 s at 2,500 (power 0.56), knn 3.09 s and 4.73 s (0.45),
# svm 8.4 s, linsvm 8.1 s, lgbm 25.6 s and mlp 245.7 s (5 alphas x 3 folds of up to 200 epochs,
# two BLAS threads) at 1,000 clips. The powers of svm, linsvm and
# lgbm are from before they chose their own parameters (single fits at 1,000 and 3,000 clips), and
# lgbm's split between the parts that grow and that do not is as then (scaled to 25.6 s). At
# fold1 size the logreg figures give 14 s for early fusion (measured 14.5 s CPU) and 78 s for late
# fusion (measured 88.6 s).
_HEAD_SECONDS = {"logreg": (2.1, 0.56, 0.0), "linsvm": (7.9, 1.4, 0.0), "svm": (8.2, 1.7, 0.0),
                 "lgbm": (15.2, 1.0, 10.2), "knn": (2.9, 0.45, 0.0), "mlp": (245.0, 1.0, 0.0)}
# Every head fit costs at least this much, however few the clips: its inner CV is tens of small
# fits (logreg: 0.67-0.89 s CPU on wine's 90 clips of 7 dimensions, 0.9 s on digits' 900 of 32,
# where the figures above give 0.05-0.2 s).
_FIT_OVERHEAD = 0.7
# The intermediate network on 1,000 clips of 1,024 pooled dimensions (early stopping: a typical run),
# and at least this much on any clips (up to 100 epochs of small batches).
_NETWORK_SECONDS = 3.0
_NETWORK_OVERHEAD = 0.5
# Pooling 1,000 clips of 1,000 raw frame values (every fit pools its own frames).
_POOL_SECONDS = 0.02
# Late and weighted fusion's internal folds (make_estimator's default).
_INNER_FOLDS = 5


def _head(model, n, d):
    a, p, fixed = _HEAD_SECONDS.get(model, _HEAD_SECONDS["svm"])  # an unknown head: the dearest at scale
    return _FIT_OVERHEAD + fixed + a * (n / 1000.0) ** p * (d / 512.0)


def estimate_fit_seconds(fusion, model, modalities, n_clips):
    """Estimated seconds to fit one candidate on ``n_clips`` and predict a quarter as many.

    Parameters
    ----------
    fusion : str
        A modality name or a fusion mode (``early``, ``intermediate``, ``late``, ``weighted``).
    model : str
        The head (:data:`avsc_sk.heads.HEADS`; an unknown one is costed like ``svm``). Ignored for
        intermediate fusion, a network of its own.
    modalities : sequence of (name, n_frames, dim)
    n_clips : int

    Returns
    -------
    float
        A deterministic figure (the same inputs give the same seconds).
    """
    dims = {name: int(d) for name, _, d in modalities}
    raw = {name: int(f) * int(d) for name, f, d in modalities}
    n = float(n_clips)
    if fusion in dims:
        return _head(model, n, dims[fusion]) + _POOL_SECONDS * n / 1000.0 * raw[fusion] / 1000.0
    pool = _POOL_SECONDS * n / 1000.0 * sum(raw.values()) / 1000.0
    if fusion == "intermediate":
        return _NETWORK_OVERHEAD + _NETWORK_SECONDS * n / 1000.0 * sum(dims.values()) / 1024.0 + pool
    if fusion in ("late", "weighted"):
        inner = n * (_INNER_FOLDS - 1) / _INNER_FOLDS
        return pool + sum(_head(model, n, d) + _INNER_FOLDS * _head(model, inner, d) for d in dims.values())
    return _head(model, n, sum(dims.values())) + pool  # early, or any other mode: one head over everything


def halving_schedule(n_candidates, n_all, *, eta=3, min_clips=1):
    """The rungs of successive halving: how many candidates each scores, on how many clips.

    Rung ``r`` scores ``counts[r]`` candidates (all, then the best ``1/eta`` of them, ... down
    to 2 or 3) on ``sizes[r]`` clips: all of them at the last rung, ``1/eta`` as many at the
    one before, and so on, never fewer than ``min_clips``. Rungs that would score on the same
    clips are one rung (scoring the same clips twice tells nothing new).

    Returns
    -------
    counts, sizes : list of int
        Empty when there is one candidate (nothing to compare).
    """
    counts, k = [], n_candidates
    while k > 1:
        counts.append(k)
        k = math.ceil(k / eta)
    floor = max(1, min(int(min_clips), n_all))
    sizes = [max(floor, n_all // eta ** (len(counts) - 1 - r)) for r in range(len(counts))]
    out_c, out_s = [], []
    for c, n in zip(counts, sizes):
        if out_s and out_s[-1] == n:
            continue  # the earlier rung, with more candidates, already scores on these clips
        out_c.append(c)
        out_s.append(n)
    return out_c, out_s


def afford(rung_costs, full_costs, refit_costs, remaining, rungs_left):
    """The candidates one rung can afford: the dearest on all clips are cut until the rung fits its share.

    A rung's share is what the budget has left, less the refit of the dearest candidate still
    kept, split evenly over the rungs still to come; what a rung does not spend goes to the
    next. Candidates are cut in order of their cost on every clip, not at this rung: one that
    could never be scored or refitted on all clips within the budget should not take the place
    of one that can. The cheapest is always kept.

    Parameters
    ----------
    rung_costs : sequence of float
        Estimated seconds to score each candidate at this rung.
    full_costs : sequence of float
        Estimated seconds to score each on every clip (the order of cutting).
    refit_costs : sequence of float
        Estimated seconds to refit each on every clip.
    remaining : float
        Estimated seconds the budget has left.
    rungs_left : int
        This rung and the ones after it.

    Returns
    -------
    kept, cut : list of int
        Positions in ``rung_costs``, in their order.
    """
    order = sorted(range(len(rung_costs)), key=lambda i: (full_costs[i], rung_costs[i], i))  # cheapest first
    m = len(order)
    while m > 1:
        kept = order[:m]
        share = (remaining - max(refit_costs[i] for i in kept)) / rungs_left
        if sum(rung_costs[i] for i in kept) <= share:
            break
        m -= 1
    return sorted(order[:m]), sorted(order[m:])
