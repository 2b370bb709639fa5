"""Reading the per-clip layouts A and B: one HDF5 file per modality, one entry per clip.

Each clip lives at key ``"<label_index>/<mod>/<stem>"`` and is either a dataset of shape
``(n_frames, dim)`` (layout A, and B's ``tt``) or a group of per-frame datasets ``"0"``,
``"1"``, ... of shape ``(dim,)`` (B's ``tr`` and ``val``). Both forms are accepted in any
file, so the two layouts share this reader and differ only in where their files live.
"""

import contextlib

import h5py
import numpy as np

from ..errors import DataError
from ._clipname import label_index, parse_stem, scene_of_index, stem_of
from ._detect import SPLITS, flag_attr, mod_dirs, open_hdf5, order_modalities
from ._plan import ReadPlan, frames_to_keep, missing_error

__all__ = ["plan_perclip", "write_perclip_file"]

_REMEDY = "copy or re-extract it, or convert the features with avsc-sk convert"


class _Entry:
    __slots__ = ("key", "label", "clip", "n_frames", "dim", "per_frame")

    def __init__(self, key, label, clip, n_frames, dim, per_frame):
        self.key, self.label, self.clip = key, label, clip
        self.n_frames, self.dim, self.per_frame = n_frames, dim, per_frame


def _text_names(group, path):
    """The member names of a group; h5py gives bytes for a name that is not UTF-8 (a damaged file)."""
    names = list(group)
    for name in names:
        if isinstance(name, bytes):
            raise DataError(f"{path}: entry name {name[:40]!r} under {group.name!r} is not UTF-8 text; "
                            f"the file is damaged, {_REMEDY}")
    return names


def _index_file(path, mod):
    """``{stem: _Entry}`` for every clip in one modality file, with structure and label checks."""
    entries = {}
    expected = f"keys '<label_index>/{mod}/<stem>'"
    with open_hdf5(path, remedy=_REMEDY) as fh:
        for lab in _text_names(fh, path):
            top = fh[lab]
            if not isinstance(top, h5py.Group):
                raise DataError(f"{path}: top-level entry {lab!r} is not a label-index group; expected {expected}")
            scene = scene_of_index(lab, source=path)
            for mid in _text_names(top, path):
                if mid != mod or not isinstance(top[mid], h5py.Group):
                    raise DataError(f"{path}: unexpected entry '{lab}/{mid}'; expected {expected}")
                group = top[mid]
                for name in _text_names(group, path):
                    key = f"{lab}/{mid}/{name}"
                    stem = stem_of(name)
                    clip = parse_stem(stem, source=path)
                    if clip.scene != scene:
                        raise DataError(
                            f"clip {stem!r} in {path} is stored under label index {int(lab)} ({scene}) but its name "
                            f"says {clip.scene}; fix the label index in the key or the clip name"
                        )
                    if stem in entries:
                        raise DataError(f"clip {stem!r} appears twice in {path} ({entries[stem].key} and {key}); "
                                        "each clip must appear once per file")
                    entries[stem] = _describe(group[name], key, int(lab), clip, path)
    return entries


def _describe(leaf, key, label, clip, path):
    if isinstance(leaf, h5py.Dataset):
        if leaf.ndim != 2:
            raise DataError(f"{path}: dataset {key!r} has shape {leaf.shape}; expected (n_frames, dim), "
                            "one row per frame; re-extract the clip")
        _check_dtype(leaf, key, path)
        return _Entry(key, label, clip, leaf.shape[0], leaf.shape[1], False)
    if not isinstance(leaf, h5py.Group):
        raise DataError(f"{path}: entry {key!r} is an HDF5 {type(leaf).__name__}, not a dataset (n_frames, dim) "
                        "or a group of frames; re-extract the clip")
    names = _text_names(leaf, path)
    if set(names) != {str(i) for i in range(len(names))}:
        raise DataError(f"{path}: group {key!r} must hold per-frame datasets named 0, 1, 2, ...; "
                        f"found {sorted(names)[:4]}")
    dim = 0
    if names:
        first = leaf["0"]
        if not isinstance(first, h5py.Dataset) or first.ndim != 1:
            raise DataError(f"{path}: frame '{key}/0' has shape {getattr(first, 'shape', None)}; "
                            "expected (dim,), one dataset per frame")
        _check_dtype(first, f"{key}/0", path)
        dim = first.shape[0]
    return _Entry(key, label, clip, len(names), dim, True)


def _check_dtype(ds, key, path):
    if ds.dtype.kind not in "fiu":
        raise DataError(f"{path}: dataset {key!r} holds {ds.dtype}, not numbers; re-extract the clip")


def plan_perclip(files, split, *, max_frames, allow_missing_modality, source):
    """Plan reading one split of a per-clip layout.

    Parameters
    ----------
    files : dict of str -> Path
        The split's file of each selected modality, in column order.
    split : str
        Canonical split name.
    max_frames : int or None
        Frames kept per clip.
    allow_missing_modality : bool
        Keep clips that lack a modality (NaN block) instead of raising.
    source : str
        The root, named in messages and kept as the FeatureSet's source.

    Returns
    -------
    ReadPlan
    """
    index = {mod: _index_file(path, mod) for mod, path in files.items()}
    stems = set()
    for entries in index.values():
        stems.update(entries)
    if not stems:
        raise DataError(f"split {split!r} in {source} holds no clips ({', '.join(map(str, files.values()))}); "
                        "re-extract it or choose another split")

    def label_of(stem):
        for entries in index.values():
            if stem in entries:
                return entries[stem].label, entries[stem].clip
        raise AssertionError(stem)  # pragma: no cover

    info = {s: label_of(s) for s in stems}
    order = sorted(stems, key=lambda s: (info[s][0], s))  # the reference loaders' walk order
    mods = list(files)
    missing = np.array([[s not in index[m] for m in mods] for s in order], dtype=bool).reshape(len(order), len(mods))
    if missing.any() and not allow_missing_modality:
        rows = np.flatnonzero(missing.any(axis=1))
        examples = [f"{order[i]} (no {', '.join(m for m, x in zip(mods, missing[i]) if x)})" for i in rows[:3]]
        raise missing_error(len(rows), examples, f"split {split!r} of {source}")

    modalities, layout = [], []
    for mod in mods:
        entries = index[mod]
        present = [s for s in order if s in entries]
        if not present:
            raise DataError(f"modality {mod!r} has no clips in split {split!r} of {source}; "
                            "select the other modalities")
        dims = np.array([entries[s].dim for s in present])
        values, counts = np.unique(dims, return_counts=True)
        if len(values) > 1:
            # Blame the odd ones out: compare with the dimension most clips share.
            common = values[np.argmax(counts)]
            i, ref = int(np.flatnonzero(dims != common)[0]), int(np.flatnonzero(dims == common)[0])
            raise DataError(
                f"clip {present[i]!r} in {files[mod]} has {mod} frames of dim {dims[i]} but clip {present[ref]!r} "
                f"has dim {common}; every clip of a modality needs the same embedding size"
            )
        keep = frames_to_keep([entries[s].n_frames for s in present], max_frames,
                              modality=mod, names=present, source=files[mod])
        modalities.append((mod, keep, int(dims[0])))
        layout.append([entries.get(s) for s in order])

    return _PerClipPlan(
        files=files, layout=layout,
        split=split, source=str(source), modalities=modalities, clip_ids=order,
        y=[scene_of_index(info[s][0]) for s in order], city=[info[s][1].city for s in order],
        location=[info[s][1].identifier for s in order],
        synthetic=_any_synthetic(files.values()), block_sources={m: str(p) for m, p in files.items()},
    )


def _any_synthetic(paths):
    out = False
    for path in paths:
        with open_hdf5(path, remedy=_REMEDY) as fh:
            out |= flag_attr(fh, "synthetic", path)
    return out


class _PerClipPlan(ReadPlan):
    def __init__(self, *, files, layout, **kwargs):
        super().__init__(**kwargs)
        self._files = files
        self._layout = layout
        self._roots = None

    def clips_per_modality(self):
        return {mod: sum(entry is not None for entry in entries)
                for (mod, _, _), entries in zip(self.modalities, self._layout)}

    @contextlib.contextmanager
    def open(self):
        with contextlib.ExitStack() as stack:
            self._roots = [stack.enter_context(open_hdf5(self._files[mod], remedy=_REMEDY)).id
                           for mod, _, _ in self.modalities]
            try:
                yield
            finally:
                self._roots = None

    def read_block(self, j, start, stop, out, rows, cols):
        mod, keep, dim = self.modalities[j]
        path, root = self._files[mod], self._roots[j]
        dest = out[rows, cols]
        for i, entry in enumerate(self._layout[j][start:stop]):
            row = dest[i]
            if entry is None:
                row[:] = np.nan
            elif entry.per_frame:
                _read_frames(root, entry.key, row, keep, dim, path)
            else:
                _read_clip(root, entry.key, row.reshape(keep, dim))


# The low-level h5d calls below skip h5py's per-object wrapping: layout B stores one dataset
# per frame (1.6 million for the full set), where that overhead is most of the read time.
def _read_clip(root, key, dest):
    dsid = h5py.h5d.open(root, key.encode())
    fspace = dsid.get_space()
    fspace.select_hyperslab((0, 0), dest.shape)
    dsid.read(h5py.h5s.create_simple(dest.shape), fspace, dest)


def _read_frames(root, key, row, keep, dim, path):
    gid = h5py.h5g.open(root, key.encode())
    for t in range(keep):
        dsid = h5py.h5d.open(gid, str(t).encode())
        if dsid.shape != (dim,):
            raise DataError(f"{path}: frame '{key}/{t}' has shape {dsid.shape}; expected ({dim},) like frame 0")
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, row[t * dim:(t + 1) * dim])


def write_perclip_file(path, fs, mod, *, per_frame=False, created_by=None):
    """Write one modality of a labelled FeatureSet as a per-clip HDF5 file (a temp path: the caller moves it).

    Clips whose ``mod`` block is missing are left out, as the reference extractors would.
    """
    cols = fs.columns(mod)
    _, n_frames, dim = fs.modalities[fs.modality_names.index(mod)]
    missing = fs.missing()[:, fs.modality_names.index(mod)]
    with h5py.File(path, "w") as fh:
        if created_by:
            fh.attrs["created_by"] = created_by
        if fs.synthetic:
            fh.attrs["synthetic"] = True
        groups = {}
        for i, (stem, scene) in enumerate(zip(fs.clip_ids, fs.y)):
            if missing[i]:
                continue
            lab = label_index(scene, source=str(path))  # layouts A/B key clips by TAU label index
            if lab not in groups:
                groups[lab] = fh.create_group(f"{lab}/{mod}")
            frames = fs.X[i, cols].reshape(n_frames, dim)
            if per_frame:
                g = groups[lab].create_group(str(stem))
                for t in range(n_frames):
                    g.create_dataset(str(t), data=frames[t])
            else:
                groups[lab].create_dataset(str(stem), data=frames)


def split_files(root, file_of_split):
    """``{split: {modality: file}}`` for every split file under a per-clip layout root.

    ``file_of_split`` maps a canonical split to its file stem (``test`` -> ``tt`` in layout B).
    """
    out = {}
    for mod, folder in mod_dirs(root).items():
        for split in SPLITS:
            f = folder / f"{file_of_split[split]}.hdf5"
            if f.is_file():
                out.setdefault(split, {})[mod] = f
    return out


def perclip_splits(root, file_of_split):
    """Canonical splits present under a per-clip layout root."""
    found = split_files(root, file_of_split)
    return [s for s in SPLITS if s in found]


def plan_perclip_split(root, split, file_of_split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split of a per-clip layout root (see :func:`avsc_sk.data.read_features`)."""
    files = split_files(root, file_of_split).get(split)
    if not files:
        raise DataError(f"no {split!r} split in {root} (no <mod>_features_data/{file_of_split[split]}.hdf5); "
                        f"available: {', '.join(perclip_splits(root, file_of_split)) or 'none'}")
    mods = order_modalities(files, modalities, source=f"split {split!r} of {root}")
    return plan_perclip({m: files[m] for m in mods}, split, max_frames=max_frames,
                        allow_missing_modality=allow_missing_modality, source=root)
