"""The conflict browser's media: links to each clip's source files and one frame of its video.

Features made by ``avsc-sk extract`` record every clip's wav and mp4 (``FeatureSet.media``). A
link is relative to the report's folder where one exists (the report and the dataset can move
together), else a ``file://`` URI. A thumbnail is a small PNG inlined as a ``data:`` URI, so the
page stays one self-contained file; nothing here writes a file.
"""

import base64
import io
import os
import urllib.parse
from pathlib import Path

from ..errors import DataError, MissingDependencyError

__all__ = ["THUMBNAIL_WIDTH", "attach_media", "media_href", "video_thumbnail", "video_thumbnails"]

#: Width in pixels of a conflict browser thumbnail (the height keeps the video's aspect).
THUMBNAIL_WIDTH = 96


def _import_av():
    try:
        import av
    except ImportError:
        raise MissingDependencyError("video thumbnails need PyAV; install avsc-sk[extract]") from None
    return av


def video_thumbnail(path, *, width=THUMBNAIL_WIDTH):
    """The middle frame of a video, ``width`` pixels wide, as a ``data:image/png;base64,...`` URI.

    Parameters
    ----------
    path : str or path-like
        A video file PyAV decodes (the dataset's mp4).
    width : int, default=96

    Returns
    -------
    str

    Raises
    ------
    DataError
        If the file cannot be opened or decoded, or holds no video frame.
    MissingDependencyError
        Without PyAV.
    """
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"{path}: no video stream; record the clip's mp4 (avsc-sk extract --video-dir)")
            frame = _middle_frame(av, container, container.streams.video[0])
            height = max(1, round(width * frame.height / frame.width))
            rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
    except DataError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(f"cannot decode video {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                        "; check the file or extract the clip again") from None
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, rgb, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _middle_frame(av, container, stream):
    """The first frame at or after the middle of ``stream`` (its last frame if none is)."""
    tb = stream.time_base
    origin = float(stream.start_time * tb) if stream.start_time is not None else 0.0
    if stream.duration is not None:
        length = float(stream.duration * tb)
    else:
        length = container.duration / av.time_base if container.duration else 0.0
    target = origin + length / 2
    if target > origin:
        try:
            # Lands on the keyframe before the target: a few frames decoded, not half the clip.
            container.seek(int(target / tb), stream=stream)
        except av.FFmpegError:
            pass  # an unseekable file is decoded from its start
    half = 0.5 / float(stream.average_rate or 30)
    last = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is not None and frame.time + half >= target:
            break
    if last is None:
        raise DataError(f"{container.name}: no video frame decodes; check the file or extract the clip again")
    return last


def video_thumbnails(paths, *, width=THUMBNAIL_WIDTH):
    """Thumbnails of many videos (see :func:`video_thumbnail`).

    Parameters
    ----------
    paths : iterable of str
    width : int, default=96

    Returns
    -------
    dict of str to str
        Path to its data URI, for every path that decodes; missing and damaged files are left out.

    Raises
    ------
    MissingDependencyError
        Without PyAV.
    """
    _import_av()
    out = {}
    for path in paths:
        try:
            out[path] = video_thumbnail(path, width=width)
        except DataError:
            continue
    return out


def media_href(path, base=None):
    """The ``href`` of a media file on a page in folder ``base``: relative if it can be, else a ``file://`` URI.

    Parameters
    ----------
    path : str or path-like
    base : str or path-like, optional
        The page's folder, absolute; ``None``: always a ``file://`` URI.

    Returns
    -------
    str
        Percent-encoded (not html-escaped).
    """
    path = Path(path).absolute()
    if base is not None:
        try:
            return urllib.parse.quote(Path(os.path.relpath(path, base)).as_posix())
        except ValueError:  # another drive (Windows): no relative path exists
            pass
    return path.as_uri()


def attach_media(table, media, *, thumbnails=True):
    """The conflict browser's rows with each clip's source files, and a frame of each video.

    Parameters
    ----------
    table : DataFrame
        From :func:`avsc_sk.report.conflict_browser_table` (column ``aid``).
    media : mapping of str to (str, str)
        Clip id to its ``(audio path, video path)``; ``""`` or a clip left out: no file.
    thumbnails : bool, default=True
        Decode a frame of each video that exists (needs PyAV).

    Returns
    -------
    table : DataFrame
        A copy with the columns ``audio_path`` and ``video_path``.
    frames : dict of str to str
        Clip id to the data URI of its video's frame (rows whose video decodes).
    missing : set of str
        The recorded paths that are not files.
    notes : list of str
        One line each for the report, when they apply: clips linking a missing file, no PyAV, and
        videos that do not decode.
    """
    table = table.copy()
    pairs = [tuple(media.get(str(aid)) or ("", "")) for aid in table["aid"]]
    table["audio_path"] = [str(a or "") for a, _ in pairs]
    table["video_path"] = [str(v or "") for _, v in pairs]
    missing = {p for p in (*table["audio_path"], *table["video_path"]) if p and not os.path.isfile(p)}
    notes, frames = [], {}
    lost = {k: [p for p in table[f"{k}_path"] if p in missing] for k in ("audio", "video")}
    if lost["audio"] or lost["video"]:
        example = (lost["video"] or lost["audio"])[0]
        n = sum(a in missing or v in missing for a, v in zip(table["audio_path"], table["video_path"]))
        notes.append(f"{n} conflict-browser clip(s) link a missing file "
                     f"({len(lost['audio'])} audio, {len(lost['video'])} video; e.g. {example}): their links say "
                     "(missing), and a clip whose video is missing shows no frame")
    videos = [v for v in table["video_path"] if v and v not in missing]
    if thumbnails and videos:
        try:
            decoded = video_thumbnails(videos)
        except MissingDependencyError:
            notes.append("the conflict browser links the media files but shows no video frames: PyAV is not "
                         "installed (pip install 'avsc-sk[extract]')")
        else:
            frames = {str(aid): decoded[v] for aid, v in zip(table["aid"], table["video_path"]) if v in decoded}
            bad = [v for v in videos if v not in decoded]
            if bad:
                notes.append(f"{len(bad)} conflict-browser clip(s) show no video frame: their video does not decode "
                             f"(e.g. {bad[0]})")
    return table, frames, missing, notes
