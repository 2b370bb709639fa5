"""Clips with none of a model's modalities: the training class prior, never a guess from imputed data.

Mean imputation turns a missing block into "the average clip", which a head may well call
confidently (a video-only model shown a clip without video once said ``airport`` at 0.988).
A model that has none of a clip's data can only say what it knew before looking: how often
each scene occurred in training. Every fusion mode answers such clips with its
``class_prior_`` (and leaves such clips out of what it learns from), through the helpers here.
"""

import warnings

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..data import missing_mask
from ..errors import AvscWarning, DataError

__all__ = ["MissingModalityWarning", "NoModalityWarning", "FeaturePipeline", "class_prior", "predict_or_prior", "absent_rows"]


class MissingModalityWarning(AvscWarning):
    """Some clips lack a modality: what the model does with them."""


class NoModalityWarning(MissingModalityWarning):
    """Some clips have none of a model's modalities: they were given the training class prior."""


def class_prior(y, classes):
    """The share of each class of ``classes`` among the labels ``y``, as float64 (sums to 1)."""
    y = np.asarray(y)
    counts = np.array([np.count_nonzero(y == c) for c in classes], dtype=np.float64)
    return counts / counts.sum()


def _rows(idx, limit=5):
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    return shown + (f", ... ({len(idx) - limit} more)" if len(idx) > limit else "")


def predict_or_prior(predict, X, absent, prior, what="the model"):
    """``predict(X)`` on the clips that have data, ``prior`` for the ``absent`` ones (with one warning).

    Parameters
    ----------
    predict : callable
        Class probabilities of the clips given (rows of ``X``).
    X : ndarray
    absent : ndarray of bool, shape (n_clips,)
        Clips with none of the model's modalities.
    prior : ndarray of shape (n_classes,)
    what : str
        Names the model in the warning.
    """
    if not absent.any():
        return predict(X)
    idx = np.flatnonzero(absent)
    warnings.warn(NoModalityWarning(
        f"{len(idx)} clip(s) (rows {_rows(idx)}) have none of {what}'s modalities: given the training class "
        "prior (each scene's share of the training clips), not a prediction"), stacklevel=3)
    P = np.tile(np.asarray(prior, dtype=np.float64), (len(absent), 1))
    if not absent.all():
        P[~absent] = predict(X[~absent])
    return P


def absent_rows(X, column_sets):
    """Boolean ``(n_clips,)``: True where every one of ``column_sets`` is missing (all NaN)."""
    if column_sets is None:
        column_sets = [slice(0, X.shape[1])]
    out = np.zeros(X.shape[0], dtype=bool)
    if not column_sets or X.shape[1] == 0:
        return out
    # A block NaN in part is refused where it is pooled, so a missing block starts with NaN:
    # the full check runs on those rows only, not over every frame of every clip.
    first = [np.arange(X.shape[1])[c][:1] for c in column_sets]
    if any(len(f) == 0 for f in first):
        return out
    candidates = np.flatnonzero(np.isnan(X[:, np.concatenate(first)]).all(axis=1))
    if len(candidates):
        out[candidates] = missing_mask(X[candidates], column_sets).all(axis=1)
    return out


def _dense_float_2d(X):
    """``X`` as an array when it is a dense 2-D float array (where blocks can be missing); else None."""
    if sparse.issparse(X):
        return None
    X = X if hasattr(X, "shape") and hasattr(X, "dtype") else np.asarray(X)
    return X if getattr(X, "ndim", 0) == 2 and X.dtype.kind == "f" else None


class FeaturePipeline(Pipeline):
    """A scikit-learn Pipeline that knows when a clip lacks its modalities.

    Exactly :class:`sklearn.pipeline.Pipeline` (same steps, parameters and fitted
    attributes) for clips with every modality it reads. The modalities are its first step's
    ColumnTransformer branches (the whole row for any other first step):

    * a clip with none of them is left out of ``fit`` (the imputer would make it "the average
      clip", labelled with its scene: noise) and gets ``class_prior_`` from ``predict_proba``,
      with a :class:`NoModalityWarning`;
    * with ``fallbacks=True`` and two or more modalities (early fusion), ``fit`` also fits,
      per modality, the pipeline of that modality alone with the head's chosen
      hyper-parameters fixed (no inner cross-validation: about 15% of the fit), on every
      clip that has that modality, and a clip that has only that modality is predicted by
      it. The joint pipeline then learns from the complete clips (when they hold every
      class). Mean imputation would instead
      read the absent block as "the average clip" through weights learnt beside it, which can
      be surer than the modality alone is; the fallback is exactly as sure as that modality's
      own model. Clips missing some of three or more modalities are imputed (the training
      mean: after scaling, no evidence from that block).

    What :func:`~avsc_sk.fusion.make_feature_pipeline` and
    :func:`~avsc_sk.fusion.make_modality_pipeline` build.

    Parameters
    ----------
    steps : list of (str, estimator)
    fallbacks : bool, default=True
        Fit the one-modality fallbacks (ignored with fewer than two modalities).
    transform_input, memory, verbose
        As for :class:`sklearn.pipeline.Pipeline`.

    Attributes
    ----------
    class_prior_ : ndarray of shape (n_classes,)
        Each class's share of the training labels (all training clips), in ``classes_`` order.
    fallbacks_ : dict of str to FeaturePipeline
        The one-modality fallbacks by modality name (empty without them; a modality whose
        fallback could not be fitted, e.g. a PCA wider than its block, is imputed instead).
    n_absent_fit_ : int
        Training clips left out of the fit for having none of the pipeline's modalities.
    n_partial_fit_ : int
        Training clips lacking some of the modalities, left to the fallbacks (with ``fallbacks``,
        when the complete clips hold every class; else imputed).
    """

    def __init__(self, steps, *, fallbacks=True, transform_input=None, memory=None, verbose=False):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.fallbacks = fallbacks

    def _branches(self):
        first = self.steps[0][1]
        if not isinstance(first, ColumnTransformer):
            return None
        transformers = getattr(first, "transformers_", first.transformers)
        return [(name, trans, cols) for name, trans, cols in transformers
                if name != "remainder" and not (isinstance(trans, str) and trans == "drop")]

    def missing(self, X):
        """``(n_clips, n_modalities)``: True where a clip of ``X`` lacks that modality; None for whole rows.

        The modalities are the first step's ColumnTransformer branches, in order. Cheap: only
        the rows whose blocks start with NaN are checked in full.
        """
        return self._missing(X)

    def _missing(self, X):
        """``(n_clips, n_modalities)`` missing mask, or None when the pipeline reads whole rows."""
        branches = self._branches()
        if branches is None:
            return None
        out = np.zeros((X.shape[0], len(branches)), dtype=bool)
        first = [np.arange(X.shape[1])[c][:1] for _, _, c in branches]
        if not branches or any(len(f) == 0 for f in first):
            return out
        # A block NaN in part is refused where it is pooled, so a missing block starts with NaN:
        # the full check runs on those rows only, not over every frame of every clip.
        candidates = np.flatnonzero(np.isnan(X[:, np.concatenate(first)]).any(axis=1))
        if len(candidates):
            out[candidates] = missing_mask(X[candidates], [c for _, _, c in branches])
        return out

    def _absent(self, X):
        missing = self._missing(X)
        return absent_rows(X, None) if missing is None else missing.all(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # An all-NaN block is a missing modality, which this pipeline handles (see above); Pipeline
        # would take its first step's answer, a ColumnTransformer's "no".
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None, **params):
        """Fit the steps on the clips that have at least one of the pipeline's modalities (and the fallbacks)."""
        X_arr = _dense_float_2d(X)
        if X_arr is None:  # the steps validate it (and refuse what they cannot take)
            super().fit(X, y, **params)
            self.class_prior_ = class_prior(y, self.classes_)
            self.n_absent_fit_ = self.n_partial_fit_ = 0
            self.fallbacks_ = {}
            return self
        n = X_arr.shape[0]
        missing = self._missing(X_arr)
        absent = absent_rows(X_arr, None) if missing is None else missing.all(axis=1)
        if n and absent.all():
            raise DataError(f"all {n} training clip(s) lack every modality this model reads; "
                            "train on clips that have them")
        drop = absent
        if self.fallbacks and missing is not None and missing.shape[1] > 1:
            # The joint head learns from the complete clips (imputed blocks taught it wrongly: 0.158
            # worse test log loss on wine in benchmarks/real.py --partial); the fallbacks learn from
            # every clip with their modality and predict the partial ones.
            partial = missing.any(axis=1)
            y_arr = np.asarray(y)
            if partial.any() and set(np.unique(y_arr[~partial])) >= set(np.unique(y_arr)):
                drop = partial
        if drop.any():
            keep = ~drop
            # Row-aligned fit parameters (groups, sample_weight) follow the clips kept.
            kept = {k: (np.asarray(v)[keep] if v is not None and np.ndim(v) and len(v) == n else v)
                    for k, v in params.items()}
            super().fit(X_arr[keep], np.asarray(y)[keep], **kept)
        else:
            super().fit(X, y, **params)
        self.class_prior_ = class_prior(y, self.classes_)
        self.n_absent_fit_ = int(absent.sum())
        self.n_partial_fit_ = int(drop.sum() - absent.sum())
        self.fallbacks_ = self._fit_fallbacks(X_arr, y, params) if self.fallbacks else {}
        return self

    def _fit_fallbacks(self, X, y, params):
        from ..heads import chosen_params  # the heads import the fusion package's neighbours

        branches = self._branches()
        if branches is None or len(branches) < 2:
            return {}
        first = self.steps[0][0]
        fixed = chosen_params(self)
        out = {}
        for name, trans, cols in branches:
            one = clone(self).set_params(**{f"{first}__transformers": [(name, clone(trans), cols)],
                                            "fallbacks": False}, **fixed)
            try:
                out[name] = one.fit(X, y, **params)
            except (ValueError, DataError):  # e.g. a PCA wider than this block: imputation serves instead
                continue
        return out

    def predict_proba(self, X, **params):
        """Class probabilities; the class prior for clips with no modality, a fallback for those with one."""
        check_is_fitted(self)
        whole = super(FeaturePipeline, self).predict_proba
        X_arr = _dense_float_2d(X)
        if getattr(self, "class_prior_", None) is None or X_arr is None or X_arr.shape[1] != self.n_features_in_:
            return whole(X, **params)
        X = X_arr
        missing = self._missing(X)
        absent = absent_rows(X, None) if missing is None else missing.all(axis=1)
        fallbacks = getattr(self, "fallbacks_", {})
        if missing is None or not fallbacks or not missing.any():
            return predict_or_prior(lambda rows: whole(rows, **params), X, absent, self.class_prior_,
                                    what="this model")
        names = [name for name, _, _ in self._branches()]
        only = np.where((~missing).sum(axis=1) == 1, np.argmax(~missing, axis=1), -1)

        def proba(rows):
            P = np.empty((len(rows), len(self.classes_)), dtype=np.float64)
            alone = only[rows]
            rest = np.ones(len(rows), dtype=bool)
            for k, name in enumerate(names):
                sel = alone == k
                if sel.any() and name in fallbacks:
                    P[sel] = fallbacks[name].predict_proba(X[rows[sel]], **params)
                    rest &= ~sel
            if rest.any():
                P[rest] = whole(X[rows[rest]], **params)
            return P

        return predict_or_prior(proba, np.arange(X.shape[0]), absent, self.class_prior_, what="this model")

    def predict_log_proba(self, X, **params):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, **params))

    def predict(self, X, **params):
        """``classes_[argmax(predict_proba(X))]``."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X, **params), axis=1)]

    def score(self, X, y, sample_weight=None, **params):
        """Accuracy of :meth:`predict`."""
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
