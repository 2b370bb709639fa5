"""The one splitter policy of avsc-sk: folds grouped by recording location, stratified by class, checked.

Every internal or inner cross-validation (tune, late and weighted fusion's out-of-fold
probabilities, the MLP's early-stopping hold-out, heads that choose their own
hyper-parameters) asks this module for its folds, so there is one policy to check:

* folds are a shuffled :class:`~sklearn.model_selection.StratifiedGroupKFold` over
  recording locations: clips of one location are near duplicates, so a fold that splits a
  location scores too high;
* before anything is fitted, every training part must hold every class: a model that never
  saw a class cannot be scored or stacked meaningfully (CV log loss 29, an inverted
  stacker). The splitter does not guarantee it, so it is checked; the number of folds is
  reduced until it holds, with one :class:`~avsc_sk.errors.SplitWarning`, and when no
  grouped split can keep every class in training the request is refused with a
  :class:`~avsc_sk.errors.DataError`;
* ``cv_groups="none"`` (``--cv-groups none``) is the explicit way out: stratified folds
  that share locations, whose scores are marked :data:`OPTIMISTIC`. Without groups the
  same happens, with a warning, never silently;
* ``cv_groups="auto"``, the default of every estimator's *internal* cross-validation (a
  head's choice of C, late and weighted fusion's out-of-fold probabilities, the MLP's
  hold-out), groups by location where the data allow and otherwise falls back to
  stratified folds with one :class:`~avsc_sk.errors.CVFallbackWarning`, recorded in
  :attr:`CVPlan.fallback`: a choice the user did not ask for never makes a command refuse.
  ``"location"`` (what ``tune`` and an explicit ``--cv-groups location`` ask for) refuses.
"""

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedGroupKFold, StratifiedKFold

from ..errors import ConfigError, CVFallbackWarning, DataError, SplitWarning

__all__ = ["CV_GROUPS", "OPTIMISTIC", "CVPlan", "LocationKFold", "check_cv_groups", "check_cv_splits",
           "check_holdout_split", "cv_fallbacks", "cv_plan", "set_cv_groups"]

#: Values of ``cv_groups``: group folds by location where possible, else fall back to stratified folds
#: (``"auto"``, internal cross-validation's default); group them or refuse (``"location"``); do not group them.
CV_GROUPS = ("auto", "location", "none")

#: The mark every output showing scores from ungrouped folds carries.
OPTIMISTIC = "locations shared between folds: optimistic"

_WAY_OUT = "--cv-groups none (Python: cv_groups='none')"


@dataclass(frozen=True)
class CVPlan:
    """The folds :func:`cv_plan` decided on, and why.

    Attributes
    ----------
    splits : list of (ndarray, ndarray)
        ``(train_index, test_index)`` per fold; every training part holds every class.
    n_splits : int
        Folds used.
    requested : int
        Folds asked for (more than ``n_splits`` when some had to go).
    grouped : bool
        Folds grouped by recording location (False: stratified folds sharing locations).
    reduced_for : dict
        ``{class: n_locations}`` (clips when not grouped) of the classes that forced fewer
        folds: some training part lacked them with more folds.
    missing_from_training : list
        Classes absent from some training part of the folds used (always empty: such folds
        are not used; recorded so outputs can say so).
    fallback : str or None
        With ``cv_groups="auto"``: why no grouped split was possible and stratified folds were
        used instead (the warning's text); ``None`` when the folds are what was asked for.
    """

    splits: list
    n_splits: int
    requested: int
    grouped: bool
    random_state: object = None
    reduced_for: dict = field(default_factory=dict)
    missing_from_training: list = field(default_factory=list)
    fallback: str = None

    @property
    def splitter(self):
        """The scikit-learn splitter behind the folds, as a short phrase."""
        return "StratifiedGroupKFold by location" if self.grouped else "StratifiedKFold"

    def describe(self):
        """One phrase for a result line, e.g. ``3-fold StratifiedGroupKFold by location (5 asked)``."""
        text = f"{self.n_splits}-fold {self.splitter}"
        if self.n_splits != self.requested:
            text += f" ({self.requested} asked)"
        return text if self.grouped else f"{text}, {OPTIMISTIC}"

    def as_dict(self):
        """JSON-ready record of the decision (for ``summary.json``)."""
        return {"splitter": self.splitter, "grouped": self.grouped, "n_splits": self.n_splits,
                "n_splits_requested": self.requested, "seed": self.random_state,
                "reduced_for": {str(k): int(v) for k, v in self.reduced_for.items()},
                "missing_from_training": [str(c) for c in self.missing_from_training],
                "note": None if self.grouped else OPTIMISTIC, "fallback": self.fallback}


def check_cv_groups(cv_groups):
    """``cv_groups`` if it is one of :data:`CV_GROUPS`; a ConfigError otherwise."""
    if not isinstance(cv_groups, str) or cv_groups not in CV_GROUPS:
        raise ConfigError(f"cv_groups={cv_groups!r}: expected one of {', '.join(map(repr, CV_GROUPS))} "
                          "(--cv-groups location|none; left out, internal folds fall back when they must)")
    return cv_groups


def _check_n_splits(n_splits):
    if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool) or n_splits < 2:
        raise ConfigError(f"n_splits={n_splits!r}: expected a number of folds, 2 or more")
    return int(n_splits)


def _units(y, groups, cv_groups, what):
    """The labels, the grouping units (locations, or one per clip) and whether folds are grouped."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(f"{what}: expected a non-empty 1-d array of labels, got shape {y.shape}")
    check_cv_groups(cv_groups)
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise DataError(f"{what}: {len(groups)} groups for {len(y)} clips; pass one recording location per clip")
    if cv_groups in ("auto", "location") and groups is None:
        warnings.warn(f"{what}: no recording locations (groups) given, so each clip is its own group; clips of one "
                      f"location then fall on both sides of a fold ({OPTIMISTIC}); pass groups=FeatureSet.groups, "
                      "or cv_groups='none' to choose this", SplitWarning, stacklevel=4)
    grouped = cv_groups in ("auto", "location") and groups is not None
    return y, (groups if grouped else np.arange(len(y))), grouped


def _unit_counts(y, units):
    """``{class: number of distinct units}`` (locations, or clips)."""
    classes, inverse = np.unique(y, return_inverse=True)
    pairs = np.unique(np.stack([inverse, np.unique(units, return_inverse=True)[1]]), axis=1)
    return dict(zip(classes.tolist(), np.bincount(pairs[0], minlength=len(classes)).tolist()))


def _folds(y, units, grouped, k, random_state):
    """The splitter's ``k`` folds, or ``(None, why)`` when it cannot make ``k`` non-empty ones."""
    shuffle = random_state is not None
    splitter = (StratifiedGroupKFold if grouped else StratifiedKFold)(k, shuffle=shuffle, random_state=random_state)
    with warnings.catch_warnings():
        # "The least populated class has only n members": the training parts are checked below instead.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        try:
            splits = list(splitter.split(np.zeros(len(y)), y, units if grouped else None))
        except ValueError:  # scikit-learn wants some class with at least k clips
            return None, f"every class has fewer than {k} clips"
    if any(len(test) == 0 for _, test in splits):
        return None, f"the splitter left one of {k} folds empty"
    return splits, None


def _lacking(y, classes, splits):
    """Classes absent from the training part of some fold, in class order."""
    out = set()
    for train, _ in splits:
        out.update(np.setdiff1d(classes, y[train]).tolist())
    return [c for c in classes.tolist() if c in out]


def _names(counts, unit, limit=6):
    items = sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0])))
    text = ", ".join(f"{c} ({n} {unit}{'s' if n != 1 else ''})" for c, n in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


class _NoGroupedSplit(DataError):
    """No split by location keeps every class in training; ``why`` says which classes stop it."""

    def __init__(self, message, why):
        super().__init__(message)
        self.why = why


def _fallback(what, why):
    """The one-line warning (and record) of an internal cross-validation that could not group by location."""
    return (f"{what}: no split by recording location keeps every class in every training part ({why}); it used "
            f"stratified folds that share locations instead, so what it chose on them is optimistic; pass "
            f"{_WAY_OUT} to choose this, or --cv-groups location to refuse such data")


def cv_plan(y, groups=None, *, n_splits=5, random_state=0, cv_groups="location", what="cross-validation"):
    """Decide the folds and say how: :func:`check_cv_splits` with the decision recorded.

    Parameters
    ----------
    y, groups, n_splits, random_state
        As in :func:`check_cv_splits`.
    cv_groups : {"location", "auto", "none"}, default="location"
        ``"none"``: stratified folds ignoring ``groups`` (their scores are optimistic).
        ``"auto"``: as ``"location"`` where a grouped split keeps every class in training,
        else stratified folds, with one :class:`~avsc_sk.errors.CVFallbackWarning` and the
        reason in :attr:`CVPlan.fallback`.
    what : str, default="cross-validation"
        Names the cross-validation in warnings and errors.

    Returns
    -------
    CVPlan

    Raises
    ------
    DataError
        When no split into 2 or more folds keeps every class in every training part
        (with ``"auto"``: not even a stratified one).
    """
    n_splits = _check_n_splits(n_splits)
    check_cv_groups(cv_groups)
    if cv_groups != "auto":
        return _plan(y, groups, n_splits, random_state, cv_groups, what)
    try:
        return _plan(y, groups, n_splits, random_state, "location", what)
    except _NoGroupedSplit as exc:
        message = _fallback(what, exc.why)
    plan = _plan(y, groups, n_splits, random_state, "none", what)
    warnings.warn(message, CVFallbackWarning, stacklevel=2)
    return CVPlan(plan.splits, plan.n_splits, plan.requested, False, random_state, plan.reduced_for, [], message)


def _plan(y, groups, n_splits, random_state, cv_groups, what):
    y, units, grouped = _units(y, groups, cv_groups, what)
    classes = np.unique(y)
    counts = _unit_counts(y, units)
    unit = "location" if grouped else "clip"
    n_units = len(np.unique(units))
    lacking, reasons = {}, []
    for k in range(n_splits, 1, -1):
        if k > n_units:
            reasons.append(f"only {n_units} {unit}s; fewest per class: {_names(counts, unit, limit=3)}")
            continue
        splits, why = _folds(y, units, grouped, k, random_state)
        if splits is None:
            reasons.append(why)
            continue
        missing = _lacking(y, classes, splits)
        if not missing:
            break
        lacking.update({c: counts[c] for c in missing})
        reasons.append(f"with {k} folds some training part lacked {_names({c: counts[c] for c in missing}, unit)}")
    else:
        if n_units < 2:
            why = f"all {len(y)} clips are from one {unit}"
        else:
            short = lacking or {c: n for c, n in counts.items() if n < 2}
            why = f"some training part always lacks {_names(short or counts, unit)}"
        if grouped:
            raise _NoGroupedSplit(f"{what}: no split by recording location into 2 or more folds keeps every class "
                                  f"in every training part: {why}; every class needs clips from 2 or more locations. "
                                  f"Add recordings from more locations, or pass {_WAY_OUT} for stratified folds that "
                                  f"share locations ({OPTIMISTIC})", why)
        raise DataError(f"{what}: no stratified split into 2 or more folds keeps every class in every training "
                        f"part: {why}; every class needs 2 or more clips. Add clips of those classes or leave "
                        "them out")
    if k < n_splits:
        warnings.warn(f"{what}: {k} folds instead of {n_splits}, the most that keep every class in every training "
                      f"part ({reasons[0]}); ask for {k} folds to choose this", SplitWarning, stacklevel=2)
    return CVPlan(splits, k, n_splits, grouped, random_state, lacking, [])


def check_cv_splits(y, groups=None, *, n_splits=5, random_state=0, cv_groups="location", what="cross-validation"):
    """Folds as a list of ``(train_index, test_index)`` arrays, every training part holding every class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (stratification).
    groups : array-like of shape (n_samples,), optional
        Recording location of each sample; no group is on both sides of a fold. ``None``:
        each clip is its own group, with a :class:`~avsc_sk.errors.SplitWarning`.
    n_splits : int, default=5
        Folds asked for; fewer are used (with one warning naming the classes and their
        location counts) when some training part would lack a class.
    random_state : int or None, default=0
        Seed of the shuffled fold assignment; ``None``: not shuffled (deterministic too).
    cv_groups : {"location", "auto", "none"}, default="location"
        ``"none"``: stratified folds that ignore ``groups`` (scores :data:`OPTIMISTIC`);
        ``"auto"``: those instead of refusing, with a :class:`~avsc_sk.errors.CVFallbackWarning`
        (see :func:`cv_plan`).
    what : str, default="cross-validation"
        Names the cross-validation in warnings and errors.

    Returns
    -------
    list of (ndarray, ndarray)

    Raises
    ------
    DataError
        When no grouped split keeps every class in training (e.g. a class recorded at one
        location); the message offers ``--cv-groups none``.
    """
    return cv_plan(y, groups, n_splits=n_splits, random_state=random_state, cv_groups=cv_groups, what=what).splits


def check_holdout_split(y, groups=None, *, test_size=0.1, random_state=0, cv_groups="location", what="hold-out",
                        return_fallback=False):
    """One grouped, stratified hold-out ``(train_index, test_index)`` whose training part holds every class.

    The hold-out is one fold of the same policy (``round(1 / test_size)`` folds): the first,
    in shuffled order, whose training part holds every class. With fewer locations than that
    many folds it is one location fold, larger than ``test_size``, with a warning.

    Parameters
    ----------
    y, groups, random_state, cv_groups, what
        As in :func:`check_cv_splits` (``"auto"``: a stratified hold-out sharing locations,
        with a :class:`~avsc_sk.errors.CVFallbackWarning`, when no location can be held out).
    test_size : float, default=0.1
        Share of the clips held out, in (0, 1).
    return_fallback : bool, default=False
        Also return the fallback's reason (``None`` when the hold-out is what was asked for).

    Returns
    -------
    (ndarray, ndarray), or (ndarray, ndarray, str or None) with ``return_fallback``

    Raises
    ------
    DataError
        When every candidate fold's training part lacks a class (e.g. every class at one location).
    """
    if not isinstance(test_size, numbers.Real) or not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size={test_size!r}: expected a share in (0, 1)")
    check_cv_groups(cv_groups)
    fallback = None
    if cv_groups != "auto":
        train, test = _holdout(y, groups, test_size, random_state, cv_groups, what)
    else:
        try:
            train, test = _holdout(y, groups, test_size, random_state, "location", what)
        except _NoGroupedSplit as exc:
            fallback = _fallback(what, exc.why)
            train, test = _holdout(y, groups, test_size, random_state, "none", what)
            warnings.warn(fallback, CVFallbackWarning, stacklevel=2)
    return (train, test, fallback) if return_fallback else (train, test)


def _holdout(y, groups, test_size, random_state, cv_groups, what):
    want = max(2, int(round(1.0 / test_size)))
    y, units, grouped = _units(y, groups, cv_groups, what)
    classes = np.unique(y)
    counts = _unit_counts(y, units)
    unit = "location" if grouped else "clip"
    n_units = len(np.unique(units))
    for k in range(min(want, n_units), 1, -1):
        for train, test in _folds(y, units, grouped, k, random_state)[0] or []:
            if len(np.setdiff1d(classes, y[train])) == 0:
                if k < want:
                    warnings.warn(f"{what}: {len(test)} of {len(y)} clips held out (1 of {k} folds), not "
                                  f"{test_size:g} of them: only {n_units} {unit}s to hold out whole",
                                  SplitWarning, stacklevel=3)
                return train, test
    short = {c: n for c, n in counts.items() if n < 2} or counts
    fix = f"pass {_WAY_OUT} or validation_fraction=0 (no early stopping)" if grouped else \
        "pass validation_fraction=0 (no early stopping)"
    message = (f"{what}: every {unit} that could be held out takes the last clips of some class from the "
               f"training part ({_names(short, unit)}); add recordings from more {unit}s, or {fix}")
    if grouped:
        raise _NoGroupedSplit(message, f"every location that could be held out takes the last clips of "
                                       f"{_names(short, unit)}")
    raise DataError(message)


class LocationKFold(BaseCrossValidator):
    """The avsc-sk fold policy as a scikit-learn splitter (for ``GridSearchCV`` and friends).

    ``split(X, y, groups)`` yields the folds of :func:`check_cv_splits`;
    ``get_n_splits(X, y, groups)`` the number actually used. The decision is made once per
    ``(y, groups)`` and kept in ``plan_`` (so the warning is given once).

    Parameters
    ----------
    n_splits : int, default=5
    cv_groups : {"location", "auto", "none"}, default="location"
        ``"location"`` refuses data no grouped split suits (a search the user asked for);
        ``"auto"`` falls back to stratified folds with a warning (see :func:`cv_plan`).
    random_state : int or None, default=0
        Seed of the shuffled fold assignment; ``None``: not shuffled.
    what : str, default="cross-validation"
    """

    # Ask for groups when scikit-learn routes metadata (enable_metadata_routing=True).
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, cv_groups="location", random_state=0, what="cross-validation"):
        self.n_splits = n_splits
        self.cv_groups = cv_groups
        self.random_state = random_state
        self.what = what

    def plan(self, y, groups=None):
        """The :class:`CVPlan` for these labels and groups (decided once, then reused)."""
        from joblib import hash as joblib_hash

        key = joblib_hash((np.asarray(y), None if groups is None else np.asarray(groups)))
        if getattr(self, "_key", None) != key:
            self.plan_ = cv_plan(y, groups, n_splits=self.n_splits, random_state=self.random_state,
                                 cv_groups=self.cv_groups, what=self.what)
            self._key = key
        return self.plan_

    def split(self, X, y=None, groups=None):
        """Yield ``(train_index, test_index)`` per fold (``y`` is required: folds are stratified)."""
        if y is None:
            raise DataError(f"{self.what}: folds are stratified by class; pass y")
        yield from self.plan(y, groups).splits

    def get_n_splits(self, X=None, y=None, groups=None):
        """Folds used for ``y`` and ``groups``; without ``y``, the number asked for."""
        return self.n_splits if y is None else self.plan(y, groups).n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - split is overridden
        for _, test in self.split(X, y, groups):
            yield test


def set_cv_groups(estimator, cv_groups):
    """Set ``cv_groups`` on ``estimator`` and every nested estimator that has it; returns ``estimator``.

    Estimators without internal cross-validation have no such parameter and are left as they are.
    """
    if cv_groups is None:
        return estimator
    check_cv_groups(cv_groups)
    keys = [k for k in estimator.get_params(deep=True) if k == "cv_groups" or k.endswith("__cv_groups")]
    if keys:
        estimator.set_params(**{k: cv_groups for k in keys})
    return estimator


def cv_fallbacks(estimator):
    """Every ``cv_fallback_`` reason recorded inside a fitted estimator, each once, in the order found.

    The estimators whose internal cross-validation fell back to stratified folds (``cv_groups="auto"``)
    keep the reason as ``cv_fallback_``; this walks the fitted estimator (pipeline steps, fusion
    members, stackers, searches' best estimators) and collects them, for a run's manifest.

    Returns
    -------
    list of str
    """
    found, seen = [], set()

    def walk(obj):
        if isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item)
            return
        if not hasattr(obj, "get_params") or id(obj) in seen:
            return
        seen.add(id(obj))
        state = vars(obj)
        reason = state.get("cv_fallback_")
        if reason and reason not in found:
            found.append(reason)
        for value in state.values():
            walk(value)

    walk(estimator)
    return found
