"""Statistics over the frames of a clip: the one pooling routine readers and FramePooler share.

A statistic is named ``mean``, ``std``, ``max``, ``min`` or ``q<quantile>`` (``q0.5`` is the
median). Pooling a block of clips gives, per statistic in the order named, ``dim`` values.
"""

import numpy as np

from ..errors import ConfigError, DataError

__all__ = ["POOLING_STATS", "check_stat_names", "stat_names", "pool_frames", "missing_rows", "missing_mask"]

#: Statistics over frames besides quantiles, in their canonical order.
POOLING_STATS = ("mean", "std", "max", "min")

# Values per block of the missing check: bounds its temporary boolean array to 16 MB.
_CHECK_CELLS = 1 << 24

_REDUCE = {
    "std": lambda f: f.std(axis=1),
    "max": lambda f: f.max(axis=1),
    "min": lambda f: f.min(axis=1),
}


def stat_names(stats=("mean",), quantiles=()):
    """The statistic names of ``stats`` followed by one ``q<q>`` name per quantile."""
    stats = (stats,) if isinstance(stats, str) else tuple(stats)
    return (*stats, *(f"q{float(q)!r}" for q in quantiles))  # repr: exact, so names round-trip


def _quantile(name):
    try:
        q = float(name[1:])
    except ValueError:
        return None
    return q if name.startswith("q") and 0.0 <= q <= 1.0 else None


def check_stat_names(names, *, what="pooling statistics"):
    """``names`` as a tuple of valid, distinct statistic names, or a ConfigError naming the bad one."""
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ConfigError(f"{what}: at least one statistic is needed, e.g. ('mean',)")
    for name in names:
        if not isinstance(name, str) or (name not in POOLING_STATS and _quantile(name) is None):
            raise ConfigError(f"{what}: unknown statistic {name!r}; expected any of {', '.join(POOLING_STATS)} "
                              "or a quantile such as 'q0.5'")
    if len(set(names)) != len(names):
        raise ConfigError(f"{what}: {list(names)} names a statistic twice")
    return names


def _part_nan(i):
    return (f"row {i}: NaN or infinity in part of the frames; NaN is reserved for a whole missing modality "
            "(every value of the block NaN): fix or drop that clip")


def _check_odd(rows, odd, describe):
    """Of the rows ``odd`` (whose sums are not finite), which are wholly NaN; a DataError for any other."""
    sub = rows[odd].reshape(len(odd), -1)
    nan = np.isnan(sub).all(axis=1)
    if not nan.all():
        raise DataError((describe or _part_nan)(int(odd[np.argmin(nan)])))
    return nan


def missing_rows(block, describe=None):
    """Boolean ``(n,)``: rows of the 2-D ``block`` that are all NaN; a DataError for any other NaN or inf.

    ``describe(i)`` gives the error message for row ``i``.
    """
    # The row sums find NaN/inf in one cheap pass; only odd rows are looked at closely.
    odd = np.flatnonzero(~np.isfinite(np.add.reduce(block, axis=1)))
    out = np.zeros(block.shape[0], dtype=bool)
    if len(odd):
        out[odd] = _check_odd(block, odd, describe)
    return out


def pool_frames(frames, names, describe=None, *, first_row=0):
    """Pool ``frames`` of shape ``(n_clips, n_frames, dim)`` into ``(n_clips, len(names) * dim)``.

    A clip whose frames are all NaN (a missing modality) pools to NaN. Any other NaN or inf
    is refused: NaN stands only for a whole missing block, so part-NaN frames would otherwise
    pool to NaN and be taken for a missing modality.

    Parameters
    ----------
    frames : ndarray of shape (n_clips, n_frames, dim)
    names : tuple of str
        Statistic names (see :func:`stat_names`).
    describe : callable, optional
        ``describe(i)`` is the error message for bad row ``i``.
    first_row : int, default=0
        The index the default message gives row 0 (when pooling a chunk of a larger array).

    Raises
    ------
    DataError
        For NaN or inf in part of a clip's frames.
    """
    n, n_frames, dim = frames.shape
    # The sums find NaN/inf for free (the mean needs them anyway); only odd rows are looked at closely.
    total = np.add.reduce(frames, axis=1)
    odd = np.flatnonzero(~np.isfinite(total).all(axis=1))
    if len(odd):
        _check_odd(frames, odd, describe or (lambda i: _part_nan(first_row + i)))
    out = np.empty((n, dim * len(names)), dtype=frames.dtype)
    quantiles = [(k, _quantile(s)) for k, s in enumerate(names) if s not in POOLING_STATS]
    for k, name in enumerate(names):
        if name == "mean":
            out[:, k * dim:(k + 1) * dim] = total / n_frames
        elif name in _REDUCE:
            out[:, k * dim:(k + 1) * dim] = _REDUCE[name](frames)
    if quantiles:
        values = np.quantile(frames, [q for _, q in quantiles], axis=1)
        for (k, _), v in zip(quantiles, values):
            out[:, k * dim:(k + 1) * dim] = v
    return out


def missing_mask(X, column_sets):
    """Boolean ``(n_clips, n_sets)``: True where every column of that set is NaN, a missing modality.

    The one definition of "missing" used by FeatureSet, the poolers and the fusion estimators;
    a block NaN only in part is corrupt data, refused where it is pooled or read.
    """
    out = np.zeros((X.shape[0], len(column_sets)), dtype=bool)
    for k, cols in enumerate(column_sets):
        if not isinstance(cols, slice):
            cols = np.asarray(cols)
            if len(cols) and cols[-1] - cols[0] + 1 == len(cols):
                cols = slice(cols[0], cols[-1] + 1)  # a view, not a copy
        width = X[:1, cols].shape[1]
        if not width:
            continue
        step = max(1, _CHECK_CELLS // width)  # bounds the temporary mask on frame-sized blocks
        for r in range(0, X.shape[0], step):
            out[r:r + step, k] = np.isnan(X[r:r + step, cols]).all(axis=1)
    return out
