"""Late fusion: stack the per-modality pipelines' probabilities with location-grouped internal CV."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (check_estimators, check_missing, estimator_columns, grouped_splits, missing_mask,
                    stack_features)

__all__ = ["LateFusionClassifier"]


class LateFusionClassifier(ClassifierMixin, BaseEstimator):
    """Late fusion: a final classifier stacked on each modality pipeline's probabilities.

    Built on :class:`sklearn.ensemble.StackingClassifier` (``stack_``), with one change that
    matters for TAU: the internal cross-validation that makes the out-of-fold
    probabilities is grouped by recording location when ``fit`` gets ``groups``
    (``StratifiedGroupKFold``), so no location is on both sides of a fold. The default
    ``StratifiedKFold`` of StackingClassifier leaks: clips from one location are near
    duplicates, so out-of-fold probabilities come out over-confident and the final
    estimator learns to trust them too much.

    Parameters
    ----------
    estimators : list of (str, estimator), optional
        One ``(modality_name, pipeline)`` per modality, each pipeline selecting its own
        columns, e.g. ``make_feature_pipeline(modalities, "audio")``. ``None`` stacks a single
        scaled logistic regression over all columns.
    final_estimator : classifier, optional
        Trained on the concatenated out-of-fold probabilities; default a logistic regression.
    cv : int or splitter, default=5
        Internal folds (see :func:`grouped_splits`). The folds are materialised as a list
        of index pairs and passed as ``cv`` to ``stack_``.
    random_state : int or None, default=None
        Shuffles the internal folds when set.

    Attributes
    ----------
    stack_ : StackingClassifier
        The fitted stack; ``stack_.estimators_`` are the per-modality pipelines fitted on all
        of the training data.
    cv_splits_ : list of (ndarray, ndarray)
        The internal folds used.
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    Missing modality at prediction: a clip whose block for some pipeline is entirely NaN
    is stacked on the modalities it has. The missing pipeline's stacked features are
    replaced by ``fill_``, the class frequencies of the training labels (what a calibrated
    model says without evidence, and about the mean of its out-of-fold probabilities), so
    the final estimator decides from the present modalities. Clips with no modality at all
    are refused. During ``fit`` a missing block is
    left to each pipeline's imputer.
    """

    def __init__(self, estimators=None, final_estimator=None, cv=5, random_state=None):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.random_state = random_state

    def _final(self):
        if self.final_estimator is None:
            return LogisticRegression(max_iter=1000, random_state=self.random_state)
        return clone(self.final_estimator)

    def fit(self, X, y, groups=None):
        """Fit every pipeline on all of ``X`` and the final estimator on grouped out-of-fold probabilities.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            A FeatureSet's ``X``.
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location of each clip (``FeatureSet.groups``); strongly recommended.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan")
        check_classification_targets(y)
        estimators = check_estimators(self.estimators, self.random_state)
        self.cv_splits_ = grouped_splits(X, y, groups, self.cv, self.random_state)
        self.stack_ = StackingClassifier(
            estimators=[(name, clone(est)) for name, est in estimators],
            final_estimator=self._final(), cv=self.cv_splits_, stack_method="predict_proba",
        )
        self.stack_.fit(X, y)
        self.classes_ = self.stack_.classes_
        self._set_fill(y)
        self._set_columns(X.shape[1])
        return self

    @classmethod
    def _from_oof(cls, estimators, oof_probas, X, y, *, final_estimator=None, cv_splits=None, random_state=None):
        """A fitted instance from already-fitted pipelines and their out-of-fold probabilities.

        Used by :func:`compare_fusions` so the per-modality pipelines are trained once and
        shared by the single-modality, late and weighted modes. ``stack_`` is then a
        ``cv="prefit"`` StackingClassifier whose final estimator is refitted on the given
        out-of-fold probabilities (prefit alone would train it on in-sample ones).
        """
        self = cls(estimators=estimators, final_estimator=final_estimator, random_state=random_state)
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan")
        self.cv_splits_ = cv_splits
        self.stack_ = StackingClassifier(estimators=list(estimators), final_estimator=self._final(),
                                         cv="prefit", stack_method="predict_proba")
        self.stack_.fit(X, y)
        self.classes_ = self.stack_.classes_
        y_enc = np.searchsorted(self.classes_, y)
        self.stack_.final_estimator_ = self._final().fit(stack_features(oof_probas, len(self.classes_)), y_enc)
        self._set_fill(y)
        self._set_columns(X.shape[1])
        return self

    def _set_fill(self, y):
        freq = (np.asarray(y)[:, None] == self.classes_[None, :]).mean(axis=0)
        self.fill_ = [freq for _ in self.stack_.estimators_]

    def _set_columns(self, n_features):
        self.columns_ = [estimator_columns(est, n_features) for est in self.stack_.estimators_]

    def _meta(self, X):
        missing = missing_mask(X, self.columns_)
        check_missing(missing, "late fusion")
        if not missing.any():
            return self.stack_.transform(X)
        probas = []
        for k, est in enumerate(self.stack_.estimators_):
            P = np.tile(self.fill_[k], (X.shape[0], 1))
            present = ~missing[:, k]
            if present.any():
                P[present] = est.predict_proba(X[present])
            probas.append(P)
        return stack_features(probas, len(self.classes_))

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan")
        return self.stack_.final_estimator_.predict_proba(self._meta(X))

    def predict(self, X):
        """The most probable class of each clip."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
