"""Layout B, the DCASE 2021 Task 1B baseline: ``<root>/features_data/<mod>_features_data/{tr,val,tt}.hdf5``.

In ``tr`` and ``val`` each clip is a group ``"<label_index>/<mod>/<stem>"`` holding one
dataset per frame, ``"0"``, ``"1"``, ... of shape ``(dim,)``; in ``tt`` each clip is one
dataset of shape ``(n_frames, dim)``. File ``tr`` is split ``train``, ``tt`` is ``test``.
"""

from pathlib import Path

from ._perclip import perclip_splits, plan_perclip_split, write_perclip_file

__all__ = ["FILE_OF_SPLIT", "splits_b", "plan_b", "write_b"]

#: The file stem layout B uses for each canonical split.
FILE_OF_SPLIT = {"train": "tr", "val": "val", "test": "tt"}


def splits_b(features_data):
    """Canonical splits present under a layout-B ``features_data`` folder."""
    return perclip_splits(Path(features_data), FILE_OF_SPLIT)


def plan_b(features_data, split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split (see :func:`avsc_sk.data.read_features`)."""
    return plan_perclip_split(Path(features_data), split, FILE_OF_SPLIT, modalities=modalities, max_frames=max_frames,
                              allow_missing_modality=allow_missing_modality)


def write_b(tmp_root, featuresets, *, created_by=None):
    """Write ``{split: FeatureSet}`` under ``tmp_root/features_data`` (the caller swaps the root into place)."""
    base = Path(tmp_root) / "features_data"
    for split, fs in featuresets.items():
        for mod in fs.modality_names:
            folder = base / f"{mod}_features_data"
            folder.mkdir(parents=True, exist_ok=True)
            write_perclip_file(folder / f"{FILE_OF_SPLIT[split]}.hdf5", fs, mod,
                               per_frame=split != "test", created_by=created_by)
