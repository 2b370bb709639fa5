"""Planning an extraction: the clips to extract, their splits and labels, and the ones that cannot be.

Clips come from list files (``fold1_train.csv``, ``meta.csv``) or from the audio/video
folders themselves; a clip whose file is missing or whose name does not parse is reported
with the reason rather than planned.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data import canonical_split, parse_stem, stem_of
from ..errors import ConfigError, DataError

__all__ = ["ClipJob", "plan_clips", "split_of_list"]


@dataclass(frozen=True)
class ClipJob:
    """One clip to extract: its metadata and the files of each modality (None if not requested)."""

    clip_id: str
    split: str
    scene_label: str
    city: str
    location: str
    audio: Path | None = None
    video: Path | None = None


def split_of_list(path):
    """Split name of a clip list file.

    ``fold1_train*`` -> ``train``, ``fold1_evaluate*`` and ``fold1_test*`` -> ``test``, a
    split name or alias (``val.csv``, ``validation.csv``) -> that split, else the file stem.
    """
    stem = Path(path).stem
    if stem.startswith("fold1_train"):
        return "train"
    if stem.startswith(("fold1_evaluate", "fold1_test")):
        return "test"
    try:
        # val.csv, validation.csv, tt.csv ... name a split the readers know.
        return canonical_split(stem)
    except ConfigError:
        return stem


def _read_table(path):
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read clip list {path}: {str(exc).splitlines()[0]}") from None
    if "filename_audio" not in df.columns and "filename_video" not in df.columns:
        raise DataError(
            f"{path}: expected a tab-separated file with a filename_audio or filename_video column "
            f"(as meta.csv and evaluation_setup/fold1_*.csv), got columns {list(df.columns)}"
        )
    return df


def _fold1_lookup():
    from ..datasets import load_fold1_metadata

    meta = load_fold1_metadata()
    return dict(zip(meta["clip_id"], zip(meta["split"], meta["scene_label"])))


def plan_clips(audio_dir=None, video_dir=None, meta=None, lists=()):
    """The clips to extract and the ones that cannot be (missing files, unparseable names).

    Parameters
    ----------
    audio_dir, video_dir : path-like, optional
        Directories holding ``<stem>.wav`` and ``<stem>.mp4``; at least one is required.
        A modality is extracted only when its directory is given.
    meta : path-like, optional
        A ``meta.csv`` (tab-separated, ``filename_audio, filename_video, scene_label,
        identifier``); each clip goes to its fold1 split (train/val/test) when it is a
        fold1 clip, else to split ``all``.
    lists : sequence of path-like, optional
        Split lists such as ``fold1_train.csv``; the split is named by the file
        (see :func:`split_of_list`). Without ``meta`` and ``lists`` every clip found in
        the directories is taken, split and label as for ``meta``.

    Returns
    -------
    jobs : list of ClipJob
    problems : list of (clip_id, reason)
    """
    if audio_dir is None and video_dir is None:
        raise ConfigError("nothing to extract: give --audio-dir, --video-dir or both")
    if meta is not None and lists:
        raise ConfigError("give either --meta or --list, not both")
    dirs = {}
    for name, d in (("audio", audio_dir), ("video", video_dir)):
        if d is not None:
            d = Path(d)
            if not d.is_dir():
                raise ConfigError(f"--{name}-dir {d} is not a directory; point it at the dataset's {name}/ folder")
            dirs[name] = d
    fold1 = _fold1_lookup()
    entries = []  # (stem, split or None, label or None, identifier or None)
    if lists:
        for path in lists:
            df = _read_table(path)
            col = "filename_audio" if "filename_audio" in df.columns else "filename_video"
            labels = df["scene_label"] if "scene_label" in df.columns else [""] * len(df)
            split = split_of_list(path)
            entries += [(stem_of(f), split, lab, None) for f, lab in zip(df[col], labels)]
    elif meta is not None:
        df = _read_table(meta)
        col = "filename_audio" if "filename_audio" in df.columns else "filename_video"
        labels = df["scene_label"] if "scene_label" in df.columns else [None] * len(df)
        idents = df["identifier"] if "identifier" in df.columns else [None] * len(df)
        entries = [(stem_of(f), None, lab, ident) for f, lab, ident in zip(df[col], labels, idents)]
    else:
        stems = set()
        for name, d in dirs.items():
            stems |= {p.stem for p in d.glob("*.wav" if name == "audio" else "*.mp4")}
        entries = [(s, None, None, None) for s in sorted(stems)]

    jobs, problems, seen = [], [], set()
    for stem, split, label, ident in entries:
        if stem in seen:
            continue  # listed twice: the first listing wins
        seen.add(stem)
        try:
            clip = parse_stem(stem)
        except DataError as exc:
            problems.append((stem, str(exc)))
            continue
        known = fold1.get(stem)
        if split is None:
            split = known[0] if known else "all"
        if label is None:
            label = known[1] if known else clip.scene
        files, missing = {}, []
        for name, d in dirs.items():
            f = d / f"{stem}.{'wav' if name == 'audio' else 'mp4'}"
            if f.is_file():
                files[name] = f
            else:
                missing.append(f"no {name} file {f}")
        if missing:
            problems.append((stem, "; ".join(missing)))
            continue
        jobs.append(ClipJob(stem, split, label, clip.city, ident or clip.identifier,
                            files.get("audio"), files.get("video")))
    return jobs, problems
