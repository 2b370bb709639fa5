"""Where the single-modality runs disagree, who is right, and whether fusion picks the right one."""

import numpy as np
import pandas as pd

from ..evaluation import unpack_predictions

__all__ = ["conflict_table", "top_disagreements"]


def conflict_table(audio, video, fusion=None):
    """Per-scene disagreement between an audio and a video run, and how each fusion run resolves it.

    Parameters
    ----------
    audio, video : DataFrame
        Prediction frames (with ``scene_label``) of the single-modality runs, same clip order.
    fusion : mapping of str to DataFrame, optional
        Fusion runs' prediction frames, same clip order.

    Returns
    -------
    DataFrame
        Index: the true class (every class of the runs, then ``all``). Columns ``n_clips``,
        ``disagree`` (audio and video predict different scenes), ``disagree_rate``,
        ``audio_right``, ``video_right``, ``neither_right`` (counts among the
        disagreements), and per fusion run ``<run> picks right`` (disagreements where
        exactly one modality was right and the fusion run predicted that scene) and
        ``<run> pick rate`` (that count over ``audio_right + video_right``).
    """
    t, pa, _ = _names(audio)
    _, pv, _ = _names(video)
    fusion = dict(fusion or {})
    pf = {name: _names(frame)[1] for name, frame in fusion.items()}
    labels = _labels(audio, video, *fusion.values())
    dis = pa != pv
    one_right = dis & ((pa == t) ^ (pv == t))
    rows = []
    for k, scene in [*enumerate(labels), (None, "all")]:
        m = np.ones(len(t), bool) if k is None else t == scene
        d = m & dis
        row = {"scene": scene, "n_clips": int(m.sum()), "disagree": int(d.sum()),
               "disagree_rate": float(d.sum() / m.sum()) if m.sum() else np.nan,
               "audio_right": int((d & (pa == t)).sum()), "video_right": int((d & (pv == t)).sum()),
               "neither_right": int((d & (pa != t) & (pv != t)).sum())}
        for name, p in pf.items():
            picks = int((m & one_right & (p == t)).sum())
            denom = int((m & one_right).sum())
            row[f"{name} picks right"] = picks
            row[f"{name} pick rate"] = picks / denom if denom else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("scene")


def top_disagreements(audio, video, fusion=None, *, k=15):
    """The ``k`` clips on which the audio and video runs disagree most.

    Disagreement is the total variation distance ``0.5 * sum(|p_audio - p_video|)``
    between the two probability vectors (0: identical, 1: disjoint); only clips whose
    predicted scenes differ are listed.
    """
    labels = _labels(audio, video, *dict(fusion or {}).values())
    t, pa, Pa = _names(audio, labels)
    _, pv, Pv = _names(video, labels)
    dist = 0.5 * np.abs(Pa - Pv).sum(axis=1)
    idx = np.flatnonzero(pa != pv)
    idx = idx[np.argsort(-dist[idx], kind="stable")][:k]
    column = {c: k for k, c in enumerate(labels)}
    at = lambda P, p: P[idx, [column[c] for c in p[idx]]]  # noqa: E731  probability of each predicted class
    out = pd.DataFrame({
        "aid": audio["aid"].to_numpy()[idx], "scene_label": t[idx],
        "audio_pred": pa[idx], "audio_p": at(Pa, pa),
        "video_pred": pv[idx], "video_p": at(Pv, pv),
        "distance": dist[idx],
    })
    for name, frame in dict(fusion or {}).items():
        _, pf, Pf = _names(frame, labels)
        out[f"{name}_pred"] = pf[idx]
        out[f"{name}_p"] = at(Pf, pf)
    return out


def _labels(*frames):
    """Every class of the frames, in order of first appearance."""
    out = []
    for frame in frames:
        out += [c for c in unpack_predictions(None, frame)[3] if c not in out]
    return out


def _names(frame, labels=None):
    """True and predicted class names of a frame, and its probabilities over ``labels`` (0 where it lacks one)."""
    t, p, P, own = unpack_predictions(None, frame)
    names = np.asarray(own, dtype=object)
    if labels is None:
        return names[t], names[p], P
    out = np.zeros((len(P), len(labels)))
    for j, c in enumerate(own):
        out[:, labels.index(c)] = P[:, j]
    return names[t], names[p], out
