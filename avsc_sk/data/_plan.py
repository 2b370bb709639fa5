"""Two-phase reading shared by every layout: plan (index, shapes, labels), then read clips in chunks.

Planning touches only metadata, so a multi-split read (``train+val``) knows the total size
before any embedding is read and fills a single preallocated array, of frames or of their
statistics; the frames themselves pass through one bounded chunk at a time.
"""

import contextlib

import numpy as np

from ..errors import DataError

__all__ = ["ReadPlan", "frames_to_keep", "missing_error"]


class ReadPlan:
    """What one split holds, and how to read a range of its clips' frames of one modality.

    Subclasses implement :meth:`read_block`; :func:`avsc_sk.data.read_features` reads every
    plan in bounded chunks of clips through it, keeping frames or only their statistics.
    """

    def __init__(self, *, split, source, modalities, clip_ids, y, city, location, synthetic, block_sources,
                 media=None):
        self.split = split
        self.source = source
        self.modalities = tuple(modalities)
        self.clip_ids = np.asarray(clip_ids, dtype=object)
        self.y = None if y is None else np.asarray(y, dtype=object)
        self.city = np.asarray(city, dtype=object)
        self.location = np.asarray(location, dtype=object)
        self.synthetic = bool(synthetic)
        self.block_sources = block_sources  # modality -> file named in value errors
        self.media = media  # name -> each clip's source file ("" for none), or None: not recorded

    @property
    def n_clips(self):
        return len(self.clip_ids)

    @property
    def width(self):
        return sum(f * d for _, f, d in self.modalities)

    def clips_per_modality(self):
        """``{modality: clips holding it}`` as the metadata tell, or ``None`` where only reading the frames can.

        Per-clip layouts index every clip of every modality, so a clip missing from one
        modality's file is known before any frame is read; a single array stores such a clip
        as NaN frames, which only reading finds.
        """
        return None

    def open(self):
        """A context manager holding the files open while chunks are read."""
        return contextlib.nullcontext()

    def read_block(self, j, start, stop, out, rows, cols):
        """Write clips ``start:stop`` of modality ``j`` (kept frames, flattened) into ``out[rows, cols]``.

        ``out`` is a C-contiguous float32 array, ``rows`` and ``cols`` slices of it; a clip
        lacking the modality gets an all-NaN row.
        """
        raise NotImplementedError  # pragma: no cover - abstract

    def check_missing(self, missing, allow):
        """Refuse clips lacking a modality unless ``allow``: ``missing`` is the (n_clips, n_modalities) mask."""
        if allow or not missing.any():
            return
        rows = np.flatnonzero(missing.any(axis=1))
        names = [m[0] for m in self.modalities]
        examples = [f"{self.clip_ids[i]} (no {', '.join(m for m, x in zip(names, missing[i]) if x)})"
                    for i in rows[:3]]
        raise missing_error(len(rows), examples, f"split {self.split!r} of {self.source}")


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
