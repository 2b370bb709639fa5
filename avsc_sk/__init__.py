"""avsc-sk: classical, fast, trustworthy baselines for audio-visual scene classification."""

from .data import SCENES, FeatureSet
from .errors import AvscError

__version__ = "0.1.0"

__all__ = ["SCENES", "AvscError", "FeatureSet", "__version__"]
