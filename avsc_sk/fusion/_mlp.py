"""A small numpy network for intermediate fusion: per-modality branches, concatenation, shared layers.

Branch ``m``: ``Linear(d_m, hidden, no bias) -> BatchNorm -> ReLU -> Dropout -> Linear(hidden, embed)``
(the bias before batch norm is dropped: batch norm subtracts it again). Shared:
``concat -> Linear(M * embed, shared) -> ReLU -> Linear(shared, n_classes)``. Trained with
softmax cross-entropy and Adam. Everything is float32 during training (BLAS sgemm is about
twice as fast as dgemm) and float64 at prediction, where speed does not matter but
reproducibility across batch sizes does.
"""

import numpy as np

__all__ = ["MLPNetwork"]

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1  # PyTorch's convention: running = (1 - m) * running + m * batch


def _init_linear(rng, fan_in, fan_out, bias=True):
    # PyTorch's default nn.Linear initialisation, so the reference comparison is like for like.
    bound = 1.0 / np.sqrt(fan_in)
    W = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
    b = rng.uniform(-bound, bound, size=fan_out).astype(np.float32) if bias else None
    return W, b


class MLPNetwork:
    """Parameters, forward, backward and one Adam step of the intermediate-fusion network.

    Parameters
    ----------
    in_dims : list of int
        Input size of each modality branch.
    hidden, embed, shared, n_classes : int
    dropout : float
    rng : numpy.random.Generator
        Used for initialisation here and passed again for dropout masks.
    """

    def __init__(self, in_dims, hidden, embed, shared, n_classes, dropout, rng):
        self.in_dims = list(in_dims)
        self.dropout = float(dropout)
        p = {}
        for m, d in enumerate(self.in_dims):
            p[f"W1_{m}"], _ = _init_linear(rng, d, hidden, bias=False)
            p[f"g_{m}"] = np.ones(hidden, np.float32)
            p[f"be_{m}"] = np.zeros(hidden, np.float32)
            p[f"W2_{m}"], p[f"b2_{m}"] = _init_linear(rng, hidden, embed)
        p["W3"], p["b3"] = _init_linear(rng, embed * len(self.in_dims), shared)
        p["W4"], p["b4"] = _init_linear(rng, shared, n_classes)
        self.params = p
        self.running = {m: [np.zeros(hidden, np.float32), np.ones(hidden, np.float32)]
                        for m in range(len(self.in_dims))}
        self._adam = None

    # -- inference -----------------------------------------------------------------------
    def logits(self, Xs):
        """Eval-mode forward pass (running batch-norm statistics, no dropout), in float64."""
        p = {k: v.astype(np.float64) for k, v in self.params.items()}
        embeds = []
        for m, x in enumerate(Xs):
            mean, var = (r.astype(np.float64) for r in self.running[m])
            h = np.asarray(x, np.float64) @ p[f"W1_{m}"]
            h = (h - mean) / np.sqrt(var + _BN_EPS) * p[f"g_{m}"] + p[f"be_{m}"]
            embeds.append(np.maximum(h, 0.0) @ p[f"W2_{m}"] + p[f"b2_{m}"])
        z = np.concatenate(embeds, axis=1)
        h3 = np.maximum(z @ p["W3"] + p["b3"], 0.0)
        return h3 @ p["W4"] + p["b4"]

    # -- training ------------------------------------------------------------------------
    def train_step(self, Xs, y, rng, lr, weight_decay, t, beta1=0.9, beta2=0.999, eps=1e-8, sample_weight=None):
        """Forward + backward on one batch in train mode, then one Adam update; returns the batch loss.

        ``weight_decay`` is L2 added to the gradient of every parameter, as ``torch.optim.Adam`` does.
        ``sample_weight`` (one per clip of the batch) makes the loss the weighted mean cross-entropy.
        """
        p = self.params
        B = y.shape[0]
        keep = 1.0 - self.dropout
        cache, embeds = [], []
        for m, x in enumerate(Xs):
            h = x @ p[f"W1_{m}"]
            mu = h.mean(axis=0)
            var = h.var(axis=0)
            inv = 1.0 / np.sqrt(var + _BN_EPS)
            xhat = (h - mu) * inv
            bn = xhat * p[f"g_{m}"] + p[f"be_{m}"]
            r = np.maximum(bn, 0.0)
            mask = (rng.random(r.shape, dtype=np.float32) < keep).astype(np.float32) / keep if self.dropout else None
            d = r * mask if mask is not None else r
            embeds.append(d @ p[f"W2_{m}"] + p[f"b2_{m}"])
            cache.append((x, xhat, inv, bn, mask, d))
            run = self.running[m]
            run[0] = (1 - _BN_MOMENTUM) * run[0] + _BN_MOMENTUM * mu
            run[1] = (1 - _BN_MOMENTUM) * run[1] + _BN_MOMENTUM * var * (B / max(B - 1, 1))
        z = np.concatenate(embeds, axis=1)
        h3 = z @ p["W3"] + p["b3"]
        r3 = np.maximum(h3, 0.0)
        logits = r3 @ p["W4"] + p["b4"]
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        prob = e / e.sum(axis=1, keepdims=True)
        share = np.full(B, 1.0 / B) if sample_weight is None else sample_weight / sample_weight.sum()
        loss = -float(np.sum(share * np.log(np.maximum(prob[np.arange(B), y], 1e-12))))

        g = {}
        dlog = prob
        dlog[np.arange(B), y] -= 1.0
        dlog *= share[:, None].astype(dlog.dtype)
        g["W4"] = r3.T @ dlog
        g["b4"] = dlog.sum(axis=0)
        dh3 = (dlog @ p["W4"].T) * (h3 > 0)
        g["W3"] = z.T @ dh3
        g["b3"] = dh3.sum(axis=0)
        dz = dh3 @ p["W3"].T
        E = p["b2_0"].shape[0]
        for m, (x, xhat, inv, bn, mask, d) in enumerate(cache):
            de = dz[:, m * E:(m + 1) * E]
            g[f"W2_{m}"] = d.T @ de
            g[f"b2_{m}"] = de.sum(axis=0)
            dd = de @ p[f"W2_{m}"].T
            dbn = (dd * mask if mask is not None else dd) * (bn > 0)
            g[f"g_{m}"] = (dbn * xhat).sum(axis=0)
            g[f"be_{m}"] = dbn.sum(axis=0)
            dxhat = dbn * p[f"g_{m}"]
            dh = (inv / B) * (B * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
            g[f"W1_{m}"] = x.T @ dh

        if self._adam is None:
            self._adam = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in p.items()}
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        for k, v in p.items():
            grad = g[k].astype(np.float32, copy=False)
            if weight_decay:
                grad = grad + weight_decay * v
            m1, m2 = self._adam[k]
            m1 *= beta1
            m1 += (1 - beta1) * grad
            m2 *= beta2
            m2 += (1 - beta2) * grad * grad
            v -= (lr / c1) * m1 / (np.sqrt(m2 / c2) + eps)
        return loss

    def state(self):
        """A copy of the parameters and running statistics (for restoring the best epoch)."""
        return ({k: v.copy() for k, v in self.params.items()},
                {m: [r[0].copy(), r[1].copy()] for m, r in self.running.items()})

    def load_state(self, state):
        self.params, self.running = state

    def drop_optimizer(self):
        """Free the Adam moments once training is over (smaller pickles)."""
        self._adam = None
