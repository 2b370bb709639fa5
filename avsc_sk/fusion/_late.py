"""Late fusion: stack the per-modality estimators' probabilities with location-grouped internal CV."""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import ModalityFusion, stack_features

__all__ = ["LateFusionClassifier"]


class LateFusionClassifier(ModalityFusion):
    """Late fusion: a final classifier stacked on each modality estimator's probabilities.

    What :class:`sklearn.ensemble.StackingClassifier` does (out-of-fold ``predict_proba`` of
    every modality estimator, concatenated, a final estimator on top), with three changes that
    matter for TAU:

    * the internal cross-validation is grouped by recording location when ``fit`` gets
      ``groups`` (``StratifiedGroupKFold``, materialised in ``cv_splits_``), so no location is
      on both sides of a fold. An ungrouped ``StratifiedKFold`` leaks: clips from one location are near duplicates, so out-of-fold
      probabilities come out over-confident and the final estimator learns to trust them too much;
    * the frames are pooled once, by ``pooler``, before the stack sees them (pooling learns
      nothing, so this is exact), and every modality estimator sees only its own pooled
      columns: a fold copies a few MB instead of the frame matrix;
    * every fold's modality estimator gets that fold's ``groups``, so a head that chooses its
      own hyper-parameters does so inside the fold, on its training locations only.

    Parameters
    ----------
    estimators : list of (str, estimator), optional
        One ``(modality_name, estimator)`` per modality. With ``pooler`` an estimator named
        like one of the pooler's transformers gets that modality's pooled columns (e.g.
        :func:`make_modality_pipeline`); otherwise it gets every column and must select its
        own (e.g. ``make_feature_pipeline(modalities, "audio")``). ``None`` stacks a single
        scaled logistic regression over all columns. Their parameters are this estimator's
        ``<name>__<param>``, e.g. ``audio__head__C``.
    final_estimator : classifier, optional
        Trained on the concatenated out-of-fold probabilities; default a logistic regression.
    cv : int or splitter, default=5
        Internal folds (see :func:`grouped_splits`).
    random_state : int or None, default=None
        Shuffles the internal folds when set.
    pooler : transformer, optional
        Pools the frames of every modality, fitted once on the training clips: a
        ColumnTransformer with one ``(modality_name, FramePooler, raw_columns)`` per modality
        (:func:`make_pooler`), tunable as ``pooler__audio__stats``. ``None``: no pooling.
    n_jobs : int, optional
        Parallel jobs over the internal folds of each modality (joblib; ``None`` is 1).

    Attributes
    ----------
    pooler_ : transformer or None
        The fitted pooler.
    estimators_ : list of estimator
        The modality estimators fitted on all of the training clips (on their pooled blocks).
    blocks_ : list of slice
        The pooled columns each estimator reads.
    final_estimator_ : classifier
        Fitted on the out-of-fold probabilities (classes encoded as ``0..n_classes-1``).
    cv_splits_ : list of (ndarray, ndarray)
        The internal folds used.
    fill_ : list of ndarray
        Stacked-feature stand-in for a missing modality (see Notes).
    modality_names_ : list of str
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    Missing modality at prediction: a clip whose block of some modality is entirely NaN (so
    is its pooled block) is stacked on the modalities it has. The missing estimator's stacked
    features are replaced by ``fill_``, the class frequencies of the training labels (what a
    calibrated model says without evidence, and about the mean of its out-of-fold
    probabilities), so the final estimator decides from the present modalities. Clips with no
    modality at all are refused. During ``fit`` a missing block is left to each estimator's
    imputer.
    """

    _what = "late fusion"

    def __init__(self, estimators=None, final_estimator=None, cv=5, random_state=None, pooler=None, n_jobs=None):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.random_state = random_state
        self.pooler = pooler
        self.n_jobs = n_jobs

    def _final(self):
        if self.final_estimator is None:
            return LogisticRegression(max_iter=1000, random_state=self.random_state)
        return clone(self.final_estimator)

    def fit(self, X, y, groups=None):
        """Fit every modality estimator on all of ``X`` and the final estimator on grouped out-of-fold probabilities.

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
        X, y = self._validate(X, y)
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError("late fusion needs clips of at least 2 classes; the data contains only one class")
        # What StackingClassifier does, on the pooled matrix, with each member fitted by
        # fit_member: every fold's member gets that fold's locations (StackingClassifier would
        # hand metadata-routed groups to its final estimator too, which takes none).
        _, oof, self.cv_splits_ = self._fit_members(X, y, groups, need_oof=True)
        return self._finish(oof, y)

    @classmethod
    def _from_members(cls, pooler, estimators, blocks, oof_probas, y, n_features_in, n_pooled, *, cv_splits=None,
                      **params):
        """A fitted instance from already-fitted modality estimators and their out-of-fold probabilities.

        Used by :func:`compare_fusions` so the modality estimators are trained once and shared
        by the single-modality, late and weighted modes; the result is what ``fit`` gives.
        """
        self = cls(estimators=list(estimators), pooler=pooler, **params)
        y = np.asarray(y)
        self._adopt(pooler, estimators, blocks, n_features_in, n_pooled, np.unique(y))
        self.cv_splits_ = cv_splits
        return self._finish(list(oof_probas), y)

    def _finish(self, oof, y):
        # What StackingClassifier does with out-of-fold probabilities (labels encoded 0..n-1).
        y_enc = np.searchsorted(self.classes_, y)
        self.final_estimator_ = self._final().fit(stack_features(oof, len(self.classes_)), y_enc)
        self._set_fill(y)
        return self

    def _set_fill(self, y):
        freq = (np.asarray(y)[:, None] == self.classes_[None, :]).mean(axis=0)
        self.fill_ = [freq for _ in self.estimators_]

    def _predict_pooled(self, Z):
        probas, _ = self._member_probas(Z, self.fill_)
        return self.final_estimator_.predict_proba(stack_features(probas, len(self.classes_)))

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        return self._predict_pooled(self._pooled(X))
