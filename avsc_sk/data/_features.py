"""The public feature I/O: read any layout into a FeatureSet, write any layout, convert to native."""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_dir, atomic_path, check_output
from ..errors import ConfigError, DataError
from ._detect import NATIVE_FILE, SPLITS, canonical_split, detect_layout, parse_splits, resolve_layout
from ._featureset import FeatureSet, concat_media, value_digest
from ._layout_a import plan_a, splits_a, write_a
from ._layout_b import plan_b, splits_b, write_b
from ._meta import apply_meta, meta_splits, read_meta
from ._native import plan_native, splits_native, write_native
from ._npy import plan_npy, splits_npy
from ._pool import check_stat_names, missing_rows, pool_frames

__all__ = ["read_features", "write_features", "convert_features", "list_splits", "detect_layout"]

_PLANNERS = {"native": plan_native, "A": plan_a, "B": plan_b, "npy": plan_npy}
_SPLIT_LISTERS = {"native": splits_native, "A": splits_a, "B": splits_b, "npy": splits_npy}
# Frame values per read chunk, all modalities together: 2^24 float32 = 64 MB, the bound on what
# reading adds to memory beyond the result (about 340 clips of 2 x 96 x 512).
_CHUNK_CELLS = 1 << 24


def _created_by():
    from .. import __version__

    return f"avsc-sk {__version__}"


def _check_max_frames(max_frames):
    if max_frames is None:
        return None
    if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1:
        raise ConfigError(f"max_frames={max_frames!r} must be a positive integer or None (keep every frame)")
    return int(max_frames)


def list_splits(path):
    """Canonical names of the splits stored at ``path``, in the order train, val, test.

    Parameters
    ----------
    path : str or path-like
        Features in any layout (see :func:`read_features`).

    Returns
    -------
    list of str
    """
    layout, location = resolve_layout(path)
    return _SPLIT_LISTERS[layout](location)


def read_features(path, split="train", *, max_frames=96, modalities=None, allow_missing_modality=False,
                  stats=None):
    """Read one or more splits of embeddings into a :class:`FeatureSet`: frames, or statistics over them.

    The layout is detected from ``path`` (see :func:`detect_layout`). Every modality
    found is read (``audio`` first, then ``video``, then others alphabetically), clips are
    matched across modalities by their stem, and labels come from the files. Clips are read
    in bounded chunks; with ``stats`` each chunk is pooled at once and only the statistics are
    kept, so memory follows the pooled size, not the frame count.

    Parameters
    ----------
    path : str or path-like
        A native ``.h5`` file (or a folder holding ``features.h5``), a layout-A root
        (holding ``<mod>_features_data/<split>.hdf5``), a layout-B root (holding
        ``features_data/``, or ``features_data`` itself), or plain arrays from any
        extractor: a folder of ``<modality>.npy`` files with ``clips.csv``, or one ``.npz``
        (see :mod:`avsc_sk.data._npy`).
    split : str, default="train"
        ``train``, ``val`` or ``test`` (aliases ``tr``, ``tt``, ``evaluate``), or several
        joined by ``+`` or ``,`` (``"train+val"``), stacked in that order.
    max_frames : int or None, default=96
        Keep at most this many frames per clip (OpenL3 gives 96, or 97 for a few clips);
        None keeps all. Every clip of a modality must then have the same frame count.
    modalities : str or sequence of str, optional
        The modalities to read, in column order; default all found.
    allow_missing_modality : bool, default=False
        Keep clips that lack a modality, with that block filled with NaN, instead of
        raising. Clips that lack every selected modality are dropped.
    stats : tuple of str, optional
        Statistics over each clip's kept frames to compute while reading, in output order:
        any of ``mean``, ``std``, ``max``, ``min`` and quantiles ``q<q>`` (``q0.5``). ``None``
        (default) keeps the frames themselves.

    Returns
    -------
    FeatureSet
        ``X`` is one C-contiguous float32 array, filled in place (never concatenated), with
        ``n_frames * dim`` columns per modality, or ``len(stats) * dim`` with ``stats``. ``media``
        holds the clips' source files where a native file records them (``avsc-sk extract``),
        else ``None``.

    Raises
    ------
    DataError
        For a missing path or split, an unreadable/truncated file, an empty split,
        malformed shapes, a label that disagrees with the clip name, NaN/inf values,
        clips too short for ``max_frames``, or clips present in only some modalities.

    Examples
    --------
    >>> fs = read_features("features/", "train+val")  # doctest: +SKIP
    >>> fs.X.shape  # doctest: +SKIP
    (8646, 98304)
    >>> read_features("features/", "train+val", stats=("mean", "std")).X.shape  # doctest: +SKIP
    (8646, 2048)
    """
    max_frames = _check_max_frames(max_frames)
    stats = None if stats is None else check_stat_names(stats, what="read_features stats")
    splits = parse_splits(split)
    layout, location = resolve_layout(path)
    plan = _PLANNERS[layout]
    plans = [plan(location, s, modalities=modalities, max_frames=max_frames,
                  allow_missing_modality=allow_missing_modality) for s in splits]
    mods = plans[0].modalities
    for p in plans[1:]:
        if p.modalities != mods:
            raise DataError(
                f"splits {plans[0].split!r} and {p.split!r} of {path} hold different modalities "
                f"({mods} vs {p.modalities}); read them separately or pass max_frames/modalities to match them"
            )
    n = sum(p.n_clips for p in plans)
    X = np.empty((n, sum(d * (f if stats is None else len(stats)) for _, f, d in mods)), dtype=np.float32)
    # Frames are hashed as they are read (pooled values are small enough to hash afterwards).
    digest = value_digest(mods, None) if stats is None else None
    missing, row = [], 0
    for p in plans:
        missing.append(_read_plan(p, X[row:row + p.n_clips], stats, digest))
        p.check_missing(missing[-1], allow_missing_modality)
        row += p.n_clips

    def cat(attr):
        return np.concatenate([getattr(p, attr) for p in plans])

    clip_ids, city, location_ids = cat("clip_ids"), cat("city"), cat("location")
    y = cat("y") if all(p.y is not None for p in plans) else None
    media = concat_media([p.media for p in plans], [p.n_clips for p in plans])
    empty = np.concatenate(missing).all(axis=1)
    if empty.any():
        keep = np.flatnonzero(~empty)
        if not len(keep):
            raise DataError(f"no clip of split {split!r} in {path} has any of the modalities "
                            f"{', '.join(m[0] for m in mods)}; select others")
        # Compact in place (rows only move up), so no second copy of X is made.
        for new, old in enumerate(keep):
            if new != old:
                X[new] = X[old]
        X = X[:len(keep)]
        clip_ids, city, location_ids = clip_ids[keep], city[keep], location_ids[keep]
        y = None if y is None else y[keep]
        media = None if media is None else {k: v[keep] for k, v in media.items()}
        digest = None  # rows were dropped: hash what is left when asked
    fs = FeatureSet(X, mods, clip_ids, y, city, location_ids, split="+".join(splits), source=str(path),
                    synthetic=any(p.synthetic for p in plans), stats=stats, media=media)
    fs._digest = digest
    return fs


def _chunk_rows(width):
    """Clips per chunk: about ``_CHUNK_CELLS`` frame values of every modality together."""
    return max(1, _CHUNK_CELLS // max(width, 1))


def _read_plan(plan, X, stats, digest):
    """Fill ``X`` (this plan's rows) chunk by chunk; returns the (n_clips, n_modalities) missing mask.

    Without ``stats`` frames go straight into ``X``; with ``stats`` each modality's chunk goes
    into one reused buffer and only its statistics into ``X``.
    """
    n, mods = plan.n_clips, plan.modalities
    step = min(n, _chunk_rows(plan.width))
    missing = np.zeros((n, len(mods)), dtype=bool)
    buffers = None if stats is None else [np.empty((step, f * d), dtype=np.float32) for _, f, d in mods]

    def describe(j, r0):
        name = mods[j][0]
        return lambda i: (f"NaN or inf in the {name} embeddings of clip {plan.clip_ids[r0 + i]!r} in "
                          f"{plan.block_sources[name]}; re-extract that clip (NaN is reserved for a whole "
                          "missing modality)")

    with plan.open():
        for r0 in range(0, n, step):
            r1 = min(r0 + step, n)
            col = 0
            for j, (_, f, d) in enumerate(mods):
                if stats is None:
                    plan.read_block(j, r0, r1, X, slice(r0, r1), slice(col, col + f * d))
                    missing[r0:r1, j] = missing_rows(X[r0:r1, col:col + f * d], describe(j, r0))
                    col += f * d
                else:
                    buf = buffers[j]
                    plan.read_block(j, r0, r1, buf, slice(0, r1 - r0), slice(0, f * d))
                    frames = buf[:r1 - r0].reshape(r1 - r0, f, d)
                    X[r0:r1, col:col + len(stats) * d] = pool_frames(frames, stats, describe(j, r0))
                    missing[r0:r1, j] = np.isnan(X[r0:r1, col])
                    col += len(stats) * d
            if digest is not None:
                digest.update(X[r0:r1].view(np.uint8).data)
    return missing


def _native_file(path):
    path = Path(path)
    return path if path.suffix.lower() in (".h5", ".hdf5") else path / NATIVE_FILE


def _check_featuresets(featuresets, layout):
    if not isinstance(featuresets, Mapping) or not featuresets:
        raise ConfigError("featuresets must be a non-empty mapping of split name -> FeatureSet, "
                          "e.g. {'train': train, 'test': test}")
    out = {}
    for name, fs in featuresets.items():
        split = canonical_split(name)
        if split in out:
            raise ConfigError(f"featuresets names split {split!r} twice ({name!r} is an alias)")
        if not isinstance(fs, FeatureSet):
            raise ConfigError(f"featuresets[{name!r}] is a {type(fs).__name__}, not a FeatureSet")
        if fs.n_clips == 0:
            raise DataError(f"split {split!r} has no clips; nothing to write")
        if fs.stats is not None:
            raise DataError(f"split {split!r} holds the statistics {list(fs.stats)}, not frames; feature files "
                            "store frames: read the features with stats=None to write them")
        if layout != "native" and fs.y is None:
            raise DataError(
                f"split {split!r} is unlabelled, but layout {layout} stores each clip under its label index; "
                "write it with layout='native' instead"
            )
        out[split] = fs
    return {s: out[s] for s in SPLITS if s in out}


def write_features(path, featuresets, *, layout="native", force=False):
    """Write FeatureSets to disk in one of the supported layouts, atomically.

    Parameters
    ----------
    path : str or path-like
        ``"native"``: a ``.h5``/``.hdf5`` file, or a folder (written as ``folder/features.h5``).
        ``"A"`` and ``"B"``: the root folder, replaced as a whole.
    featuresets : mapping of str -> FeatureSet
        Split name (or alias) to its clips.
    layout : {"native", "A", "B"}, default="native"
        Layout A: ``<root>/<mod>_features_data/<split>.hdf5``, a dataset per clip.
        Layout B: ``<root>/features_data/<mod>_features_data/{tr,val,tt}.hdf5``, per-frame
        datasets in ``tr``/``val``. Native: see :mod:`avsc_sk.data._native`.
    force : bool, default=False
        Replace an existing output (only once the new one is complete).

    Returns
    -------
    pathlib.Path
        The file (native) or root folder (A, B) written.

    Raises
    ------
    OutputExistsError
        If the output exists and ``force`` is False; nothing is touched.
    DataError
        For an empty split, or an unlabelled split written to layout A or B.
    """
    norm = {"native": "native", "a": "A", "b": "B"}.get(str(layout).lower())
    if norm is None:
        raise ConfigError(f"layout {layout!r} is not one of 'native', 'A', 'B'")
    fsets = _check_featuresets(featuresets, norm)
    if norm == "native":
        target = _native_file(path)
        with atomic_path(target, force=force, suffix=".h5") as tmp:
            write_native(tmp, fsets.items(), created_by=_created_by())
        return target
    writer = write_a if norm == "A" else write_b
    with atomic_dir(path, force=force) as tmp:
        writer(tmp, fsets, created_by=_created_by())
    return Path(path)


def convert_features(src, dst, *, force=False, max_frames=96, meta=None):
    """Read every split of ``src`` (any layout) and write them to one native file ``dst``.

    Splits are read and written one at a time, so memory holds one split. Clips lacking a
    modality are kept with NaN blocks (the native format stores them); readers decide.

    Parameters
    ----------
    src : str or path-like
        Features in any layout (see :func:`read_features`).
    dst : str or path-like
        A ``.h5`` file, or a folder (written as ``folder/features.h5``).
    force : bool, default=False
        Replace an existing ``dst``.
    max_frames : int or None, default=96
        Frames kept per clip.
    meta : str, path-like or DataFrame, optional
        A meta table (see :func:`read_meta`) whose labels, groups, cities and splits are
        written instead of ``src``'s, as the commands taking ``--meta`` apply them; the file
        written then needs no table. A split the table names but ``src`` lacks is read from all
        of ``src``'s splits at once.

    Returns
    -------
    sklearn.utils.Bunch
        ``path`` (the file written), ``splits`` (split -> number of clips), ``modalities``
        (split -> tuple of (name, n_frames, dim)) and ``synthetic``.

    Raises
    ------
    DataError
        Also when ``meta`` has no row for a clip of ``src``, or names a split other than
        train, val and test (the native format stores only those).
    """
    from sklearn.utils import Bunch

    max_frames = _check_max_frames(max_frames)
    target = _native_file(dst)
    check_output(target, force=force)  # fail before reading anything
    splits = list_splits(src)
    if not splits:
        raise DataError(f"{src} holds no train, val or test split; nothing to convert")
    table = None if meta is None else meta if isinstance(meta, pd.DataFrame) else read_meta(meta)
    pairs = [(s, s) for s in splits] if table is None else meta_splits(table, splits)
    wrong = [s for s, _ in pairs if s not in SPLITS]
    if wrong:
        raise DataError(f"{table.attrs.get('source', 'the meta table')} names split(s) {', '.join(map(repr, wrong))}, "
                        "but a native file stores only train, val and test; rename them in its split column")

    def items():
        for s, read in pairs:
            data = read_features(src, read, max_frames=max_frames, allow_missing_modality=True)
            yield s, data if table is None else apply_meta(data, table, split=s)

    with atomic_path(target, force=force, suffix=".h5") as tmp:
        written = write_native(tmp, items(), created_by=_created_by())
    return Bunch(
        path=target,
        splits={s: n for s, n, _, _ in written},
        modalities={s: m for s, _, m, _ in written},
        synthetic=any(syn for *_, syn in written),
    )
