"""Classical audio and video scene descriptors straight from the dataset's wav and mp4 files.

A dependency-light alternative to OpenL3: numpy/scipy audio descriptors (log-mel, MFCC,
spectral shape, stereo cues) and PyAV video descriptors (HSV histograms, gradient
orientations, edges, brightness, motion), one frame per ``hop`` seconds, written in the
native feature format so every fusion mode, report and search works on them unchanged.
"""

from ._audio import (
    AUDIO_SR,
    audio_descriptors,
    audio_feature_names,
    frame_count,
    mel_band_edges,
    mel_filterbank,
)
from ._batch import ExtractionSummary, extract_clip, extract_features
from ._plan import ClipJob, plan_clips, split_of_list
from ._video import extract_video, image_descriptors, sample_images, video_descriptors, video_feature_names
from ._wav import extract_audio, load_audio
from ._writer import FeatureWriter

__all__ = [
    "AUDIO_SR",
    "ClipJob",
    "ExtractionSummary",
    "FeatureWriter",
    "audio_descriptors",
    "audio_feature_names",
    "extract_audio",
    "extract_clip",
    "extract_features",
    "extract_video",
    "frame_count",
    "image_descriptors",
    "load_audio",
    "mel_band_edges",
    "mel_filterbank",
    "plan_clips",
    "sample_images",
    "split_of_list",
    "video_descriptors",
    "video_feature_names",
]
