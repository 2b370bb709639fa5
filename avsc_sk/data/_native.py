"""The native avsc-sk feature file: one HDF5 file, one group per split, one matrix per modality.

Native format, version 1
------------------------
This is the exact contract between :func:`avsc_sk.data.write_features` (bulk writer),
the appending extractor (``avsc-sk extract``) and :func:`avsc_sk.data.read_features`.

File attributes
    ``avsc_format``          the string ``"avsc-sk-native"``
    ``avsc_format_version``  the integer ``1``; a reader refuses a newer version
    ``synthetic``            bool, True for data made by the generator
    ``created_by``           ``"avsc-sk <version>"``

Group ``/<split>``, ``split`` a canonical name (``train``, ``val``, ``test``), holding
    ``clip_id``      (n,) variable-length UTF-8 strings: clip stems, each once
    ``scene_label``  (n,) vlen UTF-8: class labels (any strings), ``""`` where unlabelled; a split whose
                     labels are all ``""`` reads back with ``y=None`` (a mix is an error)
    ``city``         (n,) vlen UTF-8
    ``location``     (n,) vlen UTF-8, ``"<city>-<location>"`` (the cross-validation group)
    ``features/``    a group with one dataset per modality ``<name>`` (any names, e.g.
                     ``audio``, ``video``) of shape ``(n, n_frames * dim)`` float32, attributes
                     ``n_frames`` and ``dim`` (ints); row ``i`` is clip ``i``'s frames flattened,
                     frame 0's ``dim`` values first. A clip lacking a modality has that row all NaN;
                     any other NaN or inf is corrupt data.
    ``media/``       optional (``avsc-sk extract`` writes it; the bulk writer does not): a group of
                     (n,) vlen UTF-8 datasets ``audio`` and ``video``, each clip's source wav and mp4
                     as an absolute path, ``""`` where the clip has none. Readers give them as
                     ``FeatureSet.media``; a file without the group reads with ``media=None``.

Feature datasets may be contiguous (the bulk writer: fastest to read) or chunked and resizable
with ``maxshape=(None, n_frames * dim)`` (the extractor appends rows in chunks); readers handle
both. Keeping the first ``k`` frames of a clip is the prefix ``[:k * dim]`` of its row, so a
reader takes a chunk of clips with one hyperslab read per modality.
"""

import contextlib

import h5py
import numpy as np

from ..errors import DataError
from ._detect import SPLITS, flag_attr, open_hdf5, order_modalities
from ._plan import ReadPlan

__all__ = ["NATIVE_FORMAT", "NATIVE_FORMAT_VERSION", "splits_native", "plan_native", "write_native"]

NATIVE_FORMAT = "avsc-sk-native"
NATIVE_FORMAT_VERSION = 1
_META = ("clip_id", "scene_label", "city", "location")
# Rows per write block of the bulk writer: bounds the temporary contiguous copy to ~64 MB.
_WRITE_CELLS = 1 << 24


def _short(value):
    # A damaged attribute can be a long array: keep the message on one short line.
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _check_header(fh, path):
    fmt = fh.attrs.get("avsc_format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", "replace")
    if not isinstance(fmt, str) or fmt != NATIVE_FORMAT:
        raise DataError(
            f"{path} is an HDF5 file but not an avsc-sk native feature file (attribute avsc_format is {_short(fmt)}); "
            "pass the layout-A/B root folder instead of one of its files, or convert it with avsc-sk convert"
        )
    version = fh.attrs.get("avsc_format_version")
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise DataError(f"{path}: avsc_format_version {_short(version)} is not an integer; re-create the file") from None
    if version > NATIVE_FORMAT_VERSION:
        raise DataError(
            f"{path} uses native format version {version} but this avsc-sk reads up to version "
            f"{NATIVE_FORMAT_VERSION}; upgrade avsc-sk (pip install -U avsc-sk)"
        )


def splits_native(path):
    """Canonical splits stored in a native file."""
    with open_hdf5(path) as fh:
        _check_header(fh, path)
        return [s for s in SPLITS if s in fh and isinstance(fh[s], h5py.Group)]


def _strings(group, name, n, path, split):
    if name not in group:
        raise DataError(f"{path}: split {split!r} has no {name!r} dataset; re-create the file")
    ds = group[name]
    if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or (n is not None and ds.shape[0] != n):
        raise DataError(f"{path}: '{split}/{name}' has shape {getattr(ds, 'shape', None)}; "
                        f"expected ({n if n is not None else 'n'},)")
    try:
        return np.asarray(ds.asstr()[()], dtype=object)
    except (TypeError, ValueError):
        raise DataError(f"{path}: '{split}/{name}' holds {ds.dtype}, not strings; re-create the file") from None


def plan_native(path, split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split of a native file (see :func:`avsc_sk.data.read_features`)."""
    with open_hdf5(path) as fh:
        _check_header(fh, path)
        if split not in fh:
            available = [s for s in SPLITS if s in fh]
            raise DataError(f"no {split!r} split in {path}; available: {', '.join(available) or 'none'}")
        group = fh[split]
        if not isinstance(group, h5py.Group):
            raise DataError(f"{path}: split {split!r} is an HDF5 {type(group).__name__}, not a group; re-create the file")
        clip_ids = _strings(group, "clip_id", None, path, split)
        n = len(clip_ids)
        labels, city, location = (_strings(group, k, n, path, split) for k in _META[1:])
        if n == 0:
            raise DataError(f"split {split!r} in {path} holds no clips; re-extract it or choose another split")
        unlabelled = labels == ""
        if unlabelled.all():
            y = None
        elif unlabelled.any():
            i = int(np.flatnonzero(unlabelled)[0])
            raise DataError(f"{path}: split {split!r} labels only some clips ({int(unlabelled.sum())} unlabelled, "
                            f"e.g. {clip_ids[i]!r}); label every clip or none")
        else:
            y = labels
        if "features" not in group or not isinstance(group["features"], h5py.Group):
            raise DataError(f"{path}: split {split!r} has no 'features' group; re-create the file")
        feats = group["features"]
        mods = order_modalities(list(feats), modalities, source=f"split {split!r} of {path}")
        blocks = []
        for mod in mods:
            ds = feats[mod]
            where = f"{path}: '{split}/features/{mod}'"
            if not isinstance(ds, h5py.Dataset) or ds.ndim != 2 or ds.shape[0] != n:
                raise DataError(f"{where} has shape {getattr(ds, 'shape', None)}; expected ({n}, n_frames*dim)")
            if ds.dtype.kind != "f":
                raise DataError(f"{where} holds {ds.dtype}, not floats; re-create the file")
            try:
                n_frames, dim = int(ds.attrs["n_frames"]), int(ds.attrs["dim"])
            except (KeyError, TypeError, ValueError):
                raise DataError(f"{where} lacks integer attributes n_frames and dim; re-create the file") from None
            if n_frames < 1 or dim < 1 or n_frames * dim != ds.shape[1]:
                raise DataError(f"{where} has {ds.shape[1]} columns but n_frames={n_frames} x dim={dim}; "
                                "re-create the file")
            keep = n_frames if max_frames is None else min(int(max_frames), n_frames)
            blocks.append((mod, keep, dim))
        synthetic = flag_attr(fh, "synthetic", path)
        media = None
        if isinstance(group.get("media"), h5py.Group):
            media = {m: _strings(group, f"media/{m}", n, path, split) for m in group["media"]}
    return _NativePlan(
        path=path, split=split, source=str(path), modalities=blocks, clip_ids=clip_ids, y=y, city=city,
        location=location, synthetic=synthetic, block_sources={m: str(path) for m in mods}, media=media,
    )


class _NativePlan(ReadPlan):
    def __init__(self, *, path, **kwargs):
        super().__init__(**kwargs)
        self._path = path
        self._feats = None

    @contextlib.contextmanager
    def open(self):
        with open_hdf5(self._path) as fh:
            self._feats = fh[self.split]["features"]
            try:
                yield
            finally:
                self._feats = None

    def read_block(self, j, start, stop, out, rows, cols):
        mod, keep, dim = self.modalities[j]
        # One hyperslab read of many clips straight into out: no per-clip calls, no temporary.
        self._feats[mod].read_direct(out, source_sel=np.s_[start:stop, 0:keep * dim], dest_sel=np.s_[rows, cols])


def write_native(tmp_path, items, *, created_by):
    """Write ``(split, FeatureSet)`` pairs to a new native file at ``tmp_path``.

    ``items`` may be a generator: each split is written and released before the next is
    read, so converting the full dataset holds one split in memory at a time.

    Returns
    -------
    list of (split, n_clips, modalities, synthetic)
    """
    written = []
    with h5py.File(tmp_path, "w") as fh:
        fh.attrs["avsc_format"] = NATIVE_FORMAT
        fh.attrs["avsc_format_version"] = np.int64(NATIVE_FORMAT_VERSION)
        fh.attrs["created_by"] = created_by
        fh.attrs["synthetic"] = False
        synthetic = False
        for split, fs in items:
            _write_split(fh, split, fs)
            synthetic |= fs.synthetic
            written.append((split, fs.n_clips, fs.modalities, fs.synthetic))
        fh.attrs["synthetic"] = bool(synthetic)
    return written


def _write_split(fh, split, fs):
    group = fh.create_group(split)
    text = h5py.string_dtype("utf-8")
    labels = [""] * fs.n_clips if fs.y is None else [str(v) for v in fs.y]
    for name, values in zip(_META, (fs.clip_ids, labels, fs.city, fs.location)):
        group.create_dataset(name, data=np.array([str(v) for v in values], dtype=object), dtype=text)
    feats = group.create_group("features")
    for mod, n_frames, dim in fs.modalities:
        cols = fs.columns(mod)
        width = n_frames * dim
        ds = feats.create_dataset(mod, shape=(fs.n_clips, width), dtype="f4")
        ds.attrs["n_frames"] = np.int64(n_frames)
        ds.attrs["dim"] = np.int64(dim)
        step = max(1, _WRITE_CELLS // max(width, 1))
        for r0 in range(0, fs.n_clips, step):
            r1 = min(r0 + step, fs.n_clips)
            ds.write_direct(np.ascontiguousarray(fs.X[r0:r1, cols], dtype=np.float32), dest_sel=np.s_[r0:r1])
