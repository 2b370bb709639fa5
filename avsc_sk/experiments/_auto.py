"""Automatic selection of the fusion mode and head by location-grouped cross-validated log loss."""

import math
import numbers
import sys
import time
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, log_loss
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._progress import advance_to, task
from ..errors import AvscError, AvscWarning, ConfigError
from ..fusion import FeaturePipeline, FUSION_MODES, NETWORK, make_estimator, modality_columns
from ..heads import HEADS, chosen_params, fit_with_groups, narrowed_grids
from ..model_selection import check_cv_groups, check_cv_splits, set_cv_groups
from ._budget import afford, estimate_fit_seconds, halving_schedule

__all__ = ["AutoFusionClassifier", "AutoSelectionWarning", "CANDIDATE_COLUMNS", "format_candidates",
           "selection_summary"]

#: Keys of ``AutoFusionClassifier.cv_results_``, in the order :func:`format_candidates` shows them.
CANDIDATE_COLUMNS = ("fusion", "model", "rank", "mean_log_loss", "std_log_loss", "mean_accuracy", "std_accuracy",
                     "n_clips", "rung", "fit_time_s", "estimated_s", "cut_by_budget", "status", "warm_start")

class AutoSelectionWarning(AvscWarning):
    """The wall clock stopped the search before its plan was done: the choice may differ on a faster machine."""


def _names(value, auto, what):
    if isinstance(value, str):
        return list(auto) if value == "auto" else [value]
    value = list(value)
    if not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what}={value!r}: expected 'auto', a name, or a non-empty list of names")
    return list(dict.fromkeys(value))


def _fold_scores(estimator, X, y, groups, train, test, classes):
    """Fit a candidate on one fold's training clips; its log loss, accuracy on the held-out ones, choices, warnings.

    The choices are its heads' hyper-parameters (:func:`avsc_sk.heads.chosen_params`), the
    next rung's warm start. The warnings are returned, not shown, so that a fold fitted in a
    worker process warns in the parent like one fitted in it.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = _fold_fit(estimator, X, y, groups, train, test, classes)
    return (*scores, [(w.message, w.category) for w in caught])


def _fold_fit(estimator, X, y, groups, train, test, classes):
    missing = estimator.missing(X[test]) if isinstance(estimator, FeaturePipeline) else None
    if missing is not None and not missing.any():
        # Early fusion's one-modality fallbacks predict only clips that lack a modality: held-out
        # clips that all have every one score the same without them (the final refit keeps them).
        estimator.set_params(fallbacks=False)
    # fit_with_groups reaches the heads inside a Pipeline too, so they choose on locations as well.
    fit_with_groups(estimator, X[train], y[train], None if groups is None else groups[train])
    full = np.zeros((len(test), len(classes)))
    # A class absent from the fold's training clips gets probability 0, as cross_val_predict does.
    full[:, np.searchsorted(classes, estimator.classes_)] = estimator.predict_proba(X[test])
    full /= full.sum(axis=1, keepdims=True)  # float32 probabilities sum to 1 only to ~1e-7
    return (log_loss(y[test], full, labels=classes), accuracy_score(y[test], classes[np.argmax(full, axis=1)]),
            chosen_params(estimator))


def _stratified_order(y, random_state):
    """One order of the clips whose every prefix holds each class in about its share of the data."""
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(len(y))
    key = np.empty(len(y))
    for c in np.unique(y):
        members = perm[y[perm] == c]
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((perm.argsort(), key))


class AutoFusionClassifier(ClassifierMixin, BaseEstimator):
    """The fusion mode and head with the lowest location-grouped cross-validated log loss, refitted.

    Every candidate (a fusion mode with a head, from :func:`avsc_sk.fusion.make_estimator`) is
    scored by cross-validation on folds from :func:`avsc_sk.model_selection.check_cv_splits`
    (grouped by recording location when ``fit`` gets ``groups``), by successive halving: all
    candidates on a stratified subset of the clips, the best third on three times as many, and so
    on up to every clip (:func:`~avsc_sk.experiments.halving_schedule`). The winner is refitted
    on every training clip. A candidate that goes on to the next rung starts warm: its heads
    choose their hyper-parameters among the values its folds chose on the rung before, one grid
    step wider each side (:func:`avsc_sk.heads.narrowed_grids`; ``cv_results_["warm_start"]``).

    The budget is spent by a deterministic cost model
    (:func:`~avsc_sk.experiments.estimate_fit_seconds`), never by timings, so the same data
    and seed give the same choice on any machine: each rung gets an even share of what is
    left after reserving the winner's refit, and the candidates it cannot afford are cut,
    the most expensive first, and reported. The wall clock is only a cap: should the search
    itself run past ``budget`` seconds, the candidates not yet scored are skipped, an
    :class:`AutoSelectionWarning` says so, and ``stopped_by_wall_clock_`` is True.

    Parameters
    ----------
    modalities : sequence of (name, n_frames, dim), optional
        The layout of X (``FeatureSet.modalities``). ``None``: one modality ``"x"`` of one frame
        spanning X.
    fusions : "auto", str or sequence of str, default="auto"
        Fusion modes to consider. ``"auto"``: every modality alone, and with two or more
        modalities ``early``, ``intermediate``, ``late`` and ``weighted``.
    models : "auto", str or sequence of str, default="auto"
        Heads to consider (:data:`avsc_sk.heads.HEADS`); ``"auto"``: all of them. Intermediate
        fusion takes none: it is one candidate whatever the heads.
    cv : int, default=5
        Folds of each candidate's cross-validation.
    budget : float, default=300.0
        Estimated seconds for the whole fit (search and refit) on the reference machine
        (2 cores, one BLAS thread); also the wall-clock cap of the search.
    eta : int, default=3
        Successive halving keeps the best ``1/eta`` of the candidates at each rung.
    min_clips : int, optional
        The fewest clips a rung scores on; default 50 per class (all of them, if fewer).
    input_stats : tuple of str, optional
        ``FeatureSet.stats`` when X holds statistics over frames rather than the frames
        (passed to every candidate, see :func:`avsc_sk.fusion.make_estimator`).
    cv_groups : {"auto", "location", "none"}, default="auto"
        The folds' policy (:func:`avsc_sk.model_selection.cv_plan`). The selection's own folds
        are a search the user asked for: grouped by location, or refused, unless ``"none"``
        shares locations between them (optimistic scores). Every candidate's internal folds
        take the same value: ``"auto"`` lets them fall back to stratified folds with a warning.
    random_state : int or None, default=0
        Seeds every candidate, the folds and the order of the clips the rungs take.
    verbose : int, default=0
        1: one line per scored candidate on stderr.
    n_jobs : int, optional
        Processes that fit a candidate's folds at once (joblib; ``-1``: every core). Only the
        wall clock changes: each fold is fitted alike wherever it runs, so the scores and the
        choice are the same for any ``n_jobs``. ``None`` means 1.

    Attributes
    ----------
    best_estimator_ : classifier
        The winner, refitted on every training clip.
    best_fusion_ : str
    best_model_ : str
        The winner's head (``"network"`` for intermediate fusion).
    cv_results_ : dict of lists
        One entry per candidate (``pandas.DataFrame(cv_results_)`` gives the table), keys
        :data:`CANDIDATE_COLUMNS`: the mean and std over folds of the exact log loss and the
        accuracy at the last rung the candidate reached (``n_clips`` clips, rung ``rung``),
        ``rank`` (1 is the winner; rungs reached first, then log loss), ``fit_time_s``
        (measured seconds over all its rungs), ``estimated_s`` (the cost model's seconds for
        cross-validating it on every clip), ``cut_by_budget``, ``status`` and ``warm_start``
        (the narrowed grids it was scored with at its last rung, ``""`` for none).
    rungs_ : list of dict
        Per rung scored: ``rung``, ``n_clips``, ``candidates``, ``cut_by_budget``,
        ``estimated_s`` and ``folds`` (see :func:`~avsc_sk.experiments.halving_schedule` and
        :func:`~avsc_sk.experiments.afford`).
    estimated_s_ : float
        The cost model's seconds for the search and the refit: at most ``budget`` unless
        even the cheapest candidate's refit is over it.
    search_time_s_ : float
        Measured seconds of the search (without the refit).
    stopped_by_wall_clock_ : bool
    classes_ : ndarray
    n_features_in_ : int
    """

    def __init__(self, modalities=None, fusions="auto", models="auto", cv=5, budget=300.0, eta=3, min_clips=None,
                 input_stats=None, cv_groups="auto", random_state=0, verbose=0, n_jobs=None):
        self.modalities = modalities
        self.fusions = fusions
        self.models = models
        self.cv = cv
        self.budget = budget
        self.eta = eta
        self.min_clips = min_clips
        self.input_stats = input_stats
        self.cv_groups = cv_groups
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    def _layout(self, n_features):
        if self.modalities is None:
            return (("x", 1, n_features),)
        mods = tuple((str(n), int(f), int(d)) for n, f, d in self.modalities)
        width = sum(c.stop - c.start for c in modality_columns(mods, self.input_stats).values())
        if width != n_features:
            raise ConfigError(f"modalities {list(mods)} span {width} columns but X has {n_features}; "
                              "pass the FeatureSet's modalities")
        return mods

    def _candidates(self, layout):
        names = [name for name, _, _ in layout]
        auto = names + (list(FUSION_MODES) if len(names) > 1 else [])
        fusions = _names(self.fusions, auto, "fusions")
        models = _names(self.models, HEADS, "models")
        out = []
        for fusion in fusions:
            if fusion == "intermediate":
                out.append((fusion, NETWORK))
            else:
                out.extend((fusion, model) for model in models)
        return out

    def _check_params(self):
        for name, low in (("cv", 2), ("eta", 2)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low:
                raise ConfigError(f"{name}={v!r}: expected an integer >= {low}")
        if not isinstance(self.budget, numbers.Real) or isinstance(self.budget, bool) or not self.budget > 0:
            raise ConfigError(f"budget={self.budget!r}: expected a positive number of seconds, e.g. --budget 300")
        if self.min_clips is not None and (not isinstance(self.min_clips, numbers.Integral) or self.min_clips < 2):
            raise ConfigError(f"min_clips={self.min_clips!r}: expected an integer >= 2 or None")
        if self.n_jobs is not None and (not isinstance(self.n_jobs, numbers.Integral) or isinstance(self.n_jobs, bool)
                                        or self.n_jobs == 0):
            raise ConfigError(f"n_jobs={self.n_jobs!r}: expected a positive number of processes, -1 for every "
                              "core, or None for one, e.g. --n-jobs 2")
        check_cv_groups(self.cv_groups)

    def _build(self, fusion, model, layout):
        kwargs = {} if model == NETWORK else {"model": model}
        estimator = make_estimator(fusion, layout, input_stats=self.input_stats, random_state=self.random_state,
                                   **kwargs)
        return set_cv_groups(estimator, self.cv_groups)

    def fit(self, X, y, groups=None):
        """Score the candidates by grouped cross-validation within the budget and refit the best.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            A FeatureSet's ``X``.
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location of each clip (``FeatureSet.groups``): the folds, and the
            internal folds of late, weighted and intermediate fusion, are grouped by it.

        Returns
        -------
        self
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan",
                             ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        groups = None if groups is None else np.asarray(groups)
        layout = self._layout(X.shape[1])
        candidates = self._candidates(layout)
        for fusion, model in candidates:
            self._build(fusion, model, layout)  # a bad name fails now, not after minutes of search
        min_clips = self.min_clips if self.min_clips is not None else 50 * len(self.classes_)
        # One bar of candidate scorings (its total grows by each rung's candidates as the rung starts).
        with task("auto", unit="candidate") as shown:
            self.cv_results_ = self._search(X, y, groups, candidates, layout, min_clips, shown)
        best = self.cv_results_["rank"].index(1)
        self.best_fusion_, self.best_model_ = candidates[best]
        estimator = self._build(*candidates[best], layout)
        self.best_estimator_ = fit_with_groups(estimator, X, y, groups)
        return self

    def _search(self, X, y, groups, candidates, layout, min_clips, shown):
        """Successive halving within the budget; the candidates' table (``cv_results_``)."""
        n_all, cv, k = len(y), int(self.cv), len(candidates)

        def cv_cost(i, n):  # cv fits on (cv - 1) / cv of the clips, each predicting the rest
            return cv * estimate_fit_seconds(*candidates[i], layout, n * (cv - 1) // cv, self.input_stats)

        refit = [estimate_fit_seconds(*c, layout, n_all, self.input_stats) for c in candidates]
        full = [cv_cost(i, n_all) for i in range(k)]
        res = {key: [None] * k for key in CANDIDATE_COLUMNS}
        res.update(fusion=[f for f, _ in candidates], model=[m for _, m in candidates],
                   mean_log_loss=[math.nan] * k, std_log_loss=[math.nan] * k, mean_accuracy=[math.nan] * k,
                   std_accuracy=[math.nan] * k, n_clips=[0] * k, rung=[-1] * k, fit_time_s=[0.0] * k,
                   estimated_s=[round(f, 1) for f in full], cut_by_budget=[False] * k,
                   status=[""] * k, warm_start=[""] * k)
        counts, sizes = halving_schedule(k, n_all, eta=int(self.eta), min_clips=min_clips)
        order = _stratified_order(y, self.random_state)
        alive, first_error, remaining = list(range(k)), None, float(self.budget)
        warm = {}  # candidate -> its fold fits' chosen hyper-parameters at the rung it last reached
        self.rungs_, self.stopped_by_wall_clock_ = [], False
        start = time.perf_counter()
        for r, size in enumerate(sizes):
            kept, cut = afford([cv_cost(i, size) for i in alive], [full[i] for i in alive], [refit[i] for i in alive],
                               remaining, len(sizes) - r)
            for j in cut:
                res["cut_by_budget"][alive[j]] = True
                res["status"][alive[j]] = f"cut by budget at rung {r + 1}"
            alive = [alive[j] for j in kept]
            if len(alive) < 2:
                break  # one candidate left: nothing to compare
            estimated = sum(cv_cost(i, size) for i in alive)
            remaining -= estimated
            self.rungs_.append({"rung": r + 1, "n_clips": int(size), "candidates": len(alive),
                                "cut_by_budget": len(cut), "estimated_s": round(estimated, 1)})
            idx = np.sort(order[:size])
            Xs, ys, gs = (X, y, groups) if size == n_all else (X[idx], y[idx], None if groups is None else groups[idx])
            selection = "none" if self.cv_groups == "none" else "location"  # asked for: never a silent fallback
            splits = check_cv_splits(ys, gs, n_splits=cv, random_state=self.random_state, cv_groups=selection,
                                     what=f"auto selection (rung {r + 1}, {size} clips)")
            self.rungs_[-1]["folds"] = len(splits)  # the splitter may use fewer than cv
            scored = []
            advance_to(shown, shown.n, shown.n + len(alive))
            for i in alive:
                shown.set_postfix_str(f"rung {r + 1}, {size} clips: {candidates[i][0]} ({candidates[i][1]})")
                if time.perf_counter() - start > self.budget:
                    self.stopped_by_wall_clock_ = True
                    res["status"][i] = f"not scored at rung {r + 1}: wall clock"
                    continue
                error = self._score(i, candidates[i], layout, Xs, ys, gs, splits, res, r, warm)
                shown.update(1)
                if error is None:
                    scored.append(i)
                    res["n_clips"][i] = int(size)
                else:
                    first_error = first_error or error
            if not scored:
                break
            ranked = sorted(scored, key=lambda i: (res["mean_log_loss"][i], i))
            # The best 1/eta, but two at least while rungs remain: a rung of one compares nothing.
            last = r + 1 == len(sizes)
            keep = 1 if last else min(counts[r + 1], max(2, math.ceil(len(scored) / self.eta)))
            for i in ranked[keep:]:
                res["status"][i] = "scored" if last else f"halved out after rung {r + 1}"
            alive = ranked[:keep]
            if self.stopped_by_wall_clock_:
                break
        self.search_time_s_ = time.perf_counter() - start
        self.estimated_s_ = round(float(self.budget) - remaining + max((refit[i] for i in alive), default=0.0), 1)
        if not any(rung >= 0 for rung in res["rung"]) and first_error is None:
            alive = [min(alive, key=lambda i: (full[i], i))]  # nothing scored in time: the cheapest
        self._rank(res, alive, first_error, k)
        return res

    def _score(self, i, candidate, layout, X, y, groups, splits, res, r, warm):
        """Cross-validate one candidate into ``res``; the error that put it out of the race, if any.

        A candidate that survived the rung before starts warm (:func:`avsc_sk.heads.narrowed_grids`):
        its heads choose among the values their fits chose there, one grid step wider on each
        side, instead of the whole grid. Only the grids are narrowed, never a value fixed: the
        rung scores on ``eta`` times as many clips, where the best regularisation moves.
        LightGBM's rounds (early stopping), an SVM's gamma (relative to the data's scale),
        intermediate fusion's network and the stacker or blend of late and weighted fusion
        start over.
        """
        t0 = time.perf_counter()
        narrow = {}
        if i in warm:
            narrow = narrowed_grids(self._build(*candidate, layout), warm[i])
            res["warm_start"][i] = ", ".join(f"{key}={list(v)}" for key, v in narrow.items())
        n_jobs = min(effective_n_jobs(self.n_jobs), len(splits))
        try:
            folds = Parallel(n_jobs=n_jobs)(
                delayed(_fold_scores)(self._build(*candidate, layout).set_params(**narrow), X, y, groups, tr, te,
                                      self.classes_) for tr, te in splits)
        except (AvscError, ValueError) as exc:
            # A candidate that cannot fit these clips (e.g. too few per class for its own
            # internal folds) is out of the race; the others go on.
            res["fit_time_s"][i] += time.perf_counter() - t0
            msg = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            res["status"][i] = f"failed at rung {r + 1}: {msg}"
            return exc
        for fold in folds:
            for message, category in fold[3]:
                warnings.warn(message, category, stacklevel=2)
        ll, acc = np.array([f[:2] for f in folds]).T
        warm[i] = [f[2] for f in folds]
        res["fit_time_s"][i] += time.perf_counter() - t0
        res["mean_log_loss"][i], res["std_log_loss"][i] = float(ll.mean()), float(ll.std())
        res["mean_accuracy"][i], res["std_accuracy"][i] = float(acc.mean()), float(acc.std())
        res["rung"][i], res["status"][i] = r + 1, "scored"
        if self.verbose:
            print(f"auto: rung {r + 1} {candidate[0]} ({candidate[1]}) on {len(y)} clips: log loss {ll.mean():.3f}, "
                  f"accuracy {acc.mean():.3f}, {res['fit_time_s'][i]:.1f} s", file=sys.stderr)
        return None

    def _rank(self, res, alive, first_error, k):
        """Rank 1 is the winner: the furthest rung reached first, then the lowest log loss."""
        alive = [i for i in alive if res["rung"][i] >= 0 and not res["status"][i].startswith("failed")] or alive
        reached = [i for i in range(k) if res["rung"][i] >= 0]
        if not reached and first_error is not None:
            raise first_error
        if len(alive) == 1 and res["rung"][alive[0]] < 0:
            reached = alive  # the only candidate (or the only one within budget): nothing was compared
        # Those the budget kept to the end first: a better one cut by the budget cannot be refitted within it.
        ranked = sorted(reached, key=lambda i: (i not in alive, -res["rung"][i], res["mean_log_loss"][i], i))
        for rank, i in enumerate(ranked, 1):
            res["rank"][i] = rank
        if res["rung"][ranked[0]] >= 0:
            res["status"][ranked[0]] = "best"
        else:
            res["status"][ranked[0]] = "only candidate" if k == 1 else "chosen unscored: the cheapest within budget"
        res["fit_time_s"] = [round(t, 3) for t in res["fit_time_s"]]
        if self.stopped_by_wall_clock_:
            skipped = sum(s.endswith("wall clock") for s in res["status"])
            warnings.warn(f"the search ran past its budget of {self.budget:g} s of wall clock and skipped {skipped} "
                          "candidate(s); the choice may differ on a faster or less loaded machine. Raise --budget "
                          "(budget=...) to let the search finish", AutoSelectionWarning, stacklevel=4)

    def predict_proba(self, X):
        """Class probabilities of the chosen estimator, columns in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan")
        return self.best_estimator_.predict_proba(X)

    def predict(self, X):
        """The most probable class of each clip."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing modality is an all-NaN block, which fusion handles
        return tags


def format_candidates(cv_results):
    """The candidates' table as text, best first: one row per candidate of ``cv_results_``."""
    k = len(cv_results["fusion"])
    ranked = sorted(range(k), key=lambda i: (cv_results["rank"][i] is None, cv_results["rank"][i] or 0, i))
    lines = [f"{'rank':>4}  {'fusion':<12} {'model':<8} {'log loss':>13} {'accuracy':>13} {'clips':>6} "
             f"{'fit s':>7} {'est. s':>7}  status"]
    for i in ranked:
        rank = cv_results["rank"][i]
        ll, acc = cv_results["mean_log_loss"][i], cv_results["mean_accuracy"][i]
        scored = ll is not None and not math.isnan(ll)
        lls = f"{ll:.3f} ± {cv_results['std_log_loss'][i]:.3f}" if scored else "-"
        accs = f"{acc:.3f} ± {cv_results['std_accuracy'][i]:.3f}" if scored else "-"
        lines.append(f"{rank if rank is not None else '-':>4}  {cv_results['fusion'][i]:<12} "
                     f"{cv_results['model'][i]:<8} {lls:>13} {accs:>13} {cv_results['n_clips'][i] or '-':>6} "
                     f"{cv_results['fit_time_s'][i]:>7.1f} {cv_results['estimated_s'][i]:>7.1f}  "
                     f"{cv_results['status'][i]}")
    return "\n".join(lines)


def selection_summary(auto):
    """What a fitted :class:`AutoFusionClassifier` chose and why, as JSON-ready data (a run's manifest).

    Returns
    -------
    dict
        ``fusion`` and ``model`` chosen, ``reason`` (one sentence), ``cv``, ``budget_s``,
        ``estimated_s``, ``search_s``, ``stopped_by_wall_clock``, ``rungs`` and ``candidates``
        (``cv_results_`` with NaN as None; :func:`format_candidates` prints it).
    """
    check_is_fitted(auto)
    res = auto.cv_results_
    best = res["rank"].index(1)
    scored = sum(rung >= 0 for rung in res["rung"])
    if res["rung"][best] >= 0:
        rung = auto.rungs_[res["rung"][best] - 1]
        kind = "ungrouped (optimistic)" if auto.cv_groups == "none" else "location-grouped"
        reason = (f"lowest mean log loss ({res['mean_log_loss'][best]:.4f}) at the last rung reached "
                  f"({rung['n_clips']} clips, {rung['folds']} {kind} folds); {scored} of "
                  f"{len(res['fusion'])} candidates scored by successive halving over {len(auto.rungs_)} rung(s) "
                  f"within a budget of {auto.budget:g} s")
    else:
        reason = res["status"][best]
    if auto.stopped_by_wall_clock_:
        skipped = sum(s.endswith("wall clock") for s in res["status"])
        reason += f"; the wall clock stopped the search with {skipped} candidate scoring(s) left"
    clean = {key: [None if isinstance(v, float) and math.isnan(v) else v for v in values]
             for key, values in res.items()}
    return {"fusion": auto.best_fusion_, "model": auto.best_model_, "reason": reason, "cv": int(auto.cv),
            "budget_s": float(auto.budget), "estimated_s": auto.estimated_s_, "search_s": round(auto.search_time_s_, 3),
            "stopped_by_wall_clock": bool(auto.stopped_by_wall_clock_), "rungs": list(auto.rungs_),
            "candidates": clean}
