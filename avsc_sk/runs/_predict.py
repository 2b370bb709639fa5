"""Predicting with a loaded run: features checked against its manifest, the prediction frame, warnings."""

import numpy as np

from ..errors import DataError
from ._score import no_modality_warning, predict_proba_scenes, scoring_warnings
from ._store import run_stats


def check_features(manifest, data):
    """Features laid out as the run was trained on: ``data`` itself, or its frames spread to the trained count.

    Pooling (mean, std, ... over frames) does not depend on the frame count, but a fitted
    model pools a fixed number of frames; clips with another count are given that many
    frames spread evenly over each clip (frame ``i * n // n_trained``; whole repeats when
    there are fewer), which :func:`feature_warnings` reports. Segment mode cuts clips into
    segments of a fixed frame count, so there a different count is refused.

    Raises
    ------
    DataError
        If the modalities or their dimensions differ, or the frame counts differ in segment mode.
    """
    trained = [tuple(m) for m in manifest["modalities"]]
    stats = run_stats(manifest)
    if data.stats != stats:
        held = lambda s: "frames" if s is None else f"the statistics {list(s)}"  # noqa: E731
        raise DataError(f"{data.source or 'features'} hold {held(data.stats)} but the model was trained on "
                        f"{held(stats)}; read them alike (read_features(..., stats=run_stats(run.manifest)))")
    if list(data.modalities) == trained:
        return data
    same_dims = [(n, d) for n, _, d in data.modalities] == [(n, d) for n, _, d in trained]
    segment = (manifest.get("config") or {}).get("segment_frames") or 0
    if same_dims and not segment:
        # Statistics pooled while reading cover every frame of a clip, whatever their count.
        return data if data.stats is not None else _spread_frames(data, trained)
    hint = "predict with features extracted and laid out like the training data"
    frames = {f for _, f, _ in trained}
    if same_dims and len(frames) == 1:
        hint = f"only the frame counts differ, which segment mode (segment_frames = {segment}) cannot take: " \
               f"read the features with --max-frames {frames.pop()} (max_frames=...) as in training"
    raise DataError(
        f"{data.source or 'features'} hold modalities {list(data.modalities)} but the model was trained on "
        f"{trained}; {hint}"
    )


def _frame_count_warning(manifest, data):
    """The warning for clips :func:`check_features` gives spread frames, or None."""
    counts = {n: f for n, f, _ in manifest.get("modalities", [])}
    other = [(n, counts[n], f) for n, f, _ in data.modalities if n in counts and counts[n] != f]
    if not other:
        return None
    what = ", ".join(f"{n} {got} instead of {want}" for n, want, got in other)
    if data.stats is not None:
        return (f"{data.source or 'these features'} hold clips of another frame count than the run was trained "
                f"on ({what}); their statistics are pooled over all their frames, as in training")
    return (f"{data.source or 'these features'} hold clips of another frame count than the run was trained on "
            f"({what}); each clip is predicted from that many frames spread evenly over it (as the DCASE 2021 "
            "baseline scores clips), not from all of them: fit on these features to pool every frame")


def _spread_frames(data, trained):
    from ..data import FeatureSet

    blocks = []
    for name, n_frames, dim in trained:
        frames = data.frames(name)
        index = np.arange(n_frames) * frames.shape[1] // n_frames
        blocks.append(frames[:, index].reshape(data.n_clips, n_frames * dim))
    return FeatureSet(np.ascontiguousarray(np.hstack(blocks)), trained, data.clip_ids, data.y, data.city,
                      data.location, data.split, data.source, data.synthetic, classes=data.classes)


def feature_warnings(manifest, data, *, max_frames=None):
    """One-line warnings about features that fit the run's layout but differ from its training data.

    Parameters
    ----------
    manifest : dict
        The run's manifest.
    data : FeatureSet
        Features about to be predicted (already accepted by :func:`check_features`).
    max_frames : int, optional
        The ``max_frames`` they were read with.

    Returns
    -------
    list of str
        Empty when nothing differs: every clip has a modality the run reads, the frames were cut as in training, the data are as
        synthetic (or real) as the training data, none of their clips was trained on and
        training saw every scene they are labelled with.
    """
    train = manifest.get("train", {})
    out = [message] if (message := _frame_count_warning(manifest, data)) else []
    if message := no_modality_warning(manifest.get("fusion", ""), manifest.get("modalities", ()), data):
        out.append(message)
    trained_cut = train.get("max_frames")
    if trained_cut is not None and max_frames is not None and trained_cut != max_frames:
        out.append(f"the run was trained on features read with max_frames={trained_cut} but these were read with "
                   f"max_frames={max_frames}; frame statistics (pooling) may cover a different span of each clip, "
                   f"pass --max-frames {trained_cut}")
    if bool(manifest.get("synthetic")) != bool(data.synthetic):
        kind = ("SYNTHETIC", "real") if manifest.get("synthetic") else ("real", "SYNTHETIC")
        out.append(f"the run was trained on {kind[0]} data but {data.source or 'these features'} hold {kind[1]} "
                   "data; scores do not carry over from one to the other")
    clip_ids = train.get("clip_ids")
    if clip_ids is None and train.get("n_clips") == data.n_clips and train.get("fingerprint") == data.fingerprint():
        clip_ids = data.clip_ids  # a run saved without its clip list: only the whole split is recognised
    out.extend(scoring_warnings(manifest.get("classes", ()), clip_ids, data,
                                trained=f"the run's training split {train.get('split', '')}".rstrip()))
    return out


def predict_frame(run, data, *, n_jobs=1, coverage=None, coverage_by="all", non_empty=False):
    """Predict a FeatureSet with a loaded run; returns the reference prediction frame.

    ``n_jobs`` > 1 predicts chunks of clips at once (see :func:`predict_proba_scenes`). With
    ``coverage`` (strictly between 0 and 1) the frame gets a last column ``prediction_set``: each
    clip's conformal prediction set from the run's calibration (:func:`run_calibration`), scenes
    joined by ``|``, most probable first; ``coverage_by="class"`` takes one threshold per class.
    The sets are the exact split-conformal ones, empty where no scene is probable enough;
    ``non_empty=True`` gives those clips their most probable scene instead.
    """
    from ..evaluation import SET_COLUMN, check_coverage, check_coverage_by, format_sets, prediction_frame, \
        prediction_sets

    if coverage is not None:  # before the long work
        coverage, coverage_by = check_coverage(coverage), check_coverage_by(coverage_by)
        calibration = run_calibration(run)
    data = check_features(run.manifest, data)
    proba = predict_proba_scenes(run.model, data.X, n_jobs=n_jobs)
    classes = [str(c) for c in run.model.classes_]
    frame = prediction_frame(data.clip_ids, proba, classes, data.y)
    if coverage is not None:
        frame[SET_COLUMN] = format_sets(prediction_sets(proba, classes, calibration, coverage, by=coverage_by,
                                                             non_empty=bool(non_empty)))
        frame.attrs.update(coverage=coverage, coverage_by=coverage_by)
    return frame


def run_calibration(run):
    """The run's conformal calibration record (``manifest["calibration"]``), or a RunError saying how to get one."""
    calibration = run.manifest.get("calibration")
    if not calibration or not calibration.get("scores"):
        from ..errors import RunError

        raise RunError(f"run {run.path} holds no calibration for prediction sets (it was fitted without "
                       "--calibrate); re-fit it with avsc-sk fit --calibrate --config "
                       f"{run.path / 'config.toml'} --out NEW_RUN_DIR")
    return calibration
