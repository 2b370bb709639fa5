"""Classical audio scene descriptors, computed with numpy/scipy from a decoded wav file.

Every clip is analysed at 48 kHz (the TAU rate; other rates are resampled with a
polyphase filter, mono is treated as centred stereo), with a 2048-point STFT
(42.7 ms Hann window, 21.3 ms hop) of the mid channel ``(L + R) / 2``. The STFT frames
are then pooled into feature frames of ``hop`` seconds. librosa would give the same
descriptors but pulls in numba/llvmlite; the ~100 lines below are all it takes.
"""

import math

import numpy as np
import scipy.fft
import scipy.signal

from ..errors import DataError

__all__ = [
    "AUDIO_SR",
    "N_FFT",
    "STFT_HOP",
    "N_MELS",
    "N_MFCC",
    "audio_feature_names",
    "audio_descriptors",
    "mel_filterbank",
    "mel_band_edges",
    "frame_count",
]

#: Analysis sample rate; clips at other rates are resampled to it.
AUDIO_SR = 48000
N_FFT = 2048
STFT_HOP = 1024
N_MELS = 64
N_MFCC = 20
FMIN, FMAX = 20.0, 20000.0
#: Edges (Hz) of the spectral-contrast sub-bands: octaves from 200 Hz, as in librosa.
CONTRAST_EDGES = (0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, AUDIO_SR / 2)
_EPS = 1e-10
#: Level differences are clipped here: a silent side or channel would otherwise give -inf dB.
_DB_CLIP = 60.0
#: A clip must cover this fraction of ``n_frames * hop`` seconds, or it is reported as too short.
MIN_COVERAGE = 0.9


_CONTROLLER = None


def one_blas_thread():
    """A context that runs BLAS single-threaded.

    Results must not depend on the machine: a multi-threaded matrix product sums in another
    order (last-bit differences), and on a busy machine BLAS threads spin instead of working
    (measured 10x slower). Clips are parallelised one level up instead.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def frame_count(duration, hop):
    """Number of feature frames of a clip of nominal ``duration`` seconds: ``floor(duration / hop)``."""
    if not hop > 0 or not duration >= hop:
        raise DataError(f"hop {hop} s and duration {duration} s must satisfy 0 < hop <= duration")
    # The epsilon keeps 10 / 0.1 at 100 frames despite binary floating point.
    return int(math.floor(duration / hop + 1e-9))


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_band_edges(n_mels=N_MELS, fmin=FMIN, fmax=FMAX):
    """The ``n_mels + 2`` corner frequencies (Hz) of the triangular mel filters (HTK mel scale).

    Band ``k`` rises from ``edges[k]``, peaks at ``edges[k + 1]`` and falls to zero at ``edges[k + 2]``.
    """
    return _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))


def mel_filterbank(sr=AUDIO_SR, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX):
    """Triangular mel filters with unit peak, shape ``(n_fft // 2 + 1, n_mels)``.

    Unit peaks (rather than unit area) make a pure tone land in the band whose centre is
    nearest to it, which keeps the log-mel values easy to read.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_band_edges(n_mels, fmin, fmax)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / (mid - lo)
    down = (hi - freqs[None, :]) / (hi - mid)
    return np.maximum(0.0, np.minimum(up, down)).T.astype(np.float32)


_FB = mel_filterbank()
_FREQS_KHZ = (np.fft.rfftfreq(N_FFT, 1.0 / AUDIO_SR) / 1000.0).astype(np.float64)
_WINDOW = scipy.signal.get_window("hann", N_FFT).astype(np.float32)
_CONTRAST_BINS = [
    (int(np.searchsorted(_FREQS_KHZ * 1000, lo)), int(np.searchsorted(_FREQS_KHZ * 1000, hi, side="right")))
    for lo, hi in zip(CONTRAST_EDGES[:-1], CONTRAST_EDGES[1:])
]


def audio_feature_names():
    """Names of the ``dim`` values of one audio feature frame, in column order."""
    names = [f"logmel_mean_{k:02d}" for k in range(N_MELS)]
    names += [f"logmel_std_{k:02d}" for k in range(N_MELS)]
    names += [f"mfcc_mean_{k:02d}" for k in range(N_MFCC)]
    for d in ("centroid_khz", "bandwidth_khz", "flatness", "rolloff_khz", "rms_db", "zcr"):
        names += [f"{d}_mean", f"{d}_std"]
    names += [f"contrast_{k}" for k in range(len(CONTRAST_EDGES) - 1)]
    names += ["side_minus_mid_db", "left_minus_right_db", "lr_correlation"]
    return names


AUDIO_DIM = len(audio_feature_names())


def _frame_slices(n_samples, n_frames, hop):
    """Sample ranges of the feature frames that the signal covers by at least half a hop."""
    span = hop * AUDIO_SR
    out = []
    for i in range(n_frames):
        a, b = int(round(i * span)), int(round((i + 1) * span))
        b = min(b, n_samples)
        out.append((a, b) if b - a >= span / 2 else None)
    return out


def _db(e):
    return 10.0 * np.log10(e + _EPS)


def audio_descriptors(x, n_frames, hop=1.0):
    """Per-frame audio scene descriptors of a stereo signal at :data:`AUDIO_SR`.

    Parameters
    ----------
    x : ndarray of shape (n_samples, 2)
        Left and right channels, float, full scale +-1.
    n_frames : int
        Feature frames to return; frame ``i`` covers ``[i * hop, (i + 1) * hop)`` seconds.
    hop : float, default=1.0
        Feature frame length in seconds (at least 0.05).

    Returns
    -------
    ndarray of shape (n_frames, AUDIO_DIM), float32
        Columns as named by :func:`audio_feature_names`. A frame the signal covers by less
        than half a hop repeats the last covered frame.

    Raises
    ------
    DataError
        If the signal covers less than 90 % of ``n_frames * hop`` seconds.

    Notes
    -----
    Conventions for degenerate input, so every value is finite: a silent frame has
    centroid, bandwidth, roll-off and contrast 0, flatness 1 and log-mel at ``log(1e-10)``;
    the inter-channel correlation of a frame where either channel is silent is 0; level
    differences are clipped to +-60 dB (so a centred source has side-minus-mid -60 dB).
    """
    with one_blas_thread():
        return _audio_descriptors(x, n_frames, hop)


def _audio_descriptors(x, n_frames, hop):
    if hop < 0.05:
        raise DataError(f"audio hop {hop} s is shorter than the 0.05 s minimum (one STFT window is 43 ms)")
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    if n < MIN_COVERAGE * n_frames * hop * AUDIO_SR:
        raise DataError(
            f"clip too short: {n / AUDIO_SR:.2f} s of audio, expected at least "
            f"{MIN_COVERAGE * n_frames * hop:.2f} s ({n_frames} frames of {hop} s)"
        )
    left, right = x[:, 0], x[:, 1]
    mid = 0.5 * (left + right)
    if n < N_FFT:
        raise DataError(f"clip too short: {n} samples, fewer than one {N_FFT}-point analysis window")

    # Every per-window descriptor is computed for the whole clip at once, then pooled per
    # feature frame: one pass of vectorised numpy instead of n_frames small ones.
    n_stft = 1 + (n - N_FFT) // STFT_HOP
    frames = np.lib.stride_tricks.as_strided(
        mid, shape=(n_stft, N_FFT), strides=(STFT_HOP * mid.strides[0], mid.strides[0]), writeable=False
    )
    mag = np.abs(scipy.fft.rfft(frames * _WINDOW, axis=1))
    power = mag * mag
    per_window = _window_descriptors(mag, power)
    # Zero-crossing rate of every window from one pass over the signal.
    crossings = np.concatenate([[0], np.cumsum(np.signbit(mid[1:]) != np.signbit(mid[:-1]))])
    starts = np.arange(n_stft) * STFT_HOP
    zcr = (crossings[starts + N_FFT - 1] - crossings[starts]) / (N_FFT - 1)
    per_window = np.column_stack([per_window, zcr])

    # A window belongs to the feature frame that holds its centre.
    centres = (starts + N_FFT / 2) / AUDIO_SR
    owner = np.floor(centres / hop + 1e-9).astype(np.int64)
    bounds = np.searchsorted(owner, np.arange(n_frames + 1))

    out = np.empty((n_frames, AUDIO_DIM), dtype=np.float64)
    slices = _frame_slices(n, n_frames, hop)
    last = None
    for i in range(n_frames):
        a, b = bounds[i], bounds[i + 1]
        if slices[i] is None or b <= a:
            if last is None:
                raise DataError(f"clip too short: no complete analysis window in frame {i}")
            out[i] = out[last]
            continue
        last = i
        block = per_window[a:b].astype(np.float64)
        mean, std = block.mean(axis=0), block.std(axis=0)
        lm_mean, lm_std = mean[:N_MELS], std[:N_MELS]
        # The mean of the MFCCs is the DCT of the mean log-mel (the DCT is linear).
        mfcc = scipy.fft.dct(lm_mean, type=2, norm="ortho")[:N_MFCC]
        k = N_MELS
        n_contrast = len(_CONTRAST_BINS)
        contrast = mean[k : k + n_contrast]
        k += n_contrast
        stats = np.column_stack([mean[k:], std[k:]]).ravel()
        out[i] = np.concatenate([lm_mean, lm_std, mfcc, stats, contrast, _stereo_cues(left, right, *slices[i])])
    return out.astype(np.float32)


def _window_descriptors(mag, power):
    """Per-window log-mel, contrast, centroid, bandwidth, flatness, roll-off and level."""
    logmel = np.log(power @ _FB + _EPS)
    contrast = np.empty((mag.shape[0], len(_CONTRAST_BINS)), dtype=np.float32)
    for j, (lo, hi) in enumerate(_CONTRAST_BINS):
        band = np.sort(power[:, lo:hi], axis=1)
        q = max(1, int(round(0.02 * band.shape[1])))
        peak, valley = band[:, -q:].mean(axis=1), band[:, :q].mean(axis=1)
        contrast[:, j] = 10.0 * (np.log10(peak + _EPS) - np.log10(valley + _EPS))

    f = _FREQS_KHZ.astype(np.float32)
    msum = mag.sum(axis=1, dtype=np.float64)
    loud = msum > 0
    safe = np.where(loud, msum, 1.0)
    first = (mag @ f).astype(np.float64)
    second = (mag @ (f * f)).astype(np.float64)
    centroid = np.where(loud, first / safe, 0.0)
    # sum(m (f - c)^2) expanded, so no (windows x bins) temporary is needed.
    spread = np.maximum(second / safe - centroid**2, 0.0)
    bandwidth = np.where(loud, np.sqrt(spread), 0.0)
    pw = power + np.float32(_EPS)
    flatness = np.exp(np.log(pw).mean(axis=1, dtype=np.float64)) / pw.mean(axis=1, dtype=np.float64)
    cum = np.cumsum(mag, axis=1)
    roll_idx = np.argmax(cum >= 0.85 * cum[:, -1:], axis=1)
    rolloff = np.where(loud, _FREQS_KHZ[roll_idx], 0.0)
    # Mean-square level of the window, corrected for the Hann window's energy.
    rms_db = _db(power.sum(axis=1, dtype=np.float64) / (N_FFT * float((_WINDOW**2).sum()) / 2))
    return np.column_stack([logmel, contrast, centroid, bandwidth, flatness, rolloff, rms_db])


def _stereo_cues(left, right, a, b):
    """Side-minus-mid and left-minus-right level (dB) and inter-channel correlation of a frame."""
    seg_l, seg_r = left[a:b].astype(np.float64), right[a:b].astype(np.float64)
    e_l, e_r = np.mean(seg_l * seg_l), np.mean(seg_r * seg_r)
    e_m = np.mean(np.square(seg_l + seg_r)) / 4.0
    e_s = np.mean(np.square(seg_l - seg_r)) / 4.0
    side_mid = float(np.clip(_db(e_s) - _db(e_m), -_DB_CLIP, _DB_CLIP))
    left_right = float(np.clip(_db(e_l) - _db(e_r), -_DB_CLIP, _DB_CLIP))
    dl, dr = seg_l - seg_l.mean(), seg_r - seg_r.mean()
    denom = math.sqrt(float(np.sum(dl * dl)) * float(np.sum(dr * dr)))
    # A channel below -100 dBFS counts as silent: its correlation is undefined, reported as 0.
    corr = float(np.sum(dl * dr)) / denom if min(e_l, e_r) > _EPS and denom > 0 else 0.0
    return [side_mid, left_right, corr]
