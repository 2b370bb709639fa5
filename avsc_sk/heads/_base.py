"""What every self-tuning head shares: grouped inner folds, out-of-fold scoring, and getting ``groups``.

A head that chooses its own regularisation needs the recording location of each training
clip, or its inner folds split locations and reward over-fitting. Heads take ``groups`` in
``fit`` and request it through scikit-learn's metadata routing by default, so a Pipeline
routes it to them; without routing, :func:`fit_with_groups` passes it as ``head__groups``.
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._sklearn_private import Interval
from ..errors import AvscWarning, SplitWarning
from ..model_selection import cv_plan

# Constraints shared by the heads (scikit-learn's parameter validation: a bad value set from a
# config is refused when the estimator is built, naming the key).
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
COUNT = Interval(Integral, 1, None, closed="left")
FOLDS = Interval(Integral, 2, None, closed="left")

__all__ = ["InnerCVHead", "WeightedHead", "UngroupedWarning", "chosen_params", "narrowed_grids", "fit_with_groups", "takes_groups",
           "inner_splits", "aligned", "fold_log_loss", "check_sample_weight"]


class UngroupedWarning(AvscWarning):
    """A head chose its hyper-parameters without recording locations: each clip was its own group.

    An AvscWarning, so the CLI prints it as one ``avsc-sk: warning:`` line (once), not as
    Python's two-line warning repeated for every fit.
    """


def takes_groups(estimator):
    """Whether ``estimator.fit`` (or a Pipeline's last step's, recursively) takes ``groups``."""
    if isinstance(estimator, Pipeline):
        last = estimator.steps[-1][1]
        return last not in (None, "passthrough") and takes_groups(last)
    try:
        return "groups" in inspect.signature(estimator.fit).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def _group_params(estimator, groups):
    if "groups" in inspect.signature(estimator.fit).parameters:
        return {"groups": groups}
    name, last = estimator.steps[-1]
    return {f"{name}__{key}": value for key, value in _group_params(last, groups).items()}


def fit_with_groups(estimator, X, y, groups=None):
    """``estimator.fit(X, y)``, handing ``groups`` to whatever inside it takes them.

    An estimator whose ``fit`` takes ``groups`` gets them; a Pipeline ending in one gets them as
    ``<step>__groups`` (or, with metadata routing enabled, as ``groups``, routed by the Pipeline);
    anything else is fitted without them.

    Returns
    -------
    estimator
        Fitted (the same object).
    """
    if groups is None or not takes_groups(estimator):
        return estimator.fit(X, y)
    groups = np.asarray(groups)
    if sklearn.get_config()["enable_metadata_routing"]:
        return estimator.fit(X, y, groups=groups)
    return estimator.fit(X, y, **_group_params(estimator, groups))


def inner_splits(y, groups, cv, random_state, cv_groups="auto"):
    """The inner folds of a head, or ``None`` when the data are too small to hold ``cv`` folds.

    Without ``groups`` every clip is its own group (one :class:`UngroupedWarning`): that is
    only right when clips are independent, which clips from one location are not. With
    ``cv_groups="auto"`` (the heads' default) a head whose classes are recorded at too few
    locations uses stratified folds instead, with one :class:`~avsc_sk.errors.CVFallbackWarning`:
    the head's choice is hidden inside a fit and must not make it refuse.
    """
    plan = _inner_plan(y, groups, cv, random_state, cv_groups)
    return None if plan is None else plan.splits


def _inner_plan(y, groups, cv, random_state, cv_groups):
    y = np.asarray(y)
    _, counts = np.unique(y, return_counts=True)
    n_splits = min(int(cv), int(counts.min()))
    if cv_groups == "none":
        groups = None
    elif groups is None:
        warnings.warn("a head chose its hyper-parameters without recording locations (no groups): each clip "
                      "was its own group; pass fit(X, y, groups=locations) for location-grouped inner folds",
                      UngroupedWarning, stacklevel=4)
    else:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise ValueError(f"{len(groups)} groups for {len(y)} samples; pass one group per sample")
        n_locations = len(np.unique(groups))
        # No more folds than locations, quietly; but one location leaves "auto" its stratified fallback.
        if cv_groups == "location" or n_locations >= 2:
            n_splits = min(n_splits, n_locations)
    if n_splits < 2:
        # Nothing to choose on: say so, rather than let the head's fall-back value pass for a choice.
        warnings.warn(f"a head could not choose its hyper-parameters: {len(y)} training clips "
                      f"(smallest class {int(counts.min())}) cannot fill 2 inner folds"
                      + ("" if groups is None else f" by {len(np.unique(groups))} location(s)")
                      + "; it used its fall-back value (give the value in the config, or train on more clips)",
                      SplitWarning, stacklevel=4)
        return None
    return cv_plan(y, groups, n_splits=n_splits, random_state=random_state, cv_groups=cv_groups,
                   what="a head's inner cross-validation")


def aligned(P, fitted_classes, classes, fill=0.0):
    """``P``'s columns moved to ``classes`` order; a class a fold never saw gets ``fill``."""
    if len(fitted_classes) == len(classes):
        return P
    out = np.full((P.shape[0], len(classes)), fill, dtype=np.float64)
    out[:, np.searchsorted(classes, fitted_classes)] = P
    return out


def check_sample_weight(sample_weight, X):
    """``sample_weight`` as a float64 vector of one finite, non-negative weight per row of ``X``.

    Raises
    ------
    ValueError
        For another shape, or a NaN, infinite or negative weight.
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(X.shape[0], float(w))
    if w.shape != (X.shape[0],):
        raise ValueError(f"sample_weight has shape {w.shape}; expected one weight per sample, ({X.shape[0]},)")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("sample_weight holds NaN, infinite or negative values; expected finite weights >= 0")
    if w.size and not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number; got all zeros")
    return w


def fold_log_loss(y_true, P, classes, sample_weight=None):
    """Log loss of probabilities ``P`` (columns in ``classes`` order), clipped as scikit-learn clips them.

    With ``sample_weight`` the weighted mean: over rows that replicate each clip once per class
    with its soft target as weight (distillation), the held-out clips' cross-entropy against
    those targets.
    """
    # scikit-learn's log_loss, computed here: its validation cost 4 ms a call, which a head's C
    # path (folds x Cs calls on small folds) paid more for than for its fits.
    eps = np.finfo(np.float64).eps
    P = np.clip(P, eps, 1.0)
    P = np.clip(P / P.sum(axis=1, keepdims=True), eps, 1 - eps)
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    pos = np.searchsorted(classes[order], y_true)
    idx = order[np.minimum(pos, len(classes) - 1)]
    if not np.array_equal(classes[idx], np.asarray(y_true)):
        # A label outside classes: scikit-learn's error.
        return float(log_loss(y_true, P, labels=classes, sample_weight=sample_weight))
    return float(-np.average(np.log(P[np.arange(len(idx)), idx]), weights=sample_weight))


class InnerCVHead(ClassifierMixin, BaseEstimator):
    """Base of the heads: validate, choose what is left to choose on grouped inner folds, refit on all.

    Subclasses implement ``_fit(X, y, groups)`` setting ``estimator_`` (a fitted classifier
    whose ``predict_proba`` columns are ``classes_``) and their chosen ``*_`` attributes, and
    list those in ``_chosen`` (``{"C": "C_"}``): :attr:`chosen_` reports them. Every head takes
    ``cv_groups``, the policy of :func:`avsc_sk.model_selection.cv_plan`: ``"auto"`` (default:
    grouped by location where every class can stay in training, else stratified folds with a
    :class:`~avsc_sk.errors.CVFallbackWarning`, the reason kept in ``cv_fallback_``),
    ``"location"`` (grouped or refused) or ``"none"`` (stratified folds that share locations).
    """

    # Pipelines (and searches) route the recording locations to the head by default.
    __metadata_request__fit = {"groups": True}

    _chosen = {}
    # Chosen parameter -> the parameter holding its candidate values, for :func:`narrowed_grids`.
    _grids = {}
    _parameter_constraints = {}

    def _grid_values(self, name):
        """The candidate values of the chosen parameter ``name``, ascending (see ``_grids``)."""
        return sorted(getattr(self, self._grids[name]))

    def fit(self, X, y, groups=None):
        """Choose the hyper-parameters left as ``None`` by grouped inner CV log loss, then fit on all of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), optional
            Recording location of each sample: no location is on both sides of an inner fold.
            Without it each sample is its own group (a warning).

        Returns
        -------
        self
        """
        X, y = self._setup(X, y)
        self._fit(X, y, groups)
        return self

    def _setup(self, X, y):
        """Validate parameters and data and set ``classes_``; the validated ``X`` and ``y``."""
        self._validate_params()
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; the data contains only "
                             "one class")
        self.cv_fallback_ = None
        return X, y

    def _inner_splits(self, y, groups):
        """The inner folds (see :func:`inner_splits`), keeping a fallback's reason in ``cv_fallback_``."""
        plan = _inner_plan(y, groups, self.cv, self.random_state, self.cv_groups)
        self.cv_fallback_ = None if plan is None else plan.fallback
        return None if plan is None else plan.splits

    @property
    def chosen_(self):
        """``{parameter: value used}``, e.g. ``{"C": 0.01}``, whether chosen by the data or given."""
        check_is_fitted(self)
        return {name: _plain(getattr(self, attr)) for name, attr in self._chosen.items()}

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        # In float64 whatever the training dtype: float32 products differ in their last bit with
        # the number of rows a BLAS call gets, so a clip's probabilities would depend on how many
        # clips were predicted with it (--n-jobs chunks); in float64 they agree to ~1e-16.
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._predict_proba(X)

    def _predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        """The most probable class of each sample."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class WeightedHead(InnerCVHead):
    """A head whose ``fit`` also takes ``sample_weight`` (the logreg, mlp and lgbm heads).

    Subclasses implement ``_fit(X, y, groups, sample_weight)``.
    """

    def fit(self, X, y, groups=None, sample_weight=None):
        """Choose what is left to choose on grouped inner folds, then fit on all of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), optional
            Recording location of each sample (see :meth:`InnerCVHead.fit`).
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights (times ``class_weight``'s), in the inner fits and their held-out
            log losses and in the final fit. Rows replicating a clip once per class, weighted by
            its soft target, make the loss the cross-entropy against those targets
            (:class:`~avsc_sk.fusion.DistilledClassifier`).

        Returns
        -------
        self
        """
        X, y = self._setup(X, y)
        self._fit(X, y, groups, None if sample_weight is None else check_sample_weight(sample_weight, X))
        return self


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def chosen_params(estimator, prefix=""):
    """Every head's hyper-parameters in a fitted estimator, keyed by their parameter path.

    Returns
    -------
    dict
        ``{"head__C": 0.003}`` for an early-fusion pipeline, ``{"audio__head__C": ...,
        "video__head__C": ...}`` for late fusion: the values the heads used, chosen or given.
    """
    if isinstance(estimator, InnerCVHead):
        return {f"{prefix}{k}": v for k, v in estimator.chosen_.items()} if hasattr(estimator, "classes_") else {}
    out = {}
    if isinstance(estimator, Pipeline):
        for name, step in estimator.steps:
            out.update(chosen_params(step, f"{prefix}{name}__"))
    elif hasattr(estimator, "modality_names_") and hasattr(estimator, "estimators_"):
        for name, member in zip(estimator.modality_names_, estimator.estimators_):
            out.update(chosen_params(member, f"{prefix}{name}__"))
    elif hasattr(estimator, "estimator_"):
        out.update(chosen_params(estimator.estimator_, f"{prefix}estimator__"))
    return out


def narrowed_grids(estimator, chosen, steps=1):
    """Parameters that narrow each self-tuning head's candidate values to those the fits in ``chosen`` chose.

    For warm starts between the rungs of a successive-halving search: a candidate scored on a
    subset of the clips, its heads choosing (say) ``C`` inside every fold, is scored next on
    more clips. The best value moves with the number of clips (less regularisation for more),
    so it is not fixed; the grid is cut to the range the folds chose, ``steps`` grid values
    wider on each side, and the head chooses again within it.

    Parameters
    ----------
    estimator : estimator
        Unfitted, as the next rung builds it (a pipeline, a fusion).
    chosen : list of dict
        :func:`chosen_params` of the fits on the earlier rung (one per fold).
    steps : int, default=1

    Returns
    -------
    dict
        ``set_params`` keys, e.g. ``{"audio__head__Cs": (0.001, 0.00316, 0.01)}``. A head that
        is given its value, chooses it without a grid (LightGBM's rounds, by early stopping) or
        chose values not on its grid (k-NN's k capped by small folds) is left as it is, and so
        is a grid the range would not cut.
    """
    params = estimator.get_params(deep=True)
    out = {}
    for key in sorted(set().union(*chosen)) if chosen else []:
        prefix, _, name = key.rpartition("__")
        head = params.get(prefix) if prefix else estimator
        if not isinstance(head, InnerCVHead) or name not in head._grids or getattr(head, name, 0) is not None:
            continue
        values = head._grid_values(name)
        picked = [c.get(key) for c in chosen]
        if any(v not in values for v in picked):
            continue
        at = [values.index(v) for v in picked]
        lo, hi = max(0, min(at) - steps), min(len(values) - 1, max(at) + steps)
        if hi - lo + 1 < len(values):
            grid = head._grids[name]
            out[f"{prefix}__{grid}" if prefix else grid] = tuple(values[lo:hi + 1])
    return out
