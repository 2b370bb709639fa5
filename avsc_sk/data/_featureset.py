"""FeatureSet: the clips of one split, every modality's frames (or their statistics) side by side in one 2-D array."""

import hashlib
import warnings

import numpy as np

from ..errors import AvscWarning, DataError
from ._clipname import parse_stem
from ._pool import check_stat_names, missing_mask, pool_frames

__all__ = ["FeatureSet", "concat_featuresets", "concat_media", "value_digest"]

_POOL_ROWS = 512


class FeatureSet:
    """Embeddings of one split, ready for scikit-learn: frames, or statistics over them.

    Every modality's block is laid side by side in one C-contiguous float32 array ``X``, so
    a whole split is one matrix that pipelines, ``ColumnTransformer`` and ``GridSearchCV``
    can take as it is. Modality ``m`` occupies the columns ``columns(m)``.

    With ``stats=None`` a block holds the clip's frames flattened (frame 0's ``dim`` values,
    then frame 1's, ...): ``n_frames * dim`` columns. With ``stats`` (e.g. ``("mean", "std")``,
    what ``read_features(..., stats=...)`` computes while reading) it holds those statistics
    over the frames, ``dim`` values each in the order named: ``len(stats) * dim`` columns; pass
    ``stats`` to :func:`avsc_sk.make_estimator` as ``input_stats``.

    A clip that lacks a modality (kept with ``allow_missing_modality``) has that
    modality's block filled with NaN; a block NaN only in part is corrupt data.

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_columns)
        Frames of every modality, flattened.
    modalities : sequence of (name, n_frames, dim)
        The modality blocks of ``X``, in column order.
    clip_ids : array-like of str
        Clip stems, e.g. ``bus-lyon-1100-40123``.
    y : array-like of str, optional
        Class labels (any strings); ``None`` for an unlabelled split.
    city, location : array-like of str, optional
        City and recording location (``city-location``, the cross-validation group); parsed
        from TAU-shaped stems when omitted. Clips with no location at all (names that do not
        parse, or an empty ``location``) are each their own group (see :attr:`groups`).
    split : str, optional
        Split name (``train``, ``val``, ``test``).
    source : str, optional
        The file(s) the data came from, for messages.
    synthetic : bool, default=False
        True for data made by :func:`avsc_sk.datasets.make_tau_like`; every output says so.
    stats : tuple of str, optional
        The statistics each block holds (``mean``, ``std``, ``max``, ``min``, ``q<quantile>``);
        ``None`` (default): the blocks hold frames.
    classes : sequence of str, optional
        The label space: the sorted unique labels of ``y`` by default (TAU data happen to
        hold the ten scenes). Given explicitly, it may name classes ``y`` lacks, never fewer.
    media : dict of str -> array-like of str, optional
        Each clip's source files by kind (``audio``, ``video``), ``""`` where a clip has none, as
        ``avsc-sk extract`` records them; ``None`` (default) when the features record no files.
        Carried through :meth:`subset`, :meth:`select` and :meth:`pool`; not part of
        :meth:`fingerprint`, so moving the media does not change a run's data hash.
    """

    def __init__(self, X, modalities, clip_ids, y=None, city=None, location=None, split=None,
                 source=None, synthetic=False, stats=None, classes=None, media=None):
        self.X = X
        self.stats = None if stats is None else check_stat_names(stats, what="FeatureSet stats")
        self._digest = None  # set by a reader that hashed the values as it read them
        self.modalities = tuple((str(n), int(f), int(d)) for n, f, d in modalities)
        self.clip_ids = np.asarray(clip_ids, dtype=object)
        self.y = None if y is None else np.asarray(y, dtype=object).astype(str).astype(object)
        if city is None or location is None:
            parsed = _parse_all(self.clip_ids, source)
            if parsed is None:
                city = [""] * len(self.clip_ids) if city is None else city
            else:
                city = [p.city for p in parsed] if city is None else city
                location = [p.identifier for p in parsed] if location is None else location
        if location is None or (len(self.clip_ids) and all(str(g) == "" for g in location)):
            location = self.clip_ids.copy()  # no groups: each clip its own (see groups)
        self.city = np.asarray(city, dtype=object)
        self.location = np.asarray(location, dtype=object)
        labels = () if self.y is None else sorted(set(map(str, self.y.tolist())))
        self.classes = tuple(labels) if classes is None else tuple(str(c) for c in classes)
        self.split = split
        self.source = source
        self.synthetic = bool(synthetic)
        self.media = None if media is None else {str(k): np.asarray(v, dtype=object) for k, v in media.items()}
        self._check()

    def _check(self):
        where = self.source or "features"
        if self.X.ndim != 2:
            raise DataError(f"{where}: features must be 2-D (clips x columns), got shape {self.X.shape}")
        n = self.X.shape[0]
        width = sum(self._width(f, d) for _, f, d in self.modalities)
        if width != self.X.shape[1]:
            held = "frames" if self.stats is None else f"statistics {list(self.stats)}"
            raise DataError(
                f"{where}: modalities {self.modalities} holding {held} span {width} columns but X has {self.X.shape[1]}"
            )
        names = [m[0] for m in self.modalities]
        if len(set(names)) != len(names):
            raise DataError(f"{where}: duplicate modality names {names}")
        for name, arr in (("clip_ids", self.clip_ids), ("y", self.y), ("city", self.city),
                          ("location", self.location),
                          *((f"media[{k!r}]", v) for k, v in (self.media or {}).items())):
            if arr is not None and len(arr) != n:
                raise DataError(f"{where}: {name} has {len(arr)} entries for {n} clips")
        if n and len(set(self.clip_ids.tolist())) != n:
            seen, dup = set(), []
            for c in self.clip_ids:
                (dup.append(c) if c in seen else seen.add(c))
            raise DataError(f"{where}: {len(dup)} duplicate clip id(s), e.g. {', '.join(map(str, dup[:3]))}; "
                            "each clip must appear once per split")
        if len(set(self.classes)) != len(self.classes):
            raise DataError(f"{where}: duplicate classes in {list(self.classes)}; name each class once")
        if self.y is not None:
            if any(str(v) == "" for v in self.y.tolist()):
                raise DataError(f"{where}: some clips have an empty label; label every clip or none")
            bad = sorted(set(map(str, self.y.tolist())) - set(self.classes))
            if bad:
                raise DataError(f"{where}: label(s) {bad[:3]} outside the classes {list(self.classes)}; "
                                "add them to classes or leave classes to the labels")

    # -- shape -----------------------------------------------------------------
    @property
    def n_clips(self):
        return self.X.shape[0]

    @property
    def modality_names(self):
        return tuple(m[0] for m in self.modalities)

    @property
    def groups(self):
        """Recording location of each clip: the groups for leak-free cross-validation.

        Data without locations have each clip as its own group (grouped cross-validation is
        then ordinary cross-validation), which a warning says whenever the groups are used.
        """
        if self.n_clips > 1 and np.array_equal(self.location, self.clip_ids):
            warnings.warn(f"{self.source or 'the features'} hold no recording locations (groups); each clip is "
                          "its own group, so grouped cross-validation is ordinary cross-validation: give "
                          "groups with --meta clips.csv (column group)", AvscWarning, stacklevel=2)
        return self.location

    def _width(self, n_frames, dim):
        return n_frames * dim if self.stats is None else len(self.stats) * dim

    def columns(self, name):
        """Column slice of modality ``name`` in ``X``."""
        start = 0
        for m, f, d in self.modalities:
            if m == name:
                return slice(start, start + self._width(f, d))
            start += self._width(f, d)
        raise DataError(f"{self.source or 'features'}: no modality {name!r}; "
                        f"available: {', '.join(self.modality_names)}")

    def frames(self, name):
        """View of modality ``name`` as ``(n_clips, n_frames, dim)``; only for a FeatureSet of frames."""
        cols = self.columns(name)
        if self.stats is not None:
            raise DataError(f"{self.source or 'features'}: these features hold the statistics {list(self.stats)}, "
                            "not frames; read them with stats=None to get frames")
        _, f, d = self.modalities[self.modality_names.index(name)]
        return self.X[:, cols].reshape(self.n_clips, f, d)

    def missing(self):
        """Boolean array ``(n_clips, n_modalities)``: True where a clip lacks that modality (its block all NaN)."""
        return missing_mask(self.X, [self.columns(m) for m in self.modality_names])

    def pool(self, stats=("mean",)):
        """The same clips with every modality's frames pooled into ``stats`` (a new FeatureSet).

        Parameters
        ----------
        stats : tuple of str, default=("mean",)
            Statistics over the frames, as for :func:`avsc_sk.data.read_features`.

        Returns
        -------
        FeatureSet
            With ``stats`` set and ``len(stats) * dim`` columns per modality.
        """
        stats = check_stat_names(stats)
        if self.stats is not None:
            raise DataError(f"{self.source or 'features'}: these features hold statistics already "
                            f"({list(self.stats)}); pool a FeatureSet of frames")
        X = np.empty((self.n_clips, sum(len(stats) * d for _, _, d in self.modalities)), dtype=self.X.dtype)
        start = 0
        for name, f, d in self.modalities:
            frames = self.frames(name)
            for r in range(0, self.n_clips, _POOL_ROWS):  # bounds the copies pooling makes
                X[r:r + _POOL_ROWS, start:start + len(stats) * d] = pool_frames(frames[r:r + _POOL_ROWS], stats)
            start += len(stats) * d
        return FeatureSet(X, self.modalities, self.clip_ids, self.y, self.city, self.location, self.split,
                          self.source, self.synthetic, stats=stats, classes=self.classes, media=self.media)

    # -- derived sets -------------------------------------------------------------
    def subset(self, index):
        """Clips selected by an index array or boolean mask (a copy)."""
        index = np.asarray(index)
        return FeatureSet(
            np.ascontiguousarray(self.X[index]), self.modalities, self.clip_ids[index],
            None if self.y is None else self.y[index], self.city[index], self.location[index],
            self.split, self.source, self.synthetic, self.stats, self.classes,
            None if self.media is None else {k: v[index] for k, v in self.media.items()},
        )

    def select(self, names):
        """Only the modalities ``names``, in that order (a copy)."""
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            self.columns(name)  # raises a clear error for an unknown name
        mods = [self.modalities[self.modality_names.index(n)] for n in names]
        X = np.ascontiguousarray(np.hstack([self.X[:, self.columns(n)] for n in names]))
        return FeatureSet(X, mods, self.clip_ids, self.y, self.city, self.location, self.split,
                          self.source, self.synthetic, self.stats, self.classes, self.media)

    def fingerprint(self):
        """A short content hash of X, its layout, clip ids and labels (the run manifest's data hash).

        A reader hashes the values as it reads them, so for a FeatureSet just read this costs no
        pass over ``X``; otherwise ``X`` is hashed here.
        """
        h = self._digest.copy() if self._digest is not None else value_digest(self.modalities, self.stats, self.X)
        h.update("\n".join(map(str, self.clip_ids)).encode())
        if self.y is not None:
            h.update("\n".join(map(str, self.y)).encode())
        return h.hexdigest()

    def __repr__(self):
        mods = ", ".join(f"{n}: {f}x{d}" for n, f, d in self.modalities)
        pooled = f", stats {'/'.join(self.stats)}" if self.stats is not None else ""
        syn = ", synthetic" if self.synthetic else ""
        return f"FeatureSet(split={self.split!r}, {self.n_clips} clips, {mods}{pooled}{syn})"


def value_digest(modalities, stats, X=None):
    """The running hash of a FeatureSet's values: its layout, then ``X`` row after row (if given).

    Hashing rows in order gives the same digest whether ``X`` is fed whole or chunk by chunk,
    which is how readers hash while reading.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tuple(modalities)).encode())
    if stats is not None:
        h.update(repr(tuple(stats)).encode())
    if X is not None:
        h.update(np.ascontiguousarray(X).view(np.uint8).data)
    return h


def concat_featuresets(sets):
    """Stack the clips of several FeatureSets with identical modalities (e.g. train + val)."""
    sets = list(sets)
    if len(sets) == 1:
        return sets[0]
    first = sets[0]
    for s in sets[1:]:
        if s.modalities != first.modalities:
            raise DataError(f"cannot join splits with different modalities: {first.modalities} vs {s.modalities}")
        if s.stats != first.stats:
            raise DataError(f"cannot join splits holding different statistics: {first.stats} vs {s.stats}")
    labelled = all(s.y is not None for s in sets)
    return FeatureSet(
        np.concatenate([s.X for s in sets]), first.modalities,
        np.concatenate([s.clip_ids for s in sets]),
        np.concatenate([s.y for s in sets]) if labelled else None,
        np.concatenate([s.city for s in sets]), np.concatenate([s.location for s in sets]),
        "+".join(str(s.split) for s in sets), first.source, any(s.synthetic for s in sets), first.stats,
        sorted(set().union(*(s.classes for s in sets))),
        concat_media([s.media for s in sets], [s.n_clips for s in sets]),
    )


def concat_media(parts, sizes):
    """The media of stacked clip sets: ``None`` when no part records any, else ``""`` for the parts that lack a kind."""
    if all(m is None for m in parts):
        return None
    kinds = sorted(set().union(*(m for m in parts if m is not None)))
    return {k: np.concatenate([np.asarray((m or {}).get(k, [""] * n), dtype=object) for m, n in zip(parts, sizes)])
            for k in kinds}


def _parse_all(clip_ids, source):
    """Every stem parsed as a TAU clip name, or ``None`` when none of them is one (clips named otherwise)."""
    if len(clip_ids) and not _is_tau(clip_ids[0]) and not any(_is_tau(s) for s in clip_ids):
        return None
    return [parse_stem(s, source=source) for s in clip_ids]  # a mix: the error names the odd one out


def _is_tau(stem):
    try:
        parse_stem(stem)
    except DataError:
        return False
    return True
