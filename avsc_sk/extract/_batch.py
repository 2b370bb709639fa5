"""Batch extraction: plan the clips, extract them in parallel, write them in chunks, resume.

A clip is written only when every requested modality succeeded; a clip with an unreadable,
truncated or missing file is reported with the reason and skipped (never half-written with
NaN blocks), so a re-run retries exactly the skipped clips.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

from .._dask import dask_client
from .._progress import bar
from ..data import SPLITS
from ..errors import AvscError, ConfigError
from ._audio import AUDIO_SR, N_FFT, N_MELS, STFT_HOP, audio_feature_names, frame_count
from ._plan import plan_clips
from ._video import IMAGE_RATE, WORK_SIZE, extract_video, video_feature_names
from ._wav import extract_audio
from ._writer import FeatureWriter

__all__ = ["ExtractionSummary", "extract_clip", "extract_features"]

#: Bumped whenever a descriptor changes, so a resumed file never mixes two definitions.
DESCRIPTOR_VERSION = 1


@dataclass
class ExtractionSummary:
    """What an extraction did. ``skipped`` holds ``(clip_id, reason)`` pairs."""

    out: Path
    n_planned: int = 0
    n_already: int = 0
    n_written: int = 0
    skipped: list = field(default_factory=list)
    seconds: float = 0.0
    splits: dict = field(default_factory=dict)

    @property
    def other_splits(self):
        """Splits written that are not train/val/test: ``read_features`` cannot select them."""
        return sorted(s for s in self.splits if s not in SPLITS)

    @property
    def ok(self):
        return not self.skipped


def extract_clip(job, n_frames, hop=1.0, image_rate=IMAGE_RATE):
    """Extract one clip; return ``(job, {modality: array}, None)`` or ``(job, None, reason)``.

    Never raises for a bad file (the reason is one line: file name and cause), so one
    damaged clip cannot stop a batch. Must stay a module-level function: joblib and dask
    pickle it to their workers.
    """
    feats = {}
    for name, path, fn in (("audio", job.audio, extract_audio), ("video", job.video, extract_video)):
        if path is None:
            continue
        try:
            if name == "audio":
                feats[name] = fn(path, n_frames, hop)
            else:
                feats[name] = fn(path, n_frames, hop, image_rate)
        except MemoryError:
            raise
        except Exception as exc:  # a damaged file can raise anything from a decoder
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not isinstance(exc, AvscError):
                msg = f"{type(exc).__name__}: {msg}"
            return job, None, f"{path.name}: {msg}"
    return job, feats, None


def extract_features(out, audio_dir=None, video_dir=None, *, meta=None, lists=(), hop=1.0, duration=10.0,
                     image_rate=IMAGE_RATE, n_jobs=1, backend="loky", scheduler=None, chunk_size=64,
                     force=False, progress=None, on_skip=None):
    """Extract classical audio/video descriptors of raw TAU clips into a native feature file.

    Parameters
    ----------
    out : path-like
        The ``.h5`` file. If it exists (and was made by ``extract`` with the same settings)
        the clips it holds are skipped: an interrupted extraction resumes. Each clip's source
        files are recorded too, as absolute paths (``media/audio``, ``media/video``; see
        :class:`FeatureWriter`), so a report can link them.
    audio_dir, video_dir : path-like, optional
        ``<stem>.wav`` / ``<stem>.mp4`` folders; only the given modalities are extracted.
    meta, lists
        Which clips, and their splits and labels; see :func:`plan_clips`.
    hop : float, default=1.0
        Seconds per feature frame.
    duration : float, default=10.0
        Nominal clip length: every clip gets ``floor(duration / hop)`` frames (so 480,000
        and 480,001 samples give the same count). A clip shorter than 90 % of that is
        skipped as too short; otherwise a frame the clip does not cover (by at least half
        a hop) repeats the last covered one.
    image_rate : float, default=4.0
        Video images sampled per second.
    n_jobs : int, default=1
        Clips extracted at once (joblib; -1 = all cores).
    backend : {"loky", "dask"}, default="loky"
        ``dask`` runs the clips on a dask.distributed cluster through joblib's dask backend.
    scheduler : str, optional
        With ``backend="dask"``: a scheduler address, or ``"local"`` (default) for a local
        cluster of ``n_jobs`` single-threaded worker processes. Workers of a remote cluster
        need avsc-sk installed and the clip files at the same paths (a shared file system);
        only this process writes ``out``.
    chunk_size : int, default=64
        Clips per write; an interruption loses at most one chunk.
    force : bool, default=False
        Start a new file even if ``out`` exists.
    progress : callable, optional
        A progress hook (``tqdm.tqdm``'s signature; see ``avsc_sk._progress``): one bar of
        clips done, with the skipped count. ``None``: silent.
    on_skip : callable, optional
        Called as ``on_skip(clip_id, reason)`` for each clip skipped, as it happens.

    Returns
    -------
    ExtractionSummary
    """
    if not hop > 0:
        raise ConfigError(f"--hop {hop} must be positive (seconds per feature frame)")
    if hop < 0.05:
        raise ConfigError(f"--hop {hop} is shorter than the 0.05 s minimum (one audio analysis window is 43 ms)")
    if not duration >= hop:
        raise ConfigError(f"--duration {duration} must be at least --hop {hop}")
    if not image_rate > 0:
        raise ConfigError(f"--image-rate {image_rate} must be positive")
    if backend not in ("loky", "dask"):
        raise ConfigError(f"--backend {backend!r} is not one of loky, dask")
    if scheduler is not None and backend != "dask":
        raise ConfigError(f"--scheduler {scheduler} needs --backend dask")
    if n_jobs == 0 or n_jobs is None:
        raise ConfigError("--n-jobs 0 extracts nothing; use 1, N clips at once, or -1 for every core")
    if chunk_size < 1:
        raise ConfigError(f"chunk size {chunk_size} must be at least 1")
    n_frames = frame_count(duration, hop)
    t0 = time.perf_counter()
    jobs, problems = plan_clips(audio_dir, video_dir, meta=meta, lists=lists)
    modalities = {}
    if audio_dir is not None:
        modalities["audio"] = (n_frames, len(audio_feature_names()), audio_feature_names())
    if video_dir is not None:
        modalities["video"] = (n_frames, len(video_feature_names()), video_feature_names())
    settings = {
        "descriptor_version": DESCRIPTOR_VERSION, "hop": hop, "duration": duration, "n_frames": n_frames,
        "modalities": sorted(modalities),
        "audio": {"sr": AUDIO_SR, "n_fft": N_FFT, "stft_hop": STFT_HOP, "n_mels": N_MELS},
        "video": {"image_rate": image_rate, "work_size": list(WORK_SIZE)},
    }
    summary = ExtractionSummary(out=Path(out), n_planned=len(jobs) + len(problems))
    client = cluster = None
    if backend == "dask":
        # Connect before the writer creates the output: an unreachable scheduler leaves no file behind.
        client, cluster = dask_client(scheduler, n_workers=n_jobs if n_jobs and n_jobs > 0 else None)
    try:
        _extract(out, jobs, problems, modalities, settings, summary, client, n_frames, hop, image_rate,
                 n_jobs, chunk_size, force, progress, on_skip)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def _extract(out, jobs, problems, modalities, settings, summary, client, n_frames, hop, image_rate, n_jobs,
             chunk_size, force, progress, on_skip):
    """Write every clip still to do into ``out``, filling ``summary``; return how many were to do."""
    from .. import __version__

    with FeatureWriter(out, modalities, settings, f"avsc-sk {__version__}", force=force) as writer:
        done = writer.done_ids()
        todo = [j for j in jobs if j.clip_id not in done]
        summary.n_already = len(jobs) - len(todo)
        with bar(progress, "extract", total=len(todo) + len(problems), unit="clip") as shown:
            if summary.n_already:
                shown.set_postfix_str(f"resumed: {summary.n_already} already there")
            _extract_todo(writer, todo, problems, summary, n_frames, hop, image_rate, client, n_jobs, chunk_size,
                          shown, on_skip)
    return len(todo)


def _extract_todo(writer, todo, problems, summary, n_frames, hop, image_rate, client, n_jobs, chunk_size, shown,
                  on_skip):
    from joblib import Parallel, delayed, parallel_config

    def skipped(clip_id, reason):
        summary.skipped.append((clip_id, reason))
        if on_skip is not None:
            on_skip(clip_id, reason)
        shown.set_postfix_str(f"{len(summary.skipped)} skipped")

    for clip_id, reason in problems:
        skipped(clip_id, reason)
        shown.update(1)

    def write(split, rows):
        writer.append(split, rows)
        summary.n_written += len(rows)
        summary.splits[split] = summary.splits.get(split, 0) + len(rows)

    def consume(results):
        buffers = {}
        try:
            _consume(results, buffers)
        finally:
            # Completed clips are written even on Ctrl-C or an unexpected error.
            for split, buf in buffers.items():
                write(split, buf)

    def _consume(results, buffers):
        for job, feats, reason in results:
            if reason is not None:
                skipped(job.clip_id, reason)
            else:
                buf = buffers.setdefault(job.split, [])
                media = {m: str(Path(f).resolve()) if f is not None else "" for m, f in
                         (("audio", job.audio), ("video", job.video))}
                buf.append((job.clip_id, job.scene_label, job.city, job.location, feats, media))
                if len(buf) >= chunk_size:
                    buffers[job.split] = []
                    write(job.split, buf)
            shown.update(1)

    tasks = (delayed(extract_clip)(j, n_frames, hop, image_rate) for j in todo)
    if not todo:
        pass
    elif client is not None:
        with parallel_config(backend="dask"):
            consume(Parallel(return_as="generator")(tasks))
    elif n_jobs == 1:
        consume(extract_clip(j, n_frames, hop, image_rate) for j in todo)
    else:
        # Each worker decodes single-threaded; BLAS threads are capped by loky per worker.
        consume(Parallel(n_jobs=n_jobs, return_as="generator", batch_size=1)(tasks))
