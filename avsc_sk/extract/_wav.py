"""Reading audio: a sound file decoded to float32 stereo at the analysis rate, truncated wavs refused."""

import os
import struct
from fractions import Fraction

import numpy as np
import scipy.signal

from ..errors import DataError, MissingDependencyError
from ._audio import AUDIO_SR, audio_descriptors

__all__ = ["load_audio", "extract_audio"]


def _check_wav_header(path):
    """Raise DataError if a RIFF/WAVE file declares more audio data than it holds.

    libsndfile silently shortens a truncated wav to what is there; a half-copied file
    must be reported instead of analysed as a short clip.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return
            cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            pos += 8
            if cid == b"data":
                if clen != 0xFFFFFFFF and pos + clen > size:
                    raise DataError(
                        f"truncated wav: header declares {clen} bytes of audio, file holds {size - pos}"
                    )
                return
            pos += clen + (clen & 1)
            fh.seek(pos)


def load_audio(path):
    """Decode a sound file to float32 stereo at :data:`AUDIO_SR`.

    Returns
    -------
    ndarray of shape (n_samples, 2)
        Mono files are duplicated (a centred source); from more than two channels the
        first two are kept; other rates are resampled with ``scipy.signal.resample_poly``.

    Raises
    ------
    DataError
        If the file cannot be decoded, is truncated, or holds no samples.
    """
    try:
        import soundfile as sf
    except ImportError as exc:  # pragma: no cover - soundfile is a declared extra
        raise MissingDependencyError("audio extraction needs soundfile; install avsc-sk[extract]") from exc
    _check_wav_header(path)
    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.SoundFileError) as exc:
        raise DataError(f"cannot decode audio: {str(exc).splitlines()[0]}") from None
    if x.shape[0] == 0:
        raise DataError("audio file holds no samples")
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    elif x.shape[1] > 2:
        x = x[:, :2]
    if sr != AUDIO_SR:
        ratio = Fraction(AUDIO_SR, int(sr))
        x = scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0).astype(np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


def extract_audio(path, n_frames, hop=1.0):
    """Decode ``path`` and return its ``(n_frames, AUDIO_DIM)`` float32 descriptors.

    See :func:`load_audio` and :func:`audio_descriptors`.
    """
    return audio_descriptors(load_audio(path), n_frames, hop)
