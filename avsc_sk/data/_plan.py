"""Two-phase reading shared by every layout: plan (index, shapes, labels) then fill one preallocated X.

Planning touches only metadata, so a multi-split read (``train+val``) knows the total size
before any embedding is read and fills a single array: the full development set is 3.4 GB,
and a second copy of it (concatenating per-split arrays) is what this design avoids.
"""

import numpy as np

from ..errors import DataError

__all__ = ["ReadPlan", "check_finite", "frames_to_keep", "missing_error"]

# Rows checked per block by check_finite: bounds the temporary boolean array to ~16 MB.
_CHECK_CELLS = 1 << 24


class ReadPlan:
    """What one split holds and how to fill its rows of X.

    Subclasses implement :meth:`_fill` (write rows ``0..n_clips-1`` of the array they are
    given); :meth:`fill` then checks every non-missing block for NaN/inf.
    """

    def __init__(self, *, split, source, modalities, clip_ids, y, city, location, missing, synthetic,
                 block_sources):
        self.split = split
        self.source = source
        self.modalities = tuple(modalities)
        self.clip_ids = np.asarray(clip_ids, dtype=object)
        self.y = None if y is None else np.asarray(y, dtype=object)
        self.city = np.asarray(city, dtype=object)
        self.location = np.asarray(location, dtype=object)
        self.missing = missing  # (n_clips, n_modalities) bool
        self.synthetic = bool(synthetic)
        self.block_sources = block_sources  # modality -> file named in value errors

    @property
    def n_clips(self):
        return len(self.clip_ids)

    @property
    def width(self):
        return sum(f * d for _, f, d in self.modalities)

    def fill(self, X):
        """Fill ``X`` (a C-contiguous float32 view of this split's rows) and check its values."""
        assert X.shape == (self.n_clips, self.width) and X.flags.c_contiguous
        self._fill(X)
        check_finite(X, self.modalities, self.missing, self.clip_ids, self.block_sources)

    def _fill(self, X):  # pragma: no cover - abstract
        raise NotImplementedError


def frames_to_keep(counts, max_frames, *, modality, names, source):
    """The frame count every clip of a modality is cut to, or a DataError naming a short clip.

    ``counts`` holds each clip's stored frame count. Clips are cut to
    ``min(max_frames, longest clip)``; a clip shorter than that cannot be cut to it.
    """
    counts = np.asarray(counts)
    longest = int(counts.max())
    keep = longest if max_frames is None else min(int(max_frames), longest)
    short = np.flatnonzero(counts < keep)
    if len(short):
        i = short[np.argmin(counts[short])]
        shortest = int(counts[i])
        more = f" (and {len(short) - 1} more)" if len(short) > 1 else ""
        raise DataError(
            f"clip {names[i]!r} in {source} has {shortest} {modality} frame(s), fewer than the {keep} kept from "
            f"the other clips{more}; pass a smaller max_frames (e.g. max_frames={max(shortest, 1)}, "
            f"--max-frames {max(shortest, 1)}) so every clip has the same length"
        )
    if keep < 1:
        raise DataError(f"{source}: every clip has 0 {modality} frames; re-extract the features")
    return keep


def missing_error(n_missing, examples, source):
    """The DataError for clips that lack a modality, when missing modalities are not allowed."""
    ex = ", ".join(examples[:3])
    return DataError(
        f"{n_missing} clip(s) in {source} lack a modality (e.g. {ex}); re-extract them, select fewer "
        "modalities, or pass --allow-missing-modality (allow_missing_modality=True) to keep them with NaN blocks"
    )


def check_finite(X, modalities, missing, clip_ids, block_sources):
    """Raise a DataError naming the file and clip of the first NaN/inf in a present block.

    A missing block must be NaN throughout (that is how a missing modality is stored);
    any other non-finite value is corrupt data.
    """
    n = X.shape[0]
    start = 0
    for j, (name, f, d) in enumerate(modalities):
        width = f * d
        step = max(1, _CHECK_CELLS // max(width, 1))
        for r0 in range(0, n, step):
            block = X[r0:r0 + step, start:start + width]
            miss = missing[r0:r0 + step, j]
            finite = np.isfinite(block).all(axis=1)
            bad = ~finite & ~miss
            if miss.any():
                bad |= miss & ~np.isnan(block).all(axis=1)
            if bad.any():
                i = r0 + int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"NaN or inf in the {name} embeddings of clip {clip_ids[i]!r} in {block_sources[name]}; "
                    "re-extract that clip (NaN is reserved for a whole missing modality)"
                )
        start += width
