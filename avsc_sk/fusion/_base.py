"""Pieces shared by the late, weighted and intermediate fusion estimators."""

import numbers
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._progress import task
from .._sklearn_private import BaseComposition, InvalidParameterError
from ..data import missing_mask  # the one definition of a missing modality, shared with FeatureSet
from ..errors import ConfigError, DataError
from ..model_selection import cv_plan
from ..heads import chosen_params, fit_with_groups
from ._missing import NoModalityWarning, class_prior, predict_or_prior

__all__ = ["FusionClassifier", "grouped_splits", "estimator_columns", "missing_mask", "default_estimators", "check_estimators",
           "fit_member", "fold_proba", "oof_member", "with_cv_groups", "member_blocks", "ModalityFusion",
           "MEMBER_TUNING", "check_member_tuning", "fixed_member", "fit_members"]

#: How late and weighted fusion choose their members' hyper-parameters (their ``member_tuning``):
#: ``"once"`` on all training clips, then fixed in the out-of-fold fits; ``"nested"`` again in every fold.
MEMBER_TUNING = ("once", "nested")


def grouped_splits(X, y, groups=None, cv=5, random_state=None, cv_groups="auto",
                   what="internal cross-validation", return_fallback=False):
    """Materialise the internal cross-validation folds as a list of ``(train, test)`` index arrays.

    An int ``cv`` asks :func:`avsc_sk.model_selection.check_cv_splits` (the one fold policy):
    folds grouped by recording location and stratified by class, every training part holding
    every class (fewer folds with a warning, or a DataError), so out-of-fold probabilities
    are neither inflated by clips from the same place nor missing a class.

    Parameters
    ----------
    X, y : array-like
    groups : array-like, optional
        Recording location of each clip; ``None`` makes each clip its own group, with a warning.
    cv : int or cross-validation splitter, default=5
        An int is the number of folds asked for; a splitter is used as given with
        ``split(X, y, groups)``, its folds checked the same way (a training part lacking a
        class is refused).
    random_state : int or None, default=None
        Seed of the shuffled fold assignment; ``None`` keeps it unshuffled (deterministic).
    cv_groups : {"auto", "location", "none"}, default="auto"
        ``"none"``: stratified folds that share locations (optimistic out-of-fold probabilities);
        ``"auto"``: those when no grouped split keeps every class in training, with a
        :class:`~avsc_sk.errors.CVFallbackWarning`; ``"location"``: a DataError then.
    what : str
        Names the cross-validation in warnings and errors.
    return_fallback : bool, default=False
        Also return the fallback's reason (``None`` when the folds are what was asked for).

    Returns
    -------
    list of (ndarray, ndarray), or (list, str or None) with ``return_fallback``
    """
    if not isinstance(cv, numbers.Integral) or isinstance(cv, bool):
        if not hasattr(cv, "split"):
            raise ConfigError(f"cv={cv!r}: expected a number of folds or a splitter with split()")
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
        classes = np.unique(y)
        for i, (tr, _) in enumerate(splits):
            absent = np.setdiff1d(classes, np.asarray(y)[tr])
            if len(absent):
                raise DataError(f"{what}: fold {i + 1} of {len(splits)} from cv={cv!r} trains without "
                                f"{', '.join(map(str, absent))}, so its out-of-fold probabilities never name them; "
                                "pass cv as a number of folds (checked, fewer when needed)")
        return (splits, None) if return_fallback else splits
    if cv < 2:
        raise ConfigError(f"cv={cv}: internal cross-validation needs at least 2 folds")
    plan = cv_plan(y, groups, n_splits=int(cv), random_state=random_state, cv_groups=cv_groups, what=what)
    return (plan.splits, plan.fallback) if return_fallback else plan.splits


def estimator_columns(estimator, n_features):
    """The columns of X an estimator reads.

    A pipeline made by :func:`make_feature_pipeline` starts with a ColumnTransformer that
    selects its own modality blocks; any other estimator is taken to read every column.
    """
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else None
    if isinstance(first, ColumnTransformer):
        idx = np.arange(n_features)
        used = [idx[cols] for _, trans, cols in first.transformers if not (isinstance(trans, str) and trans == "drop")]
        if used:
            return np.unique(np.concatenate([np.atleast_1d(u) for u in used]))
    return np.arange(n_features)


def default_estimators(random_state=None):
    """One imputed, scaled logistic regression over all columns: what ``estimators=None`` means."""
    return [("all", make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(),
                                  LogisticRegression(max_iter=1000, random_state=random_state)))]


def check_estimators(estimators, random_state=None):
    """Validate a StackingClassifier-style ``[(name, estimator), ...]`` list; ``None`` gives the default."""
    if estimators is None:
        return default_estimators(random_state)
    estimators = list(estimators)
    if not estimators:
        raise ConfigError("estimators is empty; pass [(modality_name, pipeline), ...]")
    names = []
    for item in estimators:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ConfigError(f"estimators entry {item!r}: expected a (name, estimator) pair")
        if not hasattr(item[1], "predict_proba"):
            raise ConfigError(f"estimator {item[0]!r} has no predict_proba; fusion blends probabilities")
        names.append(item[0])
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate estimator names {names}; name each modality once")
    return estimators


def with_cv_groups(estimator, cv_groups):
    """``estimator``, or with ``cv_groups`` other than ``"auto"`` a clone whose nested heads take it too.

    Asking a fusion for folds that share locations is asking it of every cross-validation
    inside it (otherwise a head's grouped inner CV would still warn on the same data); asking
    it for grouped folds or a refusal (``"location"``) is asking that of its heads too.
    """
    if cv_groups == "auto" or not hasattr(estimator, "get_params"):
        return estimator
    keys = [k for k in estimator.get_params(deep=True) if k == "cv_groups" or k.endswith("__cv_groups")]
    return clone(estimator).set_params(**dict.fromkeys(keys, cv_groups)) if keys else estimator


def stack_features(probas, n_classes):
    """Concatenate per-modality probabilities as StackingClassifier does (binary: drop column 0)."""
    return np.hstack([p[:, 1:] if n_classes == 2 else p for p in probas])


# Messages of scikit-learn errors that mean "too few clips for this fold", not a bug.
_TOO_FEW = ("cannot be greater than the number of members", "n_neighbors <= n_samples",
            "least populated class", "needs samples of at least 2 classes", "contains only one class")


def too_few_clips_error(exc, name, n_clips, y, where, n_folds=None):
    """A DataError naming the fold when ``exc`` is a too-few-clips error; else None (re-raise as is)."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, InvalidParameterError) or not any(t in msg for t in _TOO_FEW):
        return None
    _, counts = np.unique(np.asarray(y), return_counts=True)
    # More folds, not fewer, help here: each fold then trains on a larger share of the clips.
    fix = f"train on more clips per scene, make the {name!r} estimator need fewer ({name}__head__...)"
    fix += f", or use more internal folds (cv={n_folds + 1}+; each then trains on more clips)" if n_folds else ""
    return DataError(f"modality {name!r}: {where} has {n_clips} training clips (smallest scene {counts.min()}), "
                     f"too few for its estimator ({msg}); {fix}")


def fit_member(name, estimator, Z, y, where="fitting on all training clips", n_folds=None, groups=None):
    """Fit a clone of one modality's estimator on ``Z`` (its own pooled columns); too few clips is a DataError.

    ``groups`` (the clips' locations) reach a head that chooses its own hyper-parameters.
    """
    try:
        return fit_with_groups(clone(estimator), Z, y, groups)
    except ValueError as exc:
        err = too_few_clips_error(exc, name, len(y), y, where, n_folds)
        if err is None:
            raise
        raise err from None


def fold_proba(name, estimator, Z, y, train, test, classes, where, n_folds, groups=None):
    """One fold's out-of-fold probabilities: a clone of ``estimator`` fitted on ``train``, predicting ``test``.

    Columns in ``classes`` order (a class the fold's training clips lack gets probability 0);
    ``where`` and ``n_folds`` name the fold when too few clips make it a DataError.
    """
    est = fit_member(name, estimator, Z[train], y[train], where, n_folds, None if groups is None else groups[train])
    try:
        with warnings.catch_warnings():
            # A fold's clips without this modality get its prior, as at prediction: said once, by the fusion.
            warnings.simplefilter("ignore", NoModalityWarning)
            P = est.predict_proba(Z[test])
    except ValueError as exc:
        err = too_few_clips_error(exc, name, len(train), y[train], where, n_folds)
        if err is None:
            raise
        raise err from None
    if len(est.classes_) == len(classes):
        return P
    # A scene absent from this fold's training clips gets probability 0, as cross_val_predict does.
    out = np.zeros((len(test), len(classes)), dtype=P.dtype)
    out[:, np.searchsorted(classes, est.classes_)] = P
    return out


def oof_member(name, estimator, Z, y, splits, classes, n_jobs=None, groups=None):
    """Out-of-fold ``predict_proba`` of one modality's estimator over ``splits`` (columns in ``classes`` order).

    ``Z`` holds only this modality's pooled columns, so a fold copies a few MB, not the frames.
    Each fold's estimator gets its training clips' ``groups``: it chooses its hyper-parameters
    inside the fold, never seeing the clips it is scored on.
    """
    k = len(splits)
    groups = None if groups is None else np.asarray(groups)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(fold_proba)(name, estimator, Z, y, tr, te, classes, f"internal fold {i + 1} of {k}", k, groups)
        for i, (tr, te) in enumerate(splits))
    out = np.empty((len(y), len(classes)), dtype=np.float64)
    for (_, te), P in zip(splits, parts):
        out[te] = P
    return out


def check_member_tuning(value):
    """Refuse a ``member_tuning`` that is not one of :data:`MEMBER_TUNING`."""
    if not isinstance(value, str) or value not in MEMBER_TUNING:
        raise ConfigError(f"member_tuning={value!r}: expected 'once' (each member's hyper-parameters chosen on all "
                          "training clips, fixed in its out-of-fold fits) or 'nested' (chosen again in every fold)")
    return value


def fixed_member(estimator, fitted):
    """An unfitted clone of ``estimator`` with every head's hyper-parameters fixed at the values ``fitted`` used.

    ``fitted`` is ``estimator`` fitted (e.g. by :func:`fit_member`); its heads' choices
    (:func:`avsc_sk.heads.chosen_params`, ``{"head__C": 0.01}``) become the clone's parameters,
    so fitting the clone runs no inner cross-validation for them. An estimator without heads
    is cloned as it is.
    """
    return clone(estimator).set_params(**chosen_params(fitted))


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _run(parallel, jobs, shown):
    """``parallel(jobs)`` as a list, advancing the bar ``shown`` as each job finishes (in order)."""
    out = []
    for result in parallel(jobs):
        out.append(result)
        shown.update(1)
    return out


def fit_members(estimators, Z, blocks, y, groups, splits, classes, *, member_tuning="once", n_jobs=None,
                desc="member fits"):
    """Fit every modality estimator on all clips and collect its out-of-fold probabilities over ``splits``.

    With ``member_tuning="once"`` each member's fit on all clips (its heads choosing their
    hyper-parameters by grouped inner CV on every training clip's locations) is also where
    its hyper-parameters are chosen; the out-of-fold fits are clones with those values fixed
    (:func:`fixed_member`), so they run no inner CV. This is sound because the stacker or
    blend only learns from the out-of-fold probabilities, and what a fold's model predicts
    for its held-out clips depends on those clips only through one or two scalars (a ``C``
    chosen among a dozen) that all training clips chose: the same approximation as
    ``cross_val_predict`` run after tuning a model on the whole training set, which leaks
    far less than any fit on the held-out clips. ``"nested"`` chooses them again inside every
    fold, on its training locations only: exact, and a head's inner CV per fold dearer
    (5 folds of a 5-fold C path per member).

    Parameters
    ----------
    estimators : list of (str, estimator)
    Z : ndarray of shape (n_clips, n_pooled)
    blocks : list of slice
        Each estimator's columns of ``Z``.
    y : ndarray of shape (n_clips,)
    groups : array-like of shape (n_clips,), optional
        The clips' locations, for the heads' choice (and, per fold, for what they still choose).
    splits : list of (ndarray, ndarray)
        The internal folds; empty: no out-of-fold probabilities.
    classes : ndarray
        Column order of the probabilities.
    member_tuning : {"once", "nested"}, default="once"
    n_jobs : int, optional
        Parallel jobs over the fits (joblib; ``None`` is 1): the fits on all clips, then every
        member's folds together.
    desc : str, default="member fits"
        The label of the progress bar of the fits (shown when the caller set a progress hook,
        see ``avsc_sk._progress.using``).

    Returns
    -------
    fitted : list of estimator
        Each estimator fitted on all clips.
    oof : list of ndarray or None
        Each one's out-of-fold probabilities, in the members' own precision (as
        StackingClassifier collects them); ``None`` without ``splits``.
    seconds : list of (float, float)
        Per member, the seconds of its fit on all clips and the sum of its fold fits'.
    """
    check_member_tuning(member_tuning)
    groups = None if groups is None else np.asarray(groups)
    k = len(splits)
    full = [delayed(_timed)(fit_member, name, est, _take(Z, b), y, groups=groups)
            for (name, est), b in zip(estimators, blocks)]

    def folds(templates):
        return [delayed(_timed)(fold_proba, name, est, _take(Z, b), y, tr, te, classes,
                                f"internal fold {i + 1} of {k}", k, groups)
                for (name, est), b in zip(templates, blocks) for i, (tr, te) in enumerate(splits)]

    with Parallel(n_jobs=n_jobs, return_as="generator") as parallel, \
            task(desc, total=len(full) * (1 + k), unit="fit") as shown:
        if member_tuning == "nested":
            # Nothing waits on the fits on all clips: one pool keeps every worker busy.
            done = _run(parallel, full + folds(estimators), shown)
            done_full, done_folds = done[:len(full)], done[len(full):]
        else:
            done_full = _run(parallel, full, shown)
            done_folds = _run(parallel, folds([(name, fixed_member(est, fitted)) for (name, est), (fitted, _)
                                               in zip(estimators, done_full)]), shown) if k else []
    fitted = [est for est, _ in done_full]
    seconds = [(t, sum(t for _, t in done_folds[m * k:(m + 1) * k])) for m, (_, t) in enumerate(done_full)]
    if not k:
        return fitted, None, seconds
    oof = []
    for m in range(len(estimators)):
        parts = [P for P, _ in done_folds[m * k:(m + 1) * k]]
        P = np.empty((len(y), len(classes)), dtype=np.result_type(*parts))
        for (_, te), part in zip(splits, parts):
            P[te] = part
        oof.append(P)
    return fitted, oof, seconds


def member_blocks(pooler, estimators, n_features):
    """Per estimator, the columns of the pooled matrix it reads: its modality's pooled block, or all of them.

    With ``pooler`` (a fitted ColumnTransformer) an estimator named like one of its transformers
    reads that transformer's output columns (``output_indices_``); any other reads every column,
    and so does every estimator without a pooler (where a pipeline may select its own raw columns).
    """
    idx = getattr(pooler, "output_indices_", {}) if pooler is not None else {}
    out = []
    for name, _ in estimators:
        block = idx.get(name)
        out.append(block if block is not None and block.stop > block.start else slice(0, n_features))
    return out


def _take(Z, block):
    return Z if block == slice(0, Z.shape[1]) else Z[:, block]


class FusionClassifier(ClassifierMixin):
    """What every fusion classifier shares: ``predict`` from ``predict_proba``, and NaN blocks allowed.

    A modality block that is all NaN is a missing modality, which fusion handles; so the
    estimators take NaN and say so in their tags.
    """

    def predict(self, X):
        """The most probable class of each clip."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class ModalityFusion(FusionClassifier, BaseComposition):
    """Shared machinery of late and weighted fusion: pool once, one estimator per modality block.

    Subclasses set ``estimators``, ``pooler``, ``cv``, ``cv_groups``, ``member_tuning``, ``n_jobs`` and
    ``random_state``. The
    per-modality estimators' parameters are reachable as ``<name>__<param>`` (e.g.
    ``audio__head__C``), the pooler's as ``pooler__<name>__<param>`` (``pooler__audio__stats``).
    """

    _what = "fusion"

    def get_params(self, deep=True):
        """Parameters, with each modality estimator's under its name (``audio__head__C``)."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including a modality estimator's (``audio__head__C``) or replacing it (``audio``)."""
        self._set_params("estimators", **params)
        return self

    def _finite(self):
        # The FramePoolers refuse inf while pooling; checking the raw frames here too would be
        # one more full pass over the largest array (3.2 GiB at fold1 size).
        return False if self.pooler is not None else "allow-nan"

    def _validate(self, X, y="no_validation", reset=True):
        return validate_data(self, X, y, reset=reset, dtype=[np.float32, np.float64], ensure_all_finite=self._finite())

    def _estimators(self):
        estimators = check_estimators(self.estimators, self.random_state)
        clash = sorted({name for name, _ in estimators} & set(self.get_params(deep=False)))
        if clash:
            raise ConfigError(f"modality name(s) {clash} clash with parameters of {type(self).__name__}; "
                              "rename those modalities")
        bad = [name for name, _ in estimators if "__" in name]
        if bad:
            raise ConfigError(f"modality name(s) {bad} contain '__', which separates nested parameters; rename them")
        return estimators

    def _inner_cv_groups(self, groups, warned):
        # Without groups, or when they fell back to stratified folds, the fusion's own folds have
        # said the leak once: its heads then share locations as it does, quietly, instead of each
        # saying it again.
        shared = groups is None or getattr(self, "cv_fallback_", None) is not None
        return "none" if self.cv_groups == "none" or (shared and warned) else self.cv_groups

    def _inner(self, estimators, groups, warned):
        """``estimators`` with ``cv_groups="none"`` passed on to their heads when the fusion's folds share locations."""
        cv_groups = self._inner_cv_groups(groups, warned)
        return [(name, with_cv_groups(est, cv_groups)) for name, est in estimators]

    def _pool_fit(self, X, y, groups=None, drop_absent=True):
        """Pool ``X`` once (fitting ``pooler_``) and find each modality estimator's block of the result.

        Returns ``(estimators, Z, y, groups)``; with ``drop_absent`` without the clips that have
        none of the modalities (they teach nothing but their label's share, ``class_prior_``,
        which counts every clip).
        """
        check_member_tuning(self.member_tuning)
        estimators = self._estimators()
        if self.pooler is None:
            self.pooler_, Z = None, X
        else:
            self.pooler_ = clone(self.pooler)
            Z = self.pooler_.fit_transform(X)
        self.classes_ = np.unique(y)
        self.class_prior_ = class_prior(y, self.classes_)
        self.blocks_ = member_blocks(self.pooler_, estimators, Z.shape[1])
        self.modality_names_ = [name for name, _ in estimators]
        if drop_absent:
            n = Z.shape[1]
            cols = [np.arange(n)[b] if b != slice(0, n) else estimator_columns(est, n)
                    for (_, est), b in zip(estimators, self.blocks_)]
            absent = missing_mask(Z, cols).all(axis=1)
            if absent.all():
                raise DataError(f"all {len(y)} training clip(s) lack every modality; train on clips that have them")
            if absent.any():
                keep = ~absent
                Z, y = Z[keep], np.asarray(y)[keep]
                groups = None if groups is None else np.asarray(groups)[keep]
        return estimators, Z, y, groups

    def _fit_members(self, X, y, groups, need_oof):
        """Pool ``X`` once, then fit every modality estimator on its block (and its OOF probabilities)."""
        estimators, Z, y, groups = self._pool_fit(X, y, groups)
        oof = splits = None
        self.cv_fallback_ = None
        if need_oof:
            # The fusion's own folds are decided before any member is fitted, so a split that
            # cannot keep every class is reported naming the fusion, not a member's inner CV.
            splits, self.cv_fallback_ = grouped_splits(Z, y, groups, self.cv, self.random_state, self.cv_groups,
                                                       f"{self._what}'s internal cross-validation",
                                                       return_fallback=True)
        estimators = self._inner(estimators, groups, splits is not None)
        self.estimators_, oof, _ = fit_members(estimators, Z, self.blocks_, y, groups, splits or [], self.classes_,
                                               member_tuning=self.member_tuning, n_jobs=self.n_jobs, desc=self._what)
        self._set_missing_columns(Z.shape[1])
        return Z, y, oof, splits

    def _adopt(self, members, oof_proba, X, y):
        """Validate and pool ``X`` and take already-fitted ``members`` (``from_members``): the state ``fit`` leaves.

        Returns the pooled ``Z``, ``y`` and the out-of-fold probabilities, checked against the members.
        """
        X, y = self._validate(X, y)
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError(f"{self._what} needs clips of at least 2 classes; the data contains only one class")
        _, Z, _, _ = self._pool_fit(X, y, drop_absent=False)
        members = check_estimators(members)
        names = [name for name, _ in members]
        if names != self.modality_names_:
            raise ConfigError(f"members {names} differ from the estimators {self.modality_names_}; "
                              "pass one fitted member per estimator, in the same order")
        for (name, est), block in zip(members, self.blocks_):
            check_is_fitted(est)
            width = _take(Z, block).shape[1]
            if getattr(est, "n_features_in_", width) != width:
                raise ConfigError(f"member {name!r} was fitted on {est.n_features_in_} columns, but its modality's "
                                  f"pooled block of X has {width}; fit it on that block")
            if not np.array_equal(np.asarray(est.classes_), self.classes_):
                raise ConfigError(f"member {name!r} knows the classes {list(est.classes_)}, but y holds "
                                  f"{list(self.classes_)}; fit every member on the same y")
        oof = None if oof_proba is None else [np.asarray(p) for p in oof_proba]
        shape = (len(y), len(self.classes_))
        if oof is not None and (len(oof) != len(members) or any(p.shape != shape for p in oof)):
            raise ConfigError(f"oof_proba: expected {len(members)} arrays of shape {shape} (one per member, "
                              f"columns in classes_ order), got shapes {[p.shape for p in oof]}")
        self.estimators_ = [est for _, est in members]
        self._set_missing_columns(Z.shape[1])
        return Z, y, oof

    def _set_missing_columns(self, n_pooled):
        # The columns whose all-NaN rows mean "modality missing": the pooled block, or, without a
        # pooler, the raw columns the estimator selects for itself.
        self.columns_ = [np.arange(n_pooled)[b] if b != slice(0, n_pooled) else estimator_columns(est, n_pooled)
                         for est, b in zip(self.estimators_, self.blocks_)]

    def _or_prior(self, Z, predict):
        """``predict(Z)`` for clips with a modality, ``class_prior_`` (one warning) for those with none."""
        absent = missing_mask(Z, self.columns_).all(axis=1)
        return predict_or_prior(predict, Z, absent, self.class_prior_, what=self._what)

    def _pooled(self, X):
        """Validate and pool ``X`` for prediction."""
        X = self._validate(X, reset=False)
        return X if self.pooler_ is None else self.pooler_.transform(X)

    def _member_probas(self, Z, fill):
        """Each estimator's probabilities on ``Z`` (``fill[k]`` where its modality is missing) and the mask."""
        missing = missing_mask(Z, self.columns_)
        probas = []
        for k, (est, b) in enumerate(zip(self.estimators_, self.blocks_)):
            present = ~missing[:, k]
            if present.all():
                probas.append(est.predict_proba(_take(Z, b)))
                continue
            P = np.tile(np.asarray(fill[k], dtype=np.float64), (Z.shape[0], 1))
            if present.any():
                P[present] = est.predict_proba(_take(Z, b)[present])
            probas.append(P)
        return probas, missing
