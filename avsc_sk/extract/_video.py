"""Classical video scene descriptors from an mp4 file, decoded with PyAV (no system ffmpeg).

A few images per second (``image_rate``, default 4) are sampled; only those are converted
from YUV and scaled, by libswscale, to a fixed 160x90 working size, so a 720p clip costs
little more than its decoding. The H.264 decoder runs single-threaded: parallelism comes
from extracting several clips at once (``--n-jobs``), which keeps speeds per core honest.
"""

import numpy as np

from ..errors import DataError, MissingDependencyError
from ._audio import MIN_COVERAGE, one_blas_thread

__all__ = ["WORK_SIZE", "IMAGE_RATE", "video_feature_names", "image_descriptors", "video_descriptors",
           "extract_video", "sample_images"]

#: (width, height) every sampled image is scaled to, whatever the source size.
WORK_SIZE = (160, 90)
#: Images sampled per second of video by default.
IMAGE_RATE = 4.0
HUE_BINS, SAT_BINS, VAL_BINS = 16, 8, 8
GRID = 3
ORIENT_BINS = 8
#: Gradient magnitude (luma in 0..1 per pixel) above which a pixel counts as an edge.
EDGE_THRESHOLD = 0.1
#: Absolute luma change between sampled images above which a pixel counts as moving.
MOTION_THRESHOLD = 0.1
_EPS = 1e-12


def video_feature_names():
    """Names of the ``dim`` values of one video feature frame, in column order."""
    names = [f"hue_{k:02d}" for k in range(HUE_BINS)]
    names += [f"sat_{k}" for k in range(SAT_BINS)]
    names += [f"val_{k}" for k in range(VAL_BINS)]
    names += [f"grad_r{r}c{c}_o{o}" for r in range(GRID) for c in range(GRID) for o in range(ORIENT_BINS)]
    names += ["edge_density", "luma_mean", "luma_std", "luma_p05", "luma_p95", "sat_mean", "sat_std"]
    names += ["motion_mean", "motion_max", "motion_fraction"]
    return names


VIDEO_DIM = len(video_feature_names())
_N_IMAGE = VIDEO_DIM - 3  # everything but motion is a per-image descriptor


def _hsv(rgb):
    """Hue (0..1), saturation and value (0..1) of an RGB uint8 image, vectorised."""
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(axis=-1)
    delta = v - x.min(axis=-1)
    s = np.where(v > 0, delta / np.maximum(v, _EPS), 0.0)
    d = np.maximum(delta, _EPS)
    h = np.where(v == r, (g - b) / d, np.where(v == g, 2.0 + (b - r) / d, 4.0 + (r - g) / d))
    h = np.where(delta > 0, (h / 6.0) % 1.0, 0.0)
    return h, s, v


def image_descriptors(rgb):
    """Descriptors of one RGB uint8 image (any size), and its luma for motion.

    Returns
    -------
    desc : ndarray of shape (VIDEO_DIM - 3,)
        HSV histograms (hue weighted by saturation, so greys do not vote for red), a
        3x3 grid of 8-bin unsigned gradient-orientation histograms (magnitude-weighted,
        L1-normalised per cell; a flat cell is all zeros), edge density, luma mean, std,
        5th and 95th percentiles, saturation mean and std.
    luma : ndarray of shape (height, width), float32 in 0..1
    """
    h, s, v = _hsv(rgb)
    n = h.size
    hue = np.bincount(np.minimum((h * HUE_BINS).astype(np.int64), HUE_BINS - 1).ravel(),
                      weights=s.ravel(), minlength=HUE_BINS)
    hue = hue / max(hue.sum(), _EPS)
    sat = np.bincount(np.minimum((s * SAT_BINS).astype(np.int64), SAT_BINS - 1).ravel(), minlength=SAT_BINS) / n
    val = np.bincount(np.minimum((v * VAL_BINS).astype(np.int64), VAL_BINS - 1).ravel(), minlength=VAL_BINS) / n

    luma = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)) / 255.0
    gx = np.zeros_like(luma)
    gy = np.zeros_like(luma)
    gx[:, 1:-1] = 0.5 * (luma[:, 2:] - luma[:, :-2])
    gy[1:-1, :] = 0.5 * (luma[2:, :] - luma[:-2, :])
    mag = np.hypot(gx, gy)
    theta = np.arctan2(gy, gx) % np.pi
    obin = np.minimum((theta / np.pi * ORIENT_BINS).astype(np.int64), ORIENT_BINS - 1)
    hh, ww = luma.shape
    rows = np.minimum(np.arange(hh) * GRID // hh, GRID - 1)
    cols = np.minimum(np.arange(ww) * GRID // ww, GRID - 1)
    cell = rows[:, None] * GRID + cols[None, :]
    hog = np.bincount((cell * ORIENT_BINS + obin).ravel(), weights=mag.ravel(),
                      minlength=GRID * GRID * ORIENT_BINS).reshape(GRID * GRID, ORIENT_BINS)
    hog = (hog / np.maximum(hog.sum(axis=1, keepdims=True), _EPS)).ravel()
    edge = np.mean(mag > EDGE_THRESHOLD)
    p05, p95 = np.percentile(luma, [5, 95])
    stats = [edge, luma.mean(), luma.std(), p05, p95, s.mean(), s.std()]
    return np.concatenate([hue, sat, val, hog, stats]), luma


def sample_images(path, duration, image_rate=IMAGE_RATE, size=WORK_SIZE):
    """Decode ``path`` and yield ``(time_s, rgb)`` for about ``image_rate`` images per second.

    Decoding stops at ``duration`` seconds. An image is taken at each target time
    ``k / image_rate`` (the first decoded frame at or after it); a target the video skips
    over is not filled twice, so a low-frame-rate video gives fewer, distinct images.

    Raises
    ------
    DataError
        If the file cannot be opened or decoded, or holds no video stream.
    """
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a declared extra
        raise MissingDependencyError("video extraction needs PyAV; install avsc-sk[extract]") from exc
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(f"cannot open video: {str(exc).splitlines()[0]}") from None
    with container:
        if not container.streams.video:
            raise DataError("no video stream in file")
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        half = 0.5 / float(stream.average_rate or 30)
        step = 1.0 / image_rate
        disposable = _disposable_test(stream)
        origin = stream.start_time * stream.time_base if stream.start_time is not None else None
        t0 = None
        next_t = 0.0
        try:
            for packet in container.demux(stream):
                if disposable is not None and packet.size and packet.pts is not None and origin is not None:
                    # A non-reference frame no target lands on is never decoded: no later frame
                    # depends on it, so the images taken are exactly those of a full decode.
                    pt = float(packet.pts * stream.time_base - origin)
                    k = round(pt / step)
                    if abs(pt - k * step) > half + 1e-3 and disposable(packet):
                        continue
                for frame in packet.decode():
                    if frame.time is None:
                        continue
                    if t0 is None:
                        t0 = frame.time
                    t = frame.time - t0
                    if t >= duration:
                        return
                    # Half a source frame of slack, so 30 fps frames at 0.2333 s count for 0.25 s.
                    if t + half < next_t:
                        continue
                    # AREA averages the source pixels: no aliasing, and 4x faster than the bicubic default.
                    rgb = frame.reformat(width=size[0], height=size[1], format="rgb24",
                                         interpolation="AREA").to_ndarray()
                    yield t, rgb
                    next_t += step
                    while next_t <= t:
                        next_t += step
        except av.FFmpegError as exc:
            raise DataError(f"cannot decode video: {str(exc).splitlines()[0]}") from None


def _disposable_test(stream):
    """A test ``packet -> bool`` for H.264 frames no other frame references, or None.

    Only for H.264 in mp4 (length-prefixed NAL units, as GoPro writes it): a packet whose
    slices all have ``nal_ref_idc == 0`` can be dropped without affecting any other frame.
    """
    ctx = stream.codec_context
    extradata = ctx.extradata
    if ctx.name != "h264" or not extradata or extradata[0] != 1 or len(extradata) < 5:
        return None
    nal_len = (extradata[4] & 3) + 1

    def test(packet):
        data = bytes(packet)
        pos, n, slices = 0, len(data), 0
        while pos + nal_len < n:
            size = int.from_bytes(data[pos:pos + nal_len], "big")
            header = data[pos + nal_len]
            if header & 0x1F in (1, 5):  # coded slice
                if header & 0x60:
                    return False
                slices += 1
            pos += nal_len + size
        return slices > 0

    return test


def video_descriptors(images, n_frames, hop=1.0):
    """Per-frame video descriptors from ``(time_s, rgb)`` images in time order.

    Parameters
    ----------
    images : iterable of (float, ndarray of shape (h, w, 3) uint8)
    n_frames : int
        Frame ``i`` pools the images taken in ``[i * hop, (i + 1) * hop)`` seconds.
    hop : float, default=1.0

    Returns
    -------
    ndarray of shape (n_frames, VIDEO_DIM), float32
        Per-image descriptors averaged over the frame's images, then motion energy: the
        mean and max over the frame's consecutive image pairs of the mean absolute luma
        change, and the mean fraction of pixels that changed by more than 0.1. A frame's
        first image pairs with the previous frame's last one; the clip's first image has
        no pair. A frame without images repeats the previous frame.

    Raises
    ------
    DataError
        If the images cover less than 90 % of ``n_frames * hop`` seconds.
    """
    with one_blas_thread():
        return _video_descriptors(images, n_frames, hop)


def _video_descriptors(images, n_frames, hop):
    sums = np.zeros((n_frames, _N_IMAGE))
    counts = np.zeros(n_frames, dtype=np.int64)
    motion = [[] for _ in range(n_frames)]
    prev = None
    last_t = -1.0
    for t, rgb in images:
        i = int(np.floor(t / hop + 1e-9))
        if i >= n_frames:
            break
        desc, luma = image_descriptors(rgb)
        sums[i] += desc
        counts[i] += 1
        if prev is not None and prev.shape == luma.shape:
            diff = np.abs(luma - prev)
            motion[i].append((diff.mean(), np.mean(diff > MOTION_THRESHOLD)))
        prev = luma
        last_t = t
    # The last image stands for one image period, so 9.75 s of 4-Hz images covers 10 s.
    if counts.sum() == 0 or last_t + hop / 2 < MIN_COVERAGE * n_frames * hop:
        raise DataError(
            f"clip too short: video images reach {max(last_t, 0):.2f} s, expected at least "
            f"{MIN_COVERAGE * n_frames * hop:.2f} s ({n_frames} frames of {hop} s)"
        )
    out = np.empty((n_frames, VIDEO_DIM))
    last = None
    for i in range(n_frames):
        if counts[i] == 0:
            if last is None:
                # The clip starts late: borrow the first frame that has images.
                first = int(np.flatnonzero(counts)[0])
                out[i, :_N_IMAGE] = sums[first] / counts[first]
                out[i, _N_IMAGE:] = 0.0
            else:
                out[i] = out[last]
            continue
        last = i
        out[i, :_N_IMAGE] = sums[i] / counts[i]
        if motion[i]:
            m = np.asarray(motion[i])
            out[i, _N_IMAGE:] = [m[:, 0].mean(), m[:, 0].max(), m[:, 1].mean()]
        else:
            out[i, _N_IMAGE:] = 0.0
    return out.astype(np.float32)


def extract_video(path, n_frames, hop=1.0, image_rate=IMAGE_RATE):
    """Decode ``path`` and return its ``(n_frames, VIDEO_DIM)`` float32 descriptors."""
    return video_descriptors(sample_images(path, n_frames * hop, image_rate), n_frames, hop)
