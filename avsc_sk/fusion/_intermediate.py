"""Intermediate fusion: modality-specific layers, concatenated embeddings, shared layers (numpy, no torch)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .._pooling import FramePooler
from ..errors import ConfigError, DataError
from ..model_selection import check_cv_groups, check_holdout_split
from ._base import FusionClassifier
from ._missing import class_prior, predict_or_prior
from ._early import modality_columns
from ._mlp import MLPNetwork

__all__ = ["IntermediateFusionClassifier"]


class IntermediateFusionClassifier(FusionClassifier, BaseEstimator):
    """Intermediate fusion: an MLP with one branch per modality, trained in numpy.

    Each modality is pooled over frames (:class:`~avsc_sk.FramePooler`), standardised and
    passed through its own branch ``Linear(hidden) -> BatchNorm -> ReLU -> Dropout ->
    Linear(embed)``; the embeddings are concatenated and classified by shared layers
    ``Linear(shared) -> ReLU -> Linear(n_classes)``. This is the architecture of the
    reference intermediate-fusion baseline (512 -> 512 -> 128 per modality, then 128 ->
    classes). Training: softmax cross-entropy, Adam with L2 weight decay (as
    ``torch.optim.Adam(weight_decay=...)``), early stopping on the validation log loss with
    the best epoch's weights restored.

    Parameters
    ----------
    modalities : sequence of (name, n_frames, dim), optional
        The layout of X (``FeatureSet.modalities``). ``None``: one modality spanning X with
        one frame.
    stats : tuple of str, default=("mean",)
        Pooling statistics per modality (see :class:`~avsc_sk.FramePooler`).
    input_stats : tuple of str, default=None
        The statistics X holds per modality (``FeatureSet.stats``); ``None``: X holds frames.
    hidden, embed, shared : int, default=512, 128, 128
        Layer widths.
    dropout : float, default=0.2
        Dropout after each branch's ReLU.
    weight_decay : float, default=1e-4
    learning_rate : float, default=1e-4
        Adam's step size. Small enough that the best epoch is not one of the first few, where
        it hangs on one hold-out's noise and networks of different seeds or folds disagree.
    batch_size : int, default=256
        Clips per training step, 2 or more: batch norm needs two clips to normalise over.
    max_epochs : int, default=200
    patience : int, default=10
        Stop after this many epochs without a lower validation log loss.
    validation_fraction : float, default=0.1
        Share of the training clips held out for early stopping, by
        :func:`avsc_sk.model_selection.check_holdout_split`: grouped by ``fit``'s ``groups``
        (no recording location on both sides), stratified, and never taking a class's last
        clips out of training (a warning when too few locations make it larger, a DataError
        when no location can be held out). 0 disables early stopping.
    random_state : int or None, default=None
        Seeds initialisation, batch order, dropout and the validation split: the same seed
        gives the same network on the same machine.
    cv_groups : {"auto", "location", "none"}, default="auto"
        ``"none"``: the hold-out ignores ``groups`` and shares locations with training (its
        loss is optimistic), for data whose classes are recorded at too few locations;
        ``"auto"``: grouped where a location can be held out without taking a class's last
        clips, else that stratified hold-out with one :class:`~avsc_sk.errors.CVFallbackWarning`
        (the reason in ``cv_fallback_``); ``"location"``: grouped or a DataError.
    class_weight : "balanced", dict or None, default=None
        Weigh each clip's cross-entropy (training and early-stopping loss) by its class's
        weight; ``"balanced"``: inversely to the class's frequency in the training clips.

    Attributes
    ----------
    network_ : MLPNetwork
    poolers_ : list of FramePooler
    mean_, scale_ : list of ndarray
        Standardisation of each modality's pooled features.
    n_epochs_ : int
        Epochs run; ``best_epoch_`` the one whose weights were kept.
    loss_curve_, validation_loss_curve_ : list of float
    cv_fallback_ : str or None
        Why the hold-out fell back to a stratified one sharing locations, or ``None``.
    class_prior_ : ndarray of shape (n_classes,)
        Each class's share of the training labels: the answer for a clip with no modality.
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    Missing modality (a clip whose block is entirely NaN): mean imputation. After
    standardisation the missing block is all zeros, the training mean, so that branch adds
    its "average clip" embedding and the decision rests on the present modalities. Clips
    missing a modality during training are imputed the same way. A clip with no modality at
    all gets ``class_prior_`` (with a :class:`~avsc_sk.fusion.NoModalityWarning`) and is left
    out of training.
    """

    def __init__(self, modalities=None, stats=("mean",), hidden=512, embed=128, shared=128, dropout=0.2,
                 weight_decay=1e-4, learning_rate=1e-4, batch_size=256, max_epochs=200, patience=10,
                 validation_fraction=0.1, random_state=None, cv_groups="auto", input_stats=None, class_weight=None):
        self.modalities = modalities
        self.stats = stats
        self.input_stats = input_stats
        self.hidden = hidden
        self.embed = embed
        self.shared = shared
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.class_weight = class_weight

    def _layout(self, n_features):
        mods = [("x", 1, n_features)] if self.modalities is None else \
            [(str(n), int(f), int(d)) for n, f, d in self.modalities]
        width = sum(c.stop - c.start for c in modality_columns(mods, self.input_stats).values())
        if width != n_features:
            raise DataError(f"modalities {mods} span {width} columns but X has {n_features}; "
                            "pass the FeatureSet's modalities")
        return mods

    def _check_params(self):
        for name in ("hidden", "embed", "shared", "batch_size", "max_epochs"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name}={v!r}: expected a positive integer")
        if self.batch_size < 2:
            # A batch of one clip has no batch-norm statistics: every step would be skipped.
            raise ConfigError(f"batch_size={self.batch_size}: expected 2 or more (batch norm normalises over the "
                              "clips of a batch, so a batch needs at least two)")
        check_cv_groups(self.cv_groups)
        if not (self.class_weight is None or self.class_weight == "balanced" or isinstance(self.class_weight, dict)):
            raise ConfigError(f"class_weight={self.class_weight!r}: expected 'balanced', a {{class: weight}} table "
                              "or None")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout={self.dropout!r}: expected a value in [0, 1)")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ConfigError(f"validation_fraction={self.validation_fraction!r}: expected a value in [0, 1)")

    def _inputs(self, X, fit=False):
        """Pool, standardise and mean-impute each modality block; float32 arrays plus the missing mask."""
        cols = list(modality_columns(self.layout_, self.input_stats).values())
        if fit:
            self.poolers_ = [FramePooler(n_frames=f, stats=self.stats, input_stats=self.input_stats).fit(X[:, c])
                             for (_, f, _), c in zip(self.layout_, cols)]
        pooled = [pool.transform(X[:, c]) for pool, c in zip(self.poolers_, cols)]
        missing = np.column_stack([np.isnan(p).all(axis=1) for p in pooled])
        if fit:
            self.mean_, self.scale_ = [], []
            for p in pooled:
                mu = np.nanmean(p, axis=0) if np.isfinite(p).any() else np.zeros(p.shape[1])
                sd = np.nanstd(p, axis=0) if np.isfinite(p).any() else np.ones(p.shape[1])
                self.mean_.append(np.nan_to_num(mu).astype(np.float32))
                self.scale_.append(np.where(np.nan_to_num(sd) > 1e-8, np.nan_to_num(sd), 1.0).astype(np.float32))
        out = []
        for p, mu, sd in zip(pooled, self.mean_, self.scale_):
            z = ((p - mu) / sd).astype(np.float32)
            out.append(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0))
        return out, missing

    def _split(self, y, groups, seed):
        n = len(y)
        frac = float(self.validation_fraction)
        if frac <= 0 or n < 20:
            return np.arange(n), None
        train, test, self.cv_fallback_ = check_holdout_split(
            y, groups, test_size=frac, random_state=seed, cv_groups=self.cv_groups,
            what="intermediate fusion's early-stopping hold-out", return_fallback=True)
        return train, test

    def fit(self, X, y, groups=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location per clip: the early-stopping split is then grouped.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self._check_params()
        self.layout_ = self._layout(X.shape[1])
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        seed = int(np.random.SeedSequence(self.random_state).generate_state(1)[0]) \
            if self.random_state is not None else None
        rng = np.random.default_rng(seed)
        Xs, missing = self._inputs(X, fit=True)
        self.class_prior_ = class_prior(y, self.classes_)
        absent = missing.all(axis=1)
        if absent.all():
            raise DataError(f"all {len(y)} training clip(s) lack every modality; train on clips that have them")
        if absent.any():
            # A clip with no modality teaches the network nothing but its label's frequency, which
            # class_prior_ holds: it is left out (the standardisation above ignores it too).
            keep = ~absent
            Xs, y, y_idx = [x[keep] for x in Xs], y[keep], y_idx[keep]
            groups = None if groups is None else np.asarray(groups)[keep]
        self.cv_fallback_ = None
        tr, va = self._split(y, None if groups is None else np.asarray(groups), seed)
        net = MLPNetwork([x.shape[1] for x in Xs], self.hidden, self.embed, self.shared, len(self.classes_),
                         self.dropout, rng)
        if len(tr) < 2:
            raise DataError(f"intermediate fusion: n_samples={len(tr)} training clip(s); batch norm needs at least 2")
        n_batches = max(1, int(np.ceil(len(tr) / self.batch_size)))
        if len(tr) // n_batches < 2:  # batch_size 2 on an odd count: near-equal batches would include a single clip
            n_batches = len(tr) // 2
        # One BLAS thread: a 256-clip batch is too small for threads to pay off, and spinning
        # BLAS threads cost 6x the CPU time when the cores are shared (measured: 0.5 s vs 3.2 s
        # CPU per fold1-size epoch).
        # Per clip, its class's weight, from the training part's class frequencies.
        weight = None if self.class_weight is None else compute_class_weight(
            self.class_weight, classes=self.classes_, y=y[tr])[y_idx]
        with threadpool_limits(limits=1, user_api="blas"):
            self._train(net, Xs, y_idx, tr, va, rng, n_batches, weight)
        net.drop_optimizer()
        self.network_ = net
        return self

    def _train(self, net, Xs, y_idx, tr, va, rng, n_batches, weight=None):
        best, best_loss, wait, step = None, np.inf, 0, 0
        self.loss_curve_, self.validation_loss_curve_ = [], []
        self.best_epoch_ = 0
        for epoch in range(1, self.max_epochs + 1):
            order = rng.permutation(tr)
            # Near-equal batches: never a batch of one clip, on which batch norm is undefined.
            losses = []
            for batch in np.array_split(order, n_batches):
                if len(batch) < 2:
                    continue
                step += 1
                losses.append(net.train_step([x[batch] for x in Xs], y_idx[batch], rng,
                                             self.learning_rate, self.weight_decay, step,
                                             sample_weight=None if weight is None else weight[batch]))
            self.loss_curve_.append(float(np.mean(losses)) if losses else np.nan)
            if va is None:
                continue
            logits = net.logits([x[va] for x in Xs])
            logits -= logits.max(axis=1, keepdims=True)
            losses_va = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(len(va)), y_idx[va]]
            val_loss = float(np.average(losses_va, weights=None if weight is None else weight[va]))
            self.validation_loss_curve_.append(val_loss)
            if val_loss < best_loss - 1e-6:
                best, best_loss, wait, self.best_epoch_ = net.state(), val_loss, 0, epoch
            else:
                wait += 1
                if wait >= self.patience:
                    break
        self.n_epochs_ = epoch
        if best is not None:
            net.load_state(best)
        else:
            self.best_epoch_ = epoch

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        # float64, as the heads predict: probabilities that do not depend on how many clips are predicted at once.
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        Xs, missing = self._inputs(X)

        def proba(rows):
            logits = self.network_.logits([x[rows] for x in Xs])
            logits -= logits.max(axis=1, keepdims=True)
            P = np.exp(logits)
            return P / P.sum(axis=1, keepdims=True)

        return predict_or_prior(proba, np.arange(X.shape[0]), missing.all(axis=1), self.class_prior_,
                                what="intermediate fusion")
