"""FramePooler: frame-level embeddings -> one clip vector per modality block."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .data import POOLING_STATS, check_stat_names, missing_rows, pool_frames, stat_names
from .errors import ConfigError, DataError
from .heads import fit_with_groups

__all__ = ["FramePooler", "POOLING_STATS", "SegmentClassifier", "segment_modalities"]

# Pool this many clips at a time: the temporaries of std/quantiles then stay small
# (a 512-clip chunk of 96 x 512 float32 frames is 100 MB) instead of the split's size.
_CHUNK = 512


class FramePooler(TransformerMixin, BaseEstimator):
    """Pool the frames of each clip into statistics over time.

    Each row of ``X`` holds one clip's ``n_frames`` frames of ``d`` values, frame after
    frame (``d = n_features / n_frames``). The output row is, per statistic, the ``d``
    values of that statistic over the frames: ``[mean | std | ... | q_0.1 | ...]``.

    With ``input_stats`` the rows hold statistics already (what
    ``read_features(..., stats=...)`` computes while reading: ``d`` values per statistic,
    in the order ``input_stats`` names them), and pooling selects the ones asked for.
    Either way the output is the same, so ``stats`` and ``quantiles`` stay tunable.

    Parameters
    ----------
    n_frames : int, default=1
        Frames per row. With 1 every row is already a clip vector and ``mean`` is the identity.
        Not used with ``input_stats``.
    stats : tuple of str, default=("mean",)
        Any of ``"mean"``, ``"std"``, ``"max"``, ``"min"``, in output order.
    quantiles : tuple of float, default=()
        Quantiles in [0, 1] appended after ``stats``, e.g. ``(0.1, 0.5, 0.9)``.
    input_stats : tuple of str, default=None
        The statistics each row of ``X`` holds (``FeatureSet.stats``); ``None``: rows hold frames.

    Attributes
    ----------
    n_features_in_ : int
        Columns seen in ``fit``.
    frame_dim_ : int
        ``d``, the size of one frame.

    Notes
    -----
    A row whose frames are all NaN (a clip missing this modality) pools to NaN, so a
    following imputer or fusion estimator can recognise it. NaN or inf in only part of a
    row is refused (a DataError): it is neither a missing modality nor usable data.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1., 10., 3., 30.]])  # one clip, 2 frames of 2 values
    >>> FramePooler(n_frames=2, stats=("mean", "max")).fit_transform(X)
    array([[ 2., 20.,  3., 30.]])
    >>> pooled = np.array([[2., 20., 3., 30.]])  # the same clip, read as mean and max
    >>> FramePooler(stats=("max",), input_stats=("mean", "max")).fit_transform(pooled)
    array([[ 3., 30.]])
    """

    def __init__(self, n_frames=1, stats=("mean",), quantiles=(), input_stats=None):
        self.n_frames = n_frames
        self.stats = stats
        self.quantiles = quantiles
        self.input_stats = input_stats

    def _check_params(self):
        if not isinstance(self.n_frames, numbers.Integral) or self.n_frames < 1:
            raise ConfigError(f"n_frames={self.n_frames!r}: expected a positive integer")
        stats = (self.stats,) if isinstance(self.stats, str) else tuple(self.stats)
        bad = [s for s in stats if s not in POOLING_STATS]
        if bad:
            raise ConfigError(f"pooling stats {bad}: expected any of {', '.join(POOLING_STATS)}")
        quantiles = tuple(float(q) for q in self.quantiles)
        if any(not 0.0 <= q <= 1.0 for q in quantiles):
            raise ConfigError(f"quantiles {quantiles}: expected values in [0, 1]")
        if not stats and not quantiles:
            raise ConfigError("pooling needs at least one statistic; set stats=('mean',)")
        names = stat_names(stats, quantiles)
        if self.input_stats is None:
            return names, None
        held = check_stat_names(self.input_stats, what="input_stats")
        absent = [s for s in names if s not in held]
        if absent:
            raise DataError(f"pooling statistic(s) {absent} were not computed while reading (the features hold "
                            f"{list(held)}); read them with stats including {absent} "
                            "(read_features(..., stats=...)), or pool from frames")
        return names, [held.index(s) for s in names]

    def fit(self, X, y=None):
        """Check the layout of ``X``; pooling learns nothing."""
        _, picks = self._check_params()
        # Values are checked where they are pooled (transform): a check here would be one more
        # full pass over the frames, the largest array in the whole pipeline.
        X = validate_data(self, X, dtype=(np.float32, np.float64), ensure_all_finite=False)
        parts, what = (self.n_frames, "n_frames={} equal frames") if picks is None else \
            (len(self.input_stats), "the {} statistics of input_stats")
        if X.shape[1] % parts:
            raise DataError(
                f"{X.shape[1]} columns do not split into {what.format(parts)}; "
                "set n_frames (input_stats) to the frames (statistics) the features were stored with"
            )
        self.frame_dim_ = X.shape[1] // parts
        return self

    def transform(self, X):
        """Pool every clip; returns ``(n_clips, frame_dim_ * n_statistics)``."""
        check_is_fitted(self)
        names, picks = self._check_params()
        # inf is found from the per-clip sums (which the mean needs anyway) instead of by sklearn's
        # separate pass over X: reading the frames once instead of twice doubles pooling and
        # prediction throughput. NaN stays allowed (a missing modality).
        X = validate_data(self, X, reset=False, dtype=(np.float32, np.float64), ensure_all_finite=False)
        n, d = X.shape[0], self.frame_dim_
        if picks is not None:
            missing_rows(X)  # the same refusal of part-NaN rows and inf as when pooling frames
            if picks == list(range(len(self.input_stats))):
                return X
            return np.concatenate([X[:, k * d:(k + 1) * d] for k in picks], axis=1)
        out = np.empty((n, d * len(names)), dtype=X.dtype)
        for start in range(0, n, _CHUNK):
            out[start:start + _CHUNK] = pool_frames(X[start:start + _CHUNK].reshape(-1, self.n_frames, d), names,
                                                     first_row=start)
        return out

    def get_feature_names_out(self, input_features=None):
        """``<stat>_<i>`` names for the pooled columns."""
        check_is_fitted(self)
        names, _ = self._check_params()
        return np.asarray([f"{s}_{i}" for s in names for i in range(self.frame_dim_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def segment_modalities(modalities, segment_frames):
    """The modality layout of one segment: every ``(name, n_frames, dim)`` becomes ``(name, segment_frames, dim)``."""
    for name, n_frames, _ in modalities:
        if n_frames % segment_frames:
            raise ConfigError(
                f"segment_frames={segment_frames} does not divide the {n_frames} frames of {name!r}; "
                f"choose a divisor of {n_frames}"
            )
    return tuple((name, segment_frames, dim) for name, _, dim in modalities)


class SegmentClassifier(ClassifierMixin, BaseEstimator):
    """Segment mode: every group of ``segment_frames`` frames is a sample; a clip's probability is their mean.

    This is how the DCASE 2021 Task 1B baseline trained on 1-s segments. ``X`` holds whole
    clips laid out as ``modalities``; ``fit`` cuts each clip into ``n_frames / segment_frames``
    segments (each modality cut at the same times), trains ``estimator`` on all of them with
    the clip's label, and ``predict_proba`` averages a clip's segment probabilities.

    Parameters
    ----------
    estimator : classifier, default=None
        Built for the segment layout (:func:`segment_modalities`); ``None``: logistic regression
        on the raw segment frames.
    modalities : sequence of (name, n_frames, dim), default=None
        Layout of ``X``; ``None``: one modality spanning ``X`` with ``n_frames=segment_frames``.
    segment_frames : int, default=10
        Frames per segment (10 frames of 0.1 s = the baseline's 1-s segments).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray
    n_segments_ : int
        Segments per clip.
    """

    def __init__(self, estimator=None, modalities=None, segment_frames=10):
        self.estimator = estimator
        self.modalities = modalities
        self.segment_frames = segment_frames

    def _layout(self, n_features):
        if self.modalities is None:
            return ((("x", self.segment_frames, n_features // self.segment_frames),)
                    if n_features % self.segment_frames == 0 else (("x", 1, n_features),))
        return tuple(self.modalities)

    def _segments(self, X):
        mods = self._layout(X.shape[1])
        seg = segment_modalities(mods, min(self.segment_frames, min(f for _, f, _ in mods)))
        n_seg = mods[0][1] // seg[0][1]
        if any(f // s != n_seg for (_, f, _), (_, s, _) in zip(mods, seg)):
            raise ConfigError("segment mode needs the same frame count in every modality")
        # Fill one preallocated array through 3-D views: reshaping a column slice of X copies it,
        # and hstack-ing those copies made three copies of the data at once (6 GB at fold1 size).
        n = X.shape[0]
        out = np.empty((n * n_seg, sum(s * d for _, s, d in seg)), dtype=X.dtype)
        view = out.reshape(n, n_seg, out.shape[1])
        start = col = 0
        for (_, f, d), (_, s, _) in zip(mods, seg):
            view[:, :, col:col + s * d] = X[:, start:start + f * d].reshape(n, n_seg, s * d)
            start += f * d
            col += s * d
        return out, n_seg

    def fit(self, X, y, groups=None):
        """Fit the estimator on every segment of every clip."""
        X, y = validate_data(self, X, y, dtype=(np.float32, np.float64), ensure_all_finite="allow-nan")
        check_classification_targets(y)
        estimator = LogisticRegression(max_iter=1000) if self.estimator is None else clone(self.estimator)
        self.pooler_ = _frame_pooler(estimator)
        Xs, self.n_segments_ = self._segment_rows(X, fit=True)
        self.estimator_ = estimator if self.pooler_ is None else _after_pooling(estimator, self.pooler_)
        ys = np.repeat(y, self.n_segments_)
        groups = None if groups is None else np.repeat(np.asarray(groups), self.n_segments_)
        fit_with_groups(self.estimator_, Xs, ys, groups)
        self.classes_ = self.estimator_.classes_
        return self

    def _segment_rows(self, X, fit=False):
        """The rows ``estimator_`` takes: every segment, pooled chunk by chunk when ``pooler_`` is set.

        Pooling a few hundred clips' segments at a time keeps memory at the pooled size (86k
        segments x 1,024 values = 354 MB at fold1 size) instead of a second copy of the frames.
        """
        if self.pooler_ is None:
            return self._segments(X)
        parts, n_seg = [], None
        for start in range(0, max(X.shape[0], 1), _CHUNK):
            Xs, n_seg = self._segments(X[start:start + _CHUNK])
            if fit and start == 0:
                self.pooler_.fit(Xs)  # stateless: records the widths only
            parts.append(self.pooler_.transform(Xs))
        return np.concatenate(parts), n_seg

    def predict_proba(self, X):
        """Mean of each clip's segment probabilities."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float32, np.float64), ensure_all_finite="allow-nan")
        Xs, n_seg = self._segment_rows(X)
        proba = self.estimator_.predict_proba(Xs)
        return proba.reshape(X.shape[0], n_seg, -1).mean(axis=1)

    def predict(self, X):
        """``classes_[argmax(predict_proba(X))]``."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN (a missing modality) is fine exactly when the segment estimator takes it.
        tags.input_tags.allow_nan = self.estimator is not None and get_tags(self.estimator).input_tags.allow_nan
        return tags




def _frame_pooler(estimator):
    """The frame pooling an estimator starts with, as a ColumnTransformer of FramePoolers; else None.

    That is a pipeline whose first step is a ColumnTransformer whose every branch starts with
    a FramePooler (what :func:`avsc_sk.fusion.make_feature_pipeline` builds). Pooling learns
    nothing, so it can run ahead of the estimator, chunk by chunk.
    """
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else None
    if not isinstance(first, ColumnTransformer) or first.remainder != "drop" or not first.transformers:
        return None
    if not all(isinstance(t, Pipeline) and isinstance(t.steps[0][1], FramePooler) for _, t, _ in first.transformers):
        return None
    return ColumnTransformer([(name, clone(t.steps[0][1]), cols) for name, t, cols in first.transformers])


def _after_pooling(estimator, pooler):
    """``estimator`` with its poolers replaced by ``"passthrough"``, each branch reading its pooled block."""
    first_name, first = estimator.steps[0]
    branches = []
    for name, branch, _ in first.transformers:
        branch = clone(branch)
        branch.set_params(**{branch.steps[0][0]: "passthrough"})
        branches.append((name, branch, pooler.output_indices_[name]))
    return estimator.set_params(**{f"{first_name}__transformers": branches})
