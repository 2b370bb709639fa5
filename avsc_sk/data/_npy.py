"""The plain-array layout: embeddings from any extractor, as numpy arrays plus a clip table.

Layout ``"npy"``, in one of two forms:

a folder
    one ``<modality>.npy`` per modality (the file name is the modality's name) and ``clips.csv``;
one ``.npz`` file
    the same arrays (``np.savez(path, audio=..., video=..., clip_id=..., label=...)``), the clip
    table as string arrays named after its columns; every other array is a modality.

A modality array has shape ``(clips, dim)`` (one vector a clip: one "frame") or ``(clips,
frames, dim)``, any float dtype; row ``i`` of every array is the clip on row ``i`` of the
table. The clip table (``clips.csv``, comma- or tab-separated, detected from the header
line; all values read as text) has the columns

``clip_id``  (required) any text, each clip once: hashes and numbers work;
``label``    the class, any text; empty for every clip = unlabelled;
``group``    the cross-validation group (e.g. the recording location): clips of a group are
             never split between training and validation folds;
``city``     a coarser group; the groups when ``group`` is absent, and the report's city table;
``split``    ``train``, ``val`` or ``test`` (aliases ``tr``, ``tt``, ``evaluate``, ...). Without
             this column every clip is in split ``train``.

Other columns are ignored. Without ``group`` and ``city`` each clip is its own group (grouped
cross-validation is then ordinary cross-validation), with one warning.

Only the headers and the table are read when planning; then ``.npy`` files and uncompressed
(``np.savez``) members are read with positioned reads of a few rows at a time, compressed
(``np.savez_compressed``) members decompressed front to back, so reading holds one bounded
chunk of clips, whichever the form.
"""

import contextlib
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError, SplitWarning
from ._cliptable import TABLE_COLUMNS, ZIP_ERRORS, check_clip_table, clip_table_npz, read_clip_csv
from ._detect import CLIPS_FILE, SPLITS, order_modalities
from ._plan import ReadPlan

__all__ = ["splits_npy", "plan_npy"]

# Bytes per read of an array: bounds the buffer reading adds, beside the chunk itself, to 16 MB.
_PIECE_BYTES = 1 << 24


def _check_array(shape, dtype, name, n, where):
    """``(n_frames, dim)`` of a modality array, or a DataError naming the file and the fix."""
    if len(shape) not in (2, 3) or 0 in shape[1:]:
        raise DataError(f"{where}: modality {name!r} has shape {shape}; expected (clips, dim) or "
                        "(clips, frames, dim) with dim >= 1")
    if dtype.kind != "f":
        raise DataError(f"{where}: modality {name!r} holds {dtype}, not floats; save it as float32, "
                        "e.g. np.save(path, emb.astype(np.float32))")
    if shape[0] != n:
        raise DataError(f"{where}: modality {name!r} has {shape[0]} rows but the clip table lists {n} clips; "
                        "save one row per clip, in the table's order")
    return (1, shape[1]) if len(shape) == 2 else (shape[1], shape[2])


class _Rows:
    """Rows of one C-ordered array, read in bounded pieces: a ``.npy`` file or an ``.npz`` member.

    Chunks are asked for in row order, so the reader only moves forward: it skips to each
    wanted run of rows and reads at most ``_PIECE_BYTES`` at a time.
    """

    @contextlib.contextmanager
    def _holding(self, fp):
        """Read from the open ``fp`` for the duration, from row 0."""
        self._fp, self._pos = fp, 0
        try:
            yield
        finally:
            self._fp = None

    def __init__(self, path, name, header):
        self.path, self.name = path, name
        self.shape, fortran, self.dtype = header
        if fortran and len(self.shape) > 1:
            raise DataError(f"{self.where} is stored in Fortran order (e.g. saved transposed); save it C-ordered, "
                            "np.ascontiguousarray(array)")
        self._row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._pos = 0

    @property
    def where(self):
        return str(self.path) if self.path.suffix == ".npy" else f"{self.path} (array {self.name!r})"

    def take(self, rows, keep):
        """Rows ``rows`` (ascending, at or after the last row read) as ``(len(rows), keep, dim)``."""
        piece = max(1, _PIECE_BYTES // max(self._row, 1))
        dim = self.shape[-1]
        out = np.empty((len(rows), keep, dim), dtype=self.dtype)
        i = 0
        while i < len(rows):
            self._skip_to(int(rows[i]))
            start = self._pos
            count = min(piece, int(rows[-1]) + 1 - start)
            block = np.frombuffer(self._read(count), dtype=self.dtype).reshape(count, -1, dim)
            self._pos += count
            k = int(np.searchsorted(rows, self._pos))
            picked = rows[i:k] - start
            if picked[-1] - picked[0] + 1 == len(picked):  # a run of rows: a view, no temporary copy
                picked = slice(int(picked[0]), int(picked[-1]) + 1)
            out[i:k] = block[picked, :keep]
            i = k
        return out

    def _checked(self, data, want):
        if len(data) != want:
            raise DataError(f"{self.where} ends early (the file is truncated); save it again")
        return data


class _FileRows(_Rows):
    """An array stored as raw bytes at an offset of a file: a ``.npy`` file or an uncompressed ``.npz`` member.

    Read with positioned reads, not memory-mapped: every page a map touches counts toward
    the process's resident memory, so mapping would make reading look as large as the file.
    """

    def __init__(self, path, name, offset):
        with open(path, "rb") as fp:
            fp.seek(offset)
            header = _header(fp, path, name)
            self._offset = fp.tell()
        super().__init__(path, name, header)
        if self.shape and os.path.getsize(path) < self._offset + self.shape[0] * self._row:
            raise DataError(f"{self.where} ends early (the file is truncated); save it again")
        self._fp = None

    @contextlib.contextmanager
    def open(self):
        with open(self.path, "rb") as fp, self._holding(fp):
            yield

    def _skip_to(self, row):
        self._pos = row

    def _read(self, count):
        self._fp.seek(self._offset + self._pos * self._row)
        return self._checked(self._fp.read(count * self._row), count * self._row)


class _ZipRows(_Rows):
    """A compressed ``.npz`` member, decompressed front to back (it cannot be read from the middle)."""

    def __init__(self, path, name):
        with zipfile.ZipFile(path) as zf, zf.open(f"{name}.npy") as fp:
            header = _header(fp, path, name)
        super().__init__(path, name, header)
        self._fp = None

    @contextlib.contextmanager
    def open(self):
        with zipfile.ZipFile(self.path) as zf, zf.open(f"{self.name}.npy") as fp:
            _header(fp, self.path, self.name)
            with self._holding(fp):
                yield

    def _skip_to(self, row):
        piece = max(1, _PIECE_BYTES // max(self._row, 1))
        while self._pos < row:
            count = min(piece, row - self._pos)
            self._read(count)
            self._pos += count

    def _read(self, count):
        try:
            return self._checked(self._fp.read(count * self._row), count * self._row)
        except ZIP_ERRORS as exc:
            raise DataError(f"{self.where} is damaged ({exc}); save the file again") from None


def _npz_member(path, zf, name):
    """The reader of one modality array of an ``.npz``: positioned reads when stored, streaming when compressed."""
    info = zf.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return _ZipRows(path, name)
    with open(path, "rb") as fp:  # the member's bytes start after its local header (zip specification 4.3.7)
        fp.seek(info.header_offset)
        local = fp.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise DataError(f"{path}: array {name!r} has a damaged zip header; save the file again with np.savez")
    name_len, extra_len = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
    return _FileRows(path, name, info.header_offset + 30 + name_len + extra_len)


def _header(fp, path, name):
    """``(shape, fortran_order, dtype)`` from the ``.npy`` header at ``fp``'s position."""
    try:
        version = np.lib.format.read_magic(fp)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}[version]
        return read(fp)
    except Exception as exc:  # a damaged header fails in numpy's parser in many ways (tokenize.TokenError, ...)
        npy = Path(path).suffix == ".npy"
        where, fix = (path, "np.save(path, array)") if npy else (f"{path}: array {name!r}", "np.savez")
        raise DataError(f"{where} is not a readable .npy array ({' '.join(str(exc).split())[:100]}); "
                        f"save it again with {fix}") from None


def _folder_table(path):
    if not (path / CLIPS_FILE).is_file():
        raise DataError(f"{path} has .npy files but no {CLIPS_FILE}; write {path / CLIPS_FILE} with a clip_id column "
                        "(and label, group, split, ...) listing the clips in the arrays' row order")
    return read_clip_csv(path / CLIPS_FILE)


def _sources(path):
    """The clip table and ``{modality: array source}`` of a folder or an ``.npz`` file."""
    if path.is_dir():
        table = _folder_table(path)
        arrays = {p.stem: p for p in sorted(path.glob("*.npy")) if p.is_file()}
        if not arrays:
            raise DataError(f"{path} holds {CLIPS_FILE} but no <modality>.npy file; save one array per modality "
                            "next to it, e.g. np.save(folder / 'audio.npy', embeddings)")
        sources = {m: _FileRows(p, m, 0) for m, p in arrays.items()}
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
                table = clip_table_npz(path, members)
                mods = [m for m in members if m not in TABLE_COLUMNS]
                if not mods:
                    raise DataError(f"{path} holds only the clip table ({', '.join(members)}); save the embeddings "
                                    "in it too, one array per modality, e.g. np.savez(path, audio=emb, clip_id=ids)")
                sources = {m: _npz_member(path, zf, m) for m in mods}
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{path} is not a readable .npz file ({exc}); save it with np.savez") from None
    return table, sources, {m: src.where for m, src in sources.items()}


def splits_npy(path):
    """Canonical splits listed by the clip table of a plain-array folder or ``.npz`` file."""
    path = Path(path)
    if path.is_dir():
        table = _folder_table(path)
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                table = clip_table_npz(path, [n[:-4] for n in zf.namelist() if n.endswith(".npy")])
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{path} is not a readable .npz file ({exc}); save it with np.savez") from None
    split = check_clip_table(table)[4]
    return [s for s in SPLITS if (split == s).any()]


def plan_npy(path, split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split of the plain-array layout (see :func:`avsc_sk.data.read_features`).

    Only the clip table and the arrays' headers are read here.
    """
    path = Path(path)
    table, sources, block_sources = _sources(path)
    ids, labels, city, group, splits = check_clip_table(table)
    rows = np.flatnonzero(splits == split)
    if not len(rows):
        available = [s for s in SPLITS if (splits == s).any()]
        how = "" if "split" in table.columns else f" (no split column in {table.source}: every clip is in train)"
        raise DataError(f"no {split!r} split in {path}{how}; available: {', '.join(available)}")
    mods = order_modalities(sources, modalities, source=str(path))
    blocks = []
    for mod in mods:
        n_frames, dim = _check_array(sources[mod].shape, sources[mod].dtype, mod, table.n, block_sources[mod])
        blocks.append((mod, n_frames if max_frames is None else min(int(max_frames), n_frames), dim))
    if group is None:
        warnings.warn(f"{table.source} has no group or city column, so each clip is its own cross-validation "
                      "group; add a group column (e.g. the recording location) to keep related clips together",
                      SplitWarning, stacklevel=2)
        group = ids
    return _NpyPlan(
        sources=[sources[m] for m in mods], rows=rows,
        split=split, source=str(path), modalities=blocks, clip_ids=ids[rows],
        y=None if labels is None else labels[rows], city=(group if city is None else city)[rows],
        location=group[rows], synthetic=False, block_sources={m: block_sources[m] for m in mods},
    )


class _NpyPlan(ReadPlan):
    def __init__(self, *, sources, rows, **kwargs):
        super().__init__(**kwargs)
        self._sources = sources
        self._rows = rows

    @contextlib.contextmanager
    def open(self):
        with contextlib.ExitStack() as stack:
            for src in self._sources:
                stack.enter_context(src.open())
            yield

    def read_block(self, j, start, stop, out, rows, cols):
        _, keep, dim = self.modalities[j]
        frames = self._sources[j].take(self._rows[start:stop], keep)
        out[rows, cols] = frames.reshape(stop - start, keep * dim)  # casts any float dtype to float32
