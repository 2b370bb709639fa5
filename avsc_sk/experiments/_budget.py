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
# Measured as CPU seconds of make_estimator("audio", model=...) fit + predict with one BLAS thread
# (as the command line runs) on synthetic fold1 subsets of pooled means (benchmarks/cost_model.py,
# at a load average of 1-3): logreg 0.89 s at 1,000 clips, 1.46 s at 2,305, 3.72 s at 8,646; svm 4.2 s,
# linsvm 4.7 s, lgbm 18.9 s, mlp 19.9 s (5 alphas x 3 folds, early-stopped) at 1,000; knn 0.25 s
# (one neighbour search per inner fold for every k; the part above the overhead is rounded up).
# The powers of svm, linsvm and lgbm are from single fits at 1,000 and 3,000 clips.
_HEAD_SECONDS = {"logreg": (0.35, 1.0, 0.0), "linsvm": (4.0, 1.4, 0.0), "svm": (3.5, 1.7, 0.0),
                 "lgbm": (10.9, 1.0, 7.3), "knn": (0.3, 0.45, 0.0), "mlp": (19.2, 1.0, 0.0)}
# Every head fit costs at least this much, however few the clips: its inner CV is tens of small
# fits (logreg: 0.67-0.89 s CPU on wine's 90 clips of 7 dimensions, 0.9 s on digits' 900 of 32).
_FIT_OVERHEAD = 0.7
# A head fitted with its hyper-parameters given (late and weighted fusion's out-of-fold fits with
# member_tuning="once") runs no inner CV: this share of the part above that grows with the clips,
# plus a small fixed part. Measured at 800 clips: logreg 0.05 s (0.11 s at 1,844, 0.38 s at
# 6,916), svm 0.75 s, linsvm 1.8 s, knn 0.02 s, lgbm 10.5 s (200 rounds), mlp 0.8 s.
_FIXED_SHARE = {"logreg": 0.17, "linsvm": 0.6, "svm": 0.31, "lgbm": 0.6, "knn": 0.05, "mlp": 0.06}
_FIXED_OVERHEAD = 0.05
# The intermediate network on 1,000 clips of 1,024 pooled dimensions (early stopping, Adam's step 1e-4;
# CPU seconds 2.65 at 1,000 synthetic fold1 clips, 3.3 at 2,305, 7.4 at 8,646, 2.4-2.8 at 400-500, where
# it runs more epochs), plus this on any clips.
_NETWORK_SECONDS = 0.62
_NETWORK_OVERHEAD = 2.0
# Pooling 1,000 clips of 1,000 raw frame values (every fit pools its own frames).
_POOL_SECONDS = 0.02
# Late and weighted fusion's internal folds (make_estimator's default).
_INNER_FOLDS = 5


def _grows(model, n, d):
    a, p, fixed = _HEAD_SECONDS.get(model, _HEAD_SECONDS["svm"])  # an unknown head: the dearest at scale
    return fixed + a * (n / 1000.0) ** p * (d / 512.0)


def _head(model, n, d):
    """A head choosing its hyper-parameters by inner CV."""
    return _FIT_OVERHEAD + _grows(model, n, d)


def _fixed_head(model, n, d):
    """A head fitted at hyper-parameters already chosen (no inner CV)."""
    return _FIXED_OVERHEAD + _FIXED_SHARE.get(model, 1.0) * _grows(model, n, d)


def estimate_fit_seconds(fusion, model, modalities, n_clips, input_stats=None, member_tuning="once"):
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
    input_stats : tuple of str, optional
        ``FeatureSet.stats`` when X holds statistics over frames (already pooled): each fit then
        only selects its columns instead of pooling ``n_frames`` frames.
    member_tuning : {"once", "nested"}, default="once"
        Late and weighted fusion's (see :func:`avsc_sk.fusion.fit_members`): ``"once"``, each
        member chooses its hyper-parameters on all clips and its ``_INNER_FOLDS`` out-of-fold fits
        reuse them (one full member fit and that many fixed fits per modality); ``"nested"``,
        every out-of-fold fit chooses them again.

    Returns
    -------
    float
        A deterministic figure (the same inputs give the same seconds).
    """
    dims = {name: int(d) for name, _, d in modalities}
    per_clip = len(input_stats) if input_stats else None
    raw = {name: int(d) * (per_clip if per_clip else int(f)) for name, f, d in modalities}
    n = float(n_clips)
    if fusion in dims:
        return _head(model, n, dims[fusion]) + _POOL_SECONDS * n / 1000.0 * raw[fusion] / 1000.0
    pool = _POOL_SECONDS * n / 1000.0 * sum(raw.values()) / 1000.0
    if fusion == "intermediate":
        return _NETWORK_OVERHEAD + _NETWORK_SECONDS * n / 1000.0 * sum(dims.values()) / 1024.0 + pool
    if fusion in ("late", "weighted"):
        inner = n * (_INNER_FOLDS - 1) / _INNER_FOLDS
        oof = _head if member_tuning == "nested" else _fixed_head
        # The stacker (late) or the blend's weights (weighted) learn from n_classes x n_modalities
        # probabilities: a small head with its own choice.
        combiner = _FIT_OVERHEAD
        return pool + combiner + sum(_head(model, n, d) + _INNER_FOLDS * oof(model, inner, d) for d in dims.values())
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
