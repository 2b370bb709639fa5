"""Built-in data: the real fold1 metadata and a deterministic generator of TAU-shaped embeddings."""

from ._builtin import SYNTHETIC_BANNER, cache_dir, load_tau_like, write_tau_like
from ._metadata import load_fold1_metadata
from ._synthetic import GENERATOR_VERSION, make_tau_like

__all__ = ["GENERATOR_VERSION", "SYNTHETIC_BANNER", "cache_dir", "load_fold1_metadata", "load_tau_like", "make_tau_like",
           "write_tau_like"]
