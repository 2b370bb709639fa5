"""Weighted late fusion: a convex blend of per-modality probabilities, weights learnt from grouped OOF predictions."""

import numbers

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp, softmax
from sklearn.base import clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..errors import ConfigError
from ._base import ModalityFusion, missing_mask

__all__ = ["WeightedFusionClassifier", "BLENDS"]

#: Blend rules of :class:`WeightedFusionClassifier`.
BLENDS = ("geometric", "arithmetic")

_EPS = 1e-7


def _blend(probas, W, blend):
    """Fuse ``probas`` (list of (n, C)) with weights ``W`` of shape (n, M) or (n, C, M)."""
    n, C = probas[0].shape
    W = W[:, None, :] if W.ndim == 2 else W
    if blend == "arithmetic":
        out = sum(W[:, :, m] * probas[m] for m in range(len(probas)))
        return out / out.sum(axis=1, keepdims=True)
    logits = sum(W[:, :, m] * np.log(np.clip(probas[m], _EPS, 1.0)) for m in range(len(probas)))
    return softmax(logits, axis=1)


def _fit_weights(probas, y_idx, blend, per_class, reg, global_w=None, temperature=1.0, learn_temperature=False):
    """Minimise the log loss of the blend over softmax-parametrised simplex weights.

    Global: ``w = softmax(theta)`` at the given temperature; for the geometric blend with
    ``learn_temperature``, the exponents ``e_m = s * w_m`` of ``p ∝ prod_m p_m ** e_m``, each in
    ``(0, 1]``, giving ``w = e / sum(e)`` and ``s = sum(e)``. Per class: row ``c`` of
    ``W = softmax(Theta_c)``, plus ``reg * sum_c ||W_c - w||^2 / C`` pulling every class
    toward the global weights, at the given temperature. Gradients are analytic.

    Returns ``(weights, temperature)``; weights are (M,) or (C, M).
    """
    P = np.stack([np.clip(p, _EPS, 1.0) for p in probas], axis=2)  # (n, C, M)
    n, C, M = P.shape
    rows = np.arange(n)
    onehot = np.zeros((n, C))
    onehot[rows, y_idx] = 1.0
    logP = np.log(P)

    def loss_grad_W(W):  # W: (C, M) effective weights; returns log loss and dL/dW
        if blend == "arithmetic":
            u = np.einsum("ncm,cm->nc", P, W)
            tot = u.sum(axis=1)
            loss = -np.mean(np.log(u[rows, y_idx]) - np.log(tot))
            coef = onehot / u[rows, y_idx][:, None] - 1.0 / tot[:, None]  # dlogp/du (n, C)
            grad = -np.einsum("nc,ncm->cm", coef, P) / n
        else:
            s = np.einsum("ncm,cm->nc", logP, W)
            lse = logsumexp(s, axis=1)
            loss = -np.mean(s[rows, y_idx] - lse)
            q = np.exp(s - lse[:, None])
            grad = -np.einsum("nc,ncm->cm", onehot - q, logP) / n
        return loss, grad

    learn_t = learn_temperature and blend == "geometric"
    if not per_class and learn_t:
        # The exponents e_m = s * w_m themselves, each in (0, 1]: p ∝ prod_m p_m ** e_m. A member
        # is trusted at most as far as its own probabilities (e_m = 1; independent members then
        # multiply). Sharpening a member beyond that fits the few out-of-fold mistakes: on wine's
        # 90 training samples, nearly separable, the unbounded s reached 5.8 and pushed two
        # mistakes of the stronger member to probabilities below 1e-9.
        def fun(e):
            loss, gW = loss_grad_W(np.tile(e, (C, 1)))
            return loss, gW.sum(axis=0)
        res = minimize(fun, np.full(M, 1.0 / M), jac=True, method="L-BFGS-B", bounds=[(1e-6, 1.0)] * M)
        return res.x / res.x.sum(), float(res.x.sum())
    if not per_class:
        def fun(x):
            w = softmax(x)
            loss, gW = loss_grad_W(np.tile(temperature * w, (C, 1)))
            g = gW.sum(axis=0)
            return loss, temperature * w * (g - w @ g)
        res = minimize(fun, np.zeros(M), jac=True, method="L-BFGS-B")
        return softmax(res.x), float(temperature)

    def fun(theta):
        W = softmax(theta.reshape(C, M), axis=1)
        loss, gW = loss_grad_W(temperature * W)
        gW = temperature * gW
        diff = W - global_w[None, :]
        loss = loss + reg * np.sum(diff ** 2) / C
        gW = gW + 2.0 * reg * diff / C
        gT = W * (gW - np.sum(W * gW, axis=1, keepdims=True))
        return loss, gT.ravel()
    theta0 = np.tile(np.log(np.clip(global_w, 1e-6, None)), C)
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B")
    return softmax(res.x.reshape(C, M), axis=1), float(temperature)


def _fit_temperature(probas, y_idx, w):
    """The sharpness ``s`` minimising the log loss of ``p ∝ prod_m p_m ** (s * w_m)``, with every ``s * w_m <= 1``."""
    logits = sum(wm * np.log(np.clip(p, _EPS, 1.0)) for wm, p in zip(w, probas))
    rows = np.arange(len(y_idx))

    def loss(tau):
        z = np.exp(tau) * logits
        return float(np.mean(logsumexp(z, axis=1) - z[rows, y_idx]))
    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, -np.log(np.max(w))), method="bounded").x))


class WeightedFusionClassifier(ModalityFusion):
    """Weighted late fusion: a convex blend of each modality pipeline's probabilities.

    Each ``(name, pipeline)`` gives class probabilities; the fused probability blends them
    with non-negative weights summing to one. With ``weights=None`` the weights minimise
    the log loss of the blend on out-of-fold probabilities from a cross-validation grouped
    by recording location (``fit(X, y, groups=...)``); given ``weights`` are used as they
    are, so ``GridSearchCV`` can tune them like any parameter.

    Parameters
    ----------
    estimators : list of (str, estimator), optional
        One ``(modality_name, estimator)`` per modality, reading that modality's pooled
        columns (see :class:`LateFusionClassifier`); parameters as ``audio__head__C``.
        ``None``: a single scaled logistic regression over all columns.
    weights : tuple of float, optional
        Fixed non-negative weights, one per estimator, normalised to sum to 1.
        ``None`` learns them.
    per_class : bool, default=False
        Also learn one weight per modality per class (``class_weights_``), each class's row
        on the simplex and pulled toward the global weights with strength ``reg``: modalities
        differ by scene (video is weak on bus and tram, for instance).
    reg : float, default=1.0
        Strength of that pull (squared distance to the global weights, averaged over
        classes, added to the log loss). Large ``reg`` gives back the global weights.
    blend : {"geometric", "arithmetic"}, default="geometric"
        ``geometric``: ``p ∝ prod_m p_m ** w_m`` (log-linear pooling); ``arithmetic``:
        ``p = sum_m w_m p_m``. Geometric (with the learnt temperature) gives the lower log
        loss on the built-in synthetic data: 0.73 against 1.69 for arithmetic on a 5,000-clip
        subset, accuracy 0.755 against 0.722, as modality errors are partly independent.
    temperature : float, optional
        Geometric blend only: the sharpness ``s`` in ``p ∝ prod_m p_m ** (s * w_m)``, which
        recalibrates over- or under-confident pipelines without leaving the simplex for the
        weights. ``None`` learns it with the weights from the out-of-fold probabilities, at
        most ``1 / max(weights_)``: no modality's probabilities are sharpened beyond their own
        (each exponent ``s * w_m <= 1``); ``1.0`` is the plain log-linear blend. The arithmetic
        blend ignores it.
    cv : int or splitter, default=5
        Internal folds for the out-of-fold probabilities (see :func:`grouped_splits`).
    random_state : int or None, default=None
        Seed of the shuffled internal folds (``None``: unshuffled) and of the default estimators.
    pooler : transformer, optional
        Pools every modality's frames once, before any cross-validation (see
        :class:`LateFusionClassifier`); tunable as ``pooler__audio__stats``. ``None``: no pooling.
    n_jobs : int, optional
        Parallel jobs over the internal folds of each modality (joblib; ``None`` is 1).
    cv_groups : {"auto", "location", "none"}, default="auto"
        ``"auto"``: internal folds grouped by ``groups`` where every class can stay in every
        training part, else stratified folds that share locations (optimistic out-of-fold
        probabilities) with one :class:`~avsc_sk.errors.CVFallbackWarning`, the reason kept in
        ``cv_fallback_`` (the heads inside then share locations too, quietly); ``"location"``:
        grouped or a DataError; ``"none"``: stratified folds. ``"location"`` and ``"none"`` are
        passed on to every head inside that takes ``cv_groups``.
    member_tuning : {"once", "nested"}, default="once"
        Where the modality estimators' heads choose their hyper-parameters: ``"once"``, by their
        grouped inner CV on all training clips (their final fit), then fixed in the out-of-fold
        fits the weights learn from (see :func:`~avsc_sk.fusion.fit_members` for why this is
        sound); ``"nested"``, again inside every internal fold (exact, several times dearer).

    Attributes
    ----------
    pooler_ : transformer or None
        The fitted pooler.
    estimators_ : list of estimator
        The modality estimators, fitted on all of the training data (on their pooled blocks).
    blocks_ : list of slice
        The pooled columns each estimator reads.
    weights_ : ndarray of shape (n_modalities,)
        The global blend weights (learnt or the normalised ``weights``).
    class_weights_ : ndarray of shape (n_classes, n_modalities)
        Only with ``per_class=True``.
    temperature_ : float
        The sharpness used (1.0 for the arithmetic blend).
    cv_fallback_ : str or None
        Why the internal folds fell back to stratified ones (``cv_groups="auto"``), or ``None``.
    class_prior_ : ndarray of shape (n_classes,)
        Each class's share of the training labels: the answer for a clip with no modality.
    modality_names_ : list of str
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    Missing modality: for a clip whose block for a modality is entirely NaN, that modality's
    estimator is left out and the weights are renormalised over the present ones, per clip; a
    clip with no modality at all gets ``class_prior_`` (with a
    :class:`~avsc_sk.fusion.NoModalityWarning`). Each member learns from the training clips
    that have its modality; the weights from the clips that have every modality.

    Examples
    --------
    >>> from avsc_sk.fusion import make_estimator
    >>> # clf = make_estimator("weighted", train.modalities).set_params(audio__head__C=0.1)
    >>> # clf.fit(train.X, train.y, groups=train.groups).weights_
    """

    def __init__(self, estimators=None, weights=None, per_class=False, reg=1.0, blend="geometric",
                 temperature=None, cv=5, random_state=None, pooler=None, n_jobs=None, cv_groups="auto",
                 member_tuning="once"):
        self.estimators = estimators
        self.weights = weights
        self.per_class = per_class
        self.reg = reg
        self.blend = blend
        self.temperature = temperature
        self.cv = cv
        self.random_state = random_state
        self.pooler = pooler
        self.n_jobs = n_jobs
        self.cv_groups = cv_groups
        self.member_tuning = member_tuning

    _what = "weighted fusion"

    def _check_params(self, n_modalities):
        if self.blend not in BLENDS:
            raise ConfigError(f"blend={self.blend!r}: expected one of {', '.join(BLENDS)}")
        if not isinstance(self.reg, numbers.Real) or self.reg < 0:
            raise ConfigError(f"reg={self.reg!r}: expected a non-negative number")
        if self.temperature is not None and not (isinstance(self.temperature, numbers.Real) and self.temperature > 0):
            raise ConfigError(f"temperature={self.temperature!r}: expected a positive number or None (learn it)")
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float).ravel()
        if len(w) != n_modalities or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ConfigError(f"weights={self.weights!r}: expected {n_modalities} non-negative numbers, not all 0")
        return w / w.sum()

    def fit(self, X, y, groups=None):
        """Fit every modality estimator on all of ``X``; learn the weights from grouped out-of-fold probabilities.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location of each clip (``FeatureSet.groups``).

        Returns
        -------
        self
        """
        X, y = self._validate(X, y)
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError("weighted fusion needs clips of at least 2 classes; the data contains only one class")
        fixed = self._check_params(len(self._estimators()))
        need_oof = fixed is None or self.per_class or (self.temperature is None and self.blend == "geometric")
        Z, y, oof, _ = self._fit_members(X, y, groups, need_oof)
        # In double precision, whatever the members' predict_proba returns (as from_members).
        return self._finish(Z, y, None if oof is None else [p.astype(np.float64) for p in oof], fixed)

    @classmethod
    def from_members(cls, members, oof_proba, X, y, **params):
        """A fitted weighted fusion from already-fitted modality estimators and their out-of-fold probabilities.

        What ``fit`` does, without training the modality estimators again (``avsc-sk compare``
        shares them between modes): given the members and out-of-fold probabilities ``fit``
        would make, the weights, temperature and predictions equal ``fit``'s.

        Parameters
        ----------
        members : list of (str, estimator)
            One fitted ``(modality_name, estimator)`` per modality, each fitted on all of ``X``
            (on its modality's pooled columns; see :meth:`LateFusionClassifier.from_members`).
        oof_proba : list of ndarray of shape (n_clips, n_classes)
            Each member's out-of-fold ``predict_proba`` on location-grouped folds (as
            :func:`grouped_splits` makes them), columns in ``np.unique(y)`` order: from clones
            with the member's chosen hyper-parameters fixed, as ``fit`` makes them with
            ``member_tuning="once"`` (:func:`~avsc_sk.fusion.fit_members` makes them either way).
        X : array-like of shape (n_clips, n_features)
            The training clips, pooled again here (pooling learns nothing).
        y : array-like of shape (n_clips,)
        **params
            Constructor parameters; ``estimators`` defaults to unfitted clones of ``members``.

        Returns
        -------
        WeightedFusionClassifier
            Fitted.
        """
        self = cls(**{"estimators": [(name, clone(est)) for name, est in members], **params})
        fixed = self._check_params(len(members))
        Z, y, oof = self._adopt(members, oof_proba, X, y)
        # In double precision, as fit collects them (whatever the members' predict_proba returns).
        return self._finish(Z, y, None if oof is None else [p.astype(np.float64) for p in oof], fixed)

    def _finish(self, Z, y, oof, fixed):
        if oof is not None:
            complete = ~missing_mask(Z, self.columns_).any(axis=1) if Z is not None else np.ones(len(y), bool)
            keep = complete if complete.any() else np.ones(len(y), dtype=bool)
            oof = [p[keep] for p in oof]
            y_idx = np.searchsorted(self.classes_, y[keep])
        learn_t = self.temperature is None and self.blend == "geometric"
        t = 1.0 if self.temperature is None or self.blend != "geometric" else float(self.temperature)
        if fixed is None:
            # A given temperature is kept: the weights are learnt at that sharpness.
            self.weights_, self.temperature_ = _fit_weights(oof, y_idx, self.blend, False, 0.0, temperature=t,
                                                            learn_temperature=learn_t)
        else:
            # Given weights stay as they are; only the sharpness is fitted for them.
            self.weights_ = fixed
            self.temperature_ = _fit_temperature(oof, y_idx, fixed) if learn_t else t
        if self.per_class:
            self.class_weights_, _ = _fit_weights(oof, y_idx, self.blend, True, float(self.reg), self.weights_,
                                                  temperature=self.temperature_)
        return self

    def predict_proba(self, X):
        """Blended class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        return self._predict_pooled(self._pooled(X))

    def _predict_pooled(self, Z):
        return self._or_prior(Z, self._blended)

    def _blended(self, Z):
        n, C = Z.shape[0], len(self.classes_)
        probas, missing = self._member_probas(Z, [np.full(C, 1.0 / C)] * len(self.estimators_))
        base = self.class_weights_ if self.per_class else self.weights_[None, :]
        W = np.broadcast_to(base, (n, *base.shape)) * (~missing)[:, None, :]
        total = W.sum(axis=2, keepdims=True)
        # A class whose learnt weight sits entirely on an absent modality falls back to equal weights.
        W = np.where(total > 0, W / np.where(total > 0, total, 1.0), (~missing)[:, None, :] / (~missing).sum(
            axis=1)[:, None, None])
        if self.blend == "geometric":
            W = W * self.temperature_
        return _blend(probas, W, self.blend)
