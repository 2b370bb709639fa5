"""Cross-modal transfer: a single-modality student learning from a fused teacher's out-of-fold probabilities."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from .._sklearn_private import Interval, StrOptions
from ..errors import ConfigError
from ..heads import LogisticRegressionHead, chosen_params, fit_with_groups
from ._base import grouped_splits, oof_member
from ._missing import FeaturePipeline

__all__ = ["DistilledClassifier", "DISTILL_ALPHA", "soft_target_rows"]

#: Default share of the teacher's probabilities in the student's targets (the rest: the label).
#: Half and half: the teacher's out-of-fold probabilities carry what one modality cannot see
#: (which scenes a clip resembles, how hard it is), but a fused TAU model is still wrong on about
#: one clip in five, and with ``alpha`` above 0.5 its wrong top class would outweigh the true
#: label on those clips; at 0.5 the label always keeps at least as much weight as any class
#: the teacher prefers, so the student never learns the teacher's errors as its targets.
DISTILL_ALPHA = 0.5


def soft_target_rows(targets, classes, *, keep, min_weight=1e-3):
    """Replicate each clip once per class it has weight on: rows, labels and weights whose weighted
    cross-entropy is the clips' cross-entropy against ``targets``.

    Parameters
    ----------
    targets : ndarray of shape (n_clips, n_classes)
        Each clip's target distribution (rows sum to 1), columns in ``classes`` order.
    classes : ndarray of shape (n_classes,)
    keep : ndarray of shape (n_clips,) of int
        Per clip a column that is always kept (its label's), so every class keeps its labelled clips.
    min_weight : float, default=1e-3
        Columns with less target mass are dropped and each clip's kept weights renormalised to
        sum to 1: the loss's scale (and so a head's ``C``) stays that of one row per clip, at a
        few rows per clip instead of one per class.

    Returns
    -------
    rows : ndarray of int
        The clip of each row.
    labels : ndarray
    weights : ndarray of float64
    """
    targets = np.asarray(targets, dtype=np.float64)
    mask = targets >= min_weight
    mask[np.arange(len(targets)), keep] = True
    rows, cols = np.nonzero(mask)
    w = targets[rows, cols]
    w = w / np.bincount(rows, weights=w, minlength=len(targets))[rows]
    return rows, np.asarray(classes)[cols], w


def _fitted(estimator):
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


class DistilledClassifier(ClassifierMixin, BaseEstimator):
    """A student classifier trained on its labels and a teacher's out-of-fold probabilities.

    The use: a model that will only ever see video at inference time learns from a fused
    audio-video teacher at training time (``avsc-sk fit --fusion video --teacher RUN``).
    ``fit`` (1) refits the teacher recipe on ``cv`` folds of the training clips grouped by
    recording location and collects its out-of-fold probabilities ``q``, so that no clip's
    target comes from a model that trained on it (or on its location); (2) mixes them with the
    labels, ``t = alpha * q + (1 - alpha) * onehot(y)``; (3) fits the student on ``t`` by
    sample-weighted class replication: each clip becomes one row per class it has weight on
    (see :func:`soft_target_rows`), weighted by that class's target, so the head's weighted
    cross-entropy is exactly the cross-entropy against ``t``.

    The teacher recipe: a fitted ``teacher`` (a loaded run's model) is cloned with every
    hyper-parameter its heads chose fixed at that value (:func:`avsc_sk.heads.chosen_params`),
    so its fold fits run no inner CV (cheap: ``cv`` fits of the teacher at fixed settings);
    those values were chosen on the teacher's own training clips, which leaks into the
    out-of-fold probabilities through one or two scalars only, the same approximation late
    fusion's ``member_tuning="once"`` makes. An unfitted ``teacher`` is cloned as it is (its
    heads then choose inside every fold: exact, and dearer). An AutoFusionClassifier teacher
    lends its chosen ``best_estimator_``.

    The student first fits on the labels alone, exactly as it would without a teacher: its
    heads choose their hyper-parameters on grouped inner folds scored against the labels (what
    the test scores), and a :class:`~avsc_sk.fusion.FeaturePipeline` student keeps its class
    prior for clips without its modality. Its last step, the head, is then refitted on the soft
    targets with those values fixed; the steps before it stay as fitted on the clips themselves
    (replicated rows would weigh a clip by how many classes it keeps). The soft targets
    regularise the head themselves, so the labels' choice of ``C`` is the more regularised one.

    Parameters
    ----------
    estimator : classifier, default=None
        The student; its last step must take ``sample_weight`` (the logreg, mlp and lgbm heads do).
        ``None``: a :class:`~avsc_sk.heads.LogisticRegressionHead` over every column. The
        student may read only some columns of ``X`` (a single-modality pipeline), the teacher
        reads what it reads.
    teacher : classifier, default=None
        The teacher, fitted (its recipe and chosen hyper-parameters are used) or not; required.
    alpha : float in [0, 1], default=0.5
        Share of the teacher's probabilities in the targets (:data:`DISTILL_ALPHA`); 0 is
        training on the labels alone, 1 on the teacher alone.
    cv : int or splitter, default=5
        Folds of the teacher's out-of-fold probabilities (grouped by ``groups``).
    random_state : int or None, default=0
        Seed of the fold assignment.
    cv_groups : {"auto", "location", "none"}, default="auto"
        The folds' policy (see :func:`avsc_sk.fusion.grouped_splits`).
    min_weight : float, default=1e-3
        Target mass below which a clip's row for a class is dropped (see :func:`soft_target_rows`).
    n_jobs : int, optional
        Parallel teacher fold fits (joblib).

    Attributes
    ----------
    estimator_ : classifier
        The fitted student (a Pipeline whose steps were fitted as described).
    teacher_oof_ : ndarray of shape (n_clips, n_classes)
        The teacher's out-of-fold probabilities on the training clips.
    teacher_oof_accuracy_, teacher_oof_log_loss_ : float
        Their accuracy and log loss on the training labels.
    cv_splits_ : list of (ndarray, ndarray)
    cv_fallback_ : str or None
        Why the folds fell back to stratified ones that share locations, or ``None``.
    n_rows_ : int
        Rows the head was fitted on (clips times the classes kept per clip).
    classes_ : ndarray
    n_features_in_ : int
    """

    __metadata_request__fit = {"groups": True}

    _parameter_constraints = {"alpha": [Interval(Real, 0, 1, closed="both")],
                              "min_weight": [Interval(Real, 0, 1, closed="left")],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})],
                              "n_jobs": [Integral, None]}

    def __init__(self, estimator=None, teacher=None, alpha=DISTILL_ALPHA, cv=5, random_state=0, cv_groups="auto",
                 min_weight=1e-3, n_jobs=None):
        self.estimator = estimator
        self.teacher = teacher
        self.alpha = alpha
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.min_weight = min_weight
        self.n_jobs = n_jobs

    def _student(self):
        student = LogisticRegressionHead(random_state=self.random_state) if self.estimator is None \
            else clone(self.estimator)
        head = student.steps[-1][1] if isinstance(student, Pipeline) else student
        if not has_fit_parameter(head, "sample_weight"):
            raise ConfigError(f"the student's head {type(head).__name__} cannot learn from soft targets (its fit takes "
                              "no sample_weight); use --model logreg, mlp or lgbm for a student with --teacher")
        return student, head

    def _teacher_recipe(self):
        if self.teacher is None:
            raise ConfigError("teacher=None: a DistilledClassifier needs a teacher (a fused estimator, fitted or "
                              "not); give --teacher RUN_DIR")
        teacher = getattr(self.teacher, "best_estimator_", None) if _fitted(self.teacher) else None
        teacher = self.teacher if teacher is None else teacher
        if _fitted(teacher):
            return clone(teacher).set_params(**chosen_params(teacher))
        return clone(teacher)

    def fit(self, X, y, groups=None):
        """Fit the student on its labels and the teacher's grouped out-of-fold probabilities.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Every column the teacher and the student read (a FeatureSet's ``X``).
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording locations: the teacher's folds, and the student head's inner folds.

        Returns
        -------
        self
        """
        self._validate_params()
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64],
                             ensure_all_finite="allow-nan" if allow_nan else True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("DistilledClassifier needs samples of at least 2 classes; the data contains only one class")
        student, _ = self._student()
        teacher = self._teacher_recipe()
        groups = None if groups is None else np.asarray(groups)
        self.cv_splits_, self.cv_fallback_ = grouped_splits(
            X, y, groups, self.cv, self.random_state, self.cv_groups,
            "distillation's teacher out-of-fold predictions", return_fallback=True)
        q = oof_member("teacher", teacher, X, y, self.cv_splits_, self.classes_, n_jobs=self.n_jobs, groups=groups)
        y_idx = np.searchsorted(self.classes_, y)
        self.teacher_oof_ = q
        self.teacher_oof_accuracy_ = float(np.mean(np.argmax(q, axis=1) == y_idx))
        self.teacher_oof_log_loss_ = float(log_loss(y, q, labels=self.classes_))
        targets = self.alpha * q
        targets[np.arange(len(y)), y_idx] += 1.0 - self.alpha

        # The student first learns from the labels alone, as it would without a teacher: its heads
        # choose their hyper-parameters on grouped inner folds, scored on what the test scores (the
        # labels), and its pipeline keeps what it knows of missing modalities (class prior, the
        # clips it leaves out). Then its head alone is refitted on the soft targets, those values
        # fixed: the steps before it were fitted on the clips as they are, once.
        fit_with_groups(student, X, y, groups)
        present = ~self._left_out(student, X)
        if isinstance(student, Pipeline):
            name, head = student.steps[-1]
            Xt = student[:-1].transform(X[present]) if len(student.steps) > 1 else X[present]
        else:
            name, head, Xt = None, student, X[present]
        soft = clone(head).set_params(**chosen_params(head))
        rows, labels, weights = soft_target_rows(targets[present], self.classes_, keep=y_idx[present],
                                                 min_weight=self.min_weight)
        soft.fit(Xt[rows], labels, sample_weight=weights)
        if name is None:
            student = soft
        else:
            student.steps[-1] = (name, soft)
        self.n_rows_ = int(len(rows))
        self.estimator_ = student
        return self

    @staticmethod
    def _left_out(student, X):
        """The training clips a fitted student left out for having none of its modalities."""
        if isinstance(student, FeaturePipeline):
            return student._absent(X)
        return np.zeros(X.shape[0], dtype=bool)

    def predict_proba(self, X):
        """The student's class probabilities (columns in ``classes_`` order); the teacher is not used."""
        check_is_fitted(self)
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64],
                          ensure_all_finite="allow-nan" if allow_nan else True)
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        """The most probable class of each clip."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN blocks (missing modalities) are taken when both the student and the teacher take them
        # (the default student, a bare head, does not).
        parts = (self.estimator, self.teacher)
        tags.input_tags.allow_nan = all(p is not None and get_tags(p).input_tags.allow_nan for p in parts)
        return tags
