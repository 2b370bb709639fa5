"""The real fold1 metadata of TAU Urban Audio-Visual Scenes 2021, shipped with the package."""

from functools import lru_cache
from importlib import resources

import pandas as pd

from ..data import parse_stem, stem_of

__all__ = ["load_fold1_metadata"]


def _read(name, sep):
    with resources.files(__package__).joinpath("_meta", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, sep=sep)


@lru_cache(maxsize=1)
def _fold1():
    val = set(_read("official_val.csv", ",")["filename_audio"].map(stem_of))
    rows = []
    for name, split_of in (("fold1_train.csv", lambda s: "val" if s in val else "train"),
                           ("fold1_evaluate.csv", lambda s: "test")):
        for fname, label in _read(name, "\t")[["filename_audio", "scene_label"]].itertuples(index=False):
            stem = stem_of(fname)
            clip = parse_stem(stem, source=name)
            rows.append((stem, label, clip.city, clip.identifier, split_of(stem)))
    return pd.DataFrame(rows, columns=["clip_id", "scene_label", "city", "location", "split"])


def load_fold1_metadata():
    """The 12,291 real clips of fold1 with their scene, city, location and split.

    Splits follow the reference systems: ``train`` (7,907 clips) and ``val`` (739) are the
    DCASE baseline's location-disjoint split of ``fold1_train.csv`` (8,646 clips together);
    ``test`` is ``fold1_evaluate.csv`` (3,645 clips).

    Returns
    -------
    pandas.DataFrame
        Columns ``clip_id, scene_label, city, location, split``; a fresh copy on every call.
    """
    return _fold1().copy()
