"""FeatureSet: the clips of one split, every modality's frames side by side in one 2-D array."""

import hashlib

import numpy as np

from ..errors import DataError
from ._clipname import SCENES, parse_stem

__all__ = ["FeatureSet", "concat_featuresets"]


class FeatureSet:
    """Frame-level embeddings of one split, ready for scikit-learn.

    Every modality's frames are flattened and laid side by side in one C-contiguous
    float32 array ``X`` of shape ``(n_clips, sum(n_frames * dim))``, so a whole split
    is one matrix that pipelines, ``ColumnTransformer`` and ``GridSearchCV`` can take
    as it is. Modality ``m`` occupies the columns ``columns(m)``; within them a clip's
    frames are contiguous (frame 0's ``dim`` values, then frame 1's, ...).

    A clip that lacks a modality (kept with ``allow_missing_modality``) has that
    modality's block filled with NaN.

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_columns)
        Frames of every modality, flattened.
    modalities : sequence of (name, n_frames, dim)
        The modality blocks of ``X``, in column order.
    clip_ids : array-like of str
        Clip stems, e.g. ``bus-lyon-1100-40123``.
    y : array-like of str, optional
        Scene labels; ``None`` for an unlabelled split.
    city, location : array-like of str, optional
        City and recording location (``city-location``); parsed from the stems when omitted.
    split : str, optional
        Split name (``train``, ``val``, ``test``).
    source : str, optional
        The file(s) the data came from, for messages.
    synthetic : bool, default=False
        True for data made by :func:`avsc_sk.datasets.make_tau_like`; every output says so.
    """

    def __init__(self, X, modalities, clip_ids, y=None, city=None, location=None, split=None,
                 source=None, synthetic=False):
        self.X = X
        self.modalities = tuple((str(n), int(f), int(d)) for n, f, d in modalities)
        self.clip_ids = np.asarray(clip_ids, dtype=object)
        self.y = None if y is None else np.asarray(y, dtype=object)
        if city is None or location is None:
            parsed = [parse_stem(s, source=source) for s in self.clip_ids]
            city = [p.city for p in parsed] if city is None else city
            location = [p.identifier for p in parsed] if location is None else location
        self.city = np.asarray(city, dtype=object)
        self.location = np.asarray(location, dtype=object)
        self.split = split
        self.source = source
        self.synthetic = bool(synthetic)
        self._check()

    def _check(self):
        where = self.source or "features"
        if self.X.ndim != 2:
            raise DataError(f"{where}: features must be 2-D (clips x columns), got shape {self.X.shape}")
        n = self.X.shape[0]
        width = sum(f * d for _, f, d in self.modalities)
        if width != self.X.shape[1]:
            raise DataError(
                f"{where}: modalities {self.modalities} span {width} columns but X has {self.X.shape[1]}"
            )
        names = [m[0] for m in self.modalities]
        if len(set(names)) != len(names):
            raise DataError(f"{where}: duplicate modality names {names}")
        for name, arr in (("clip_ids", self.clip_ids), ("y", self.y), ("city", self.city),
                          ("location", self.location)):
            if arr is not None and len(arr) != n:
                raise DataError(f"{where}: {name} has {len(arr)} entries for {n} clips")
        if n and len(set(self.clip_ids.tolist())) != n:
            seen, dup = set(), []
            for c in self.clip_ids:
                (dup.append(c) if c in seen else seen.add(c))
            raise DataError(f"{where}: {len(dup)} duplicate clip id(s), e.g. {', '.join(map(str, dup[:3]))}; "
                            "each clip must appear once per split")
        if self.y is not None:
            bad = sorted(set(self.y.tolist()) - set(SCENES))
            if bad:
                raise DataError(f"{where}: unknown scene label(s) {bad[:3]}; expected one of {', '.join(SCENES)}")

    # -- shape -----------------------------------------------------------------
    @property
    def n_clips(self):
        return self.X.shape[0]

    @property
    def modality_names(self):
        return tuple(m[0] for m in self.modalities)

    @property
    def groups(self):
        """Recording location of each clip: the groups for leak-free cross-validation."""
        return self.location

    def columns(self, name):
        """Column slice of modality ``name`` in ``X``."""
        start = 0
        for m, f, d in self.modalities:
            if m == name:
                return slice(start, start + f * d)
            start += f * d
        raise DataError(f"{self.source or 'features'}: no modality {name!r}; "
                        f"available: {', '.join(self.modality_names)}")

    def frames(self, name):
        """View of modality ``name`` as ``(n_clips, n_frames, dim)``."""
        cols = self.columns(name)
        _, f, d = self.modalities[self.modality_names.index(name)]
        return self.X[:, cols].reshape(self.n_clips, f, d)

    def missing(self):
        """Boolean array ``(n_clips, n_modalities)``: True where a clip lacks that modality."""
        return np.column_stack([np.isnan(self.X[:, self.columns(m)][:, 0]) for m in self.modality_names]) \
            if self.n_clips else np.zeros((0, len(self.modalities)), dtype=bool)

    # -- derived sets -------------------------------------------------------------
    def subset(self, index):
        """Clips selected by an index array or boolean mask (a copy)."""
        index = np.asarray(index)
        return FeatureSet(
            np.ascontiguousarray(self.X[index]), self.modalities, self.clip_ids[index],
            None if self.y is None else self.y[index], self.city[index], self.location[index],
            self.split, self.source, self.synthetic,
        )

    def select(self, names):
        """Only the modalities ``names``, in that order (a copy)."""
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            self.columns(name)  # raises a clear error for an unknown name
        mods = [self.modalities[self.modality_names.index(n)] for n in names]
        X = np.ascontiguousarray(np.hstack([self.X[:, self.columns(n)] for n in names]))
        return FeatureSet(X, mods, self.clip_ids, self.y, self.city, self.location, self.split,
                          self.source, self.synthetic)

    def fingerprint(self):
        """A short content hash of X, clip ids and labels (the run manifest's data hash)."""
        h = hashlib.blake2b(digest_size=16)
        h.update(repr(self.modalities).encode())
        h.update(np.ascontiguousarray(self.X).view(np.uint8).data)
        h.update("\n".join(map(str, self.clip_ids)).encode())
        if self.y is not None:
            h.update("\n".join(map(str, self.y)).encode())
        return h.hexdigest()

    def __repr__(self):
        mods = ", ".join(f"{n}: {f}x{d}" for n, f, d in self.modalities)
        syn = ", synthetic" if self.synthetic else ""
        return f"FeatureSet(split={self.split!r}, {self.n_clips} clips, {mods}{syn})"


def concat_featuresets(sets):
    """Stack the clips of several FeatureSets with identical modalities (e.g. train + val)."""
    sets = list(sets)
    if len(sets) == 1:
        return sets[0]
    first = sets[0]
    for s in sets[1:]:
        if s.modalities != first.modalities:
            raise DataError(f"cannot join splits with different modalities: {first.modalities} vs {s.modalities}")
    labelled = all(s.y is not None for s in sets)
    return FeatureSet(
        np.concatenate([s.X for s in sets]), first.modalities,
        np.concatenate([s.clip_ids for s in sets]),
        np.concatenate([s.y for s in sets]) if labelled else None,
        np.concatenate([s.city for s in sets]), np.concatenate([s.location for s in sets]),
        "+".join(str(s.split) for s in sets), first.source, any(s.synthetic for s in sets),
    )
