"""Built-in data: the real fold1 metadata and a deterministic generator of TAU-shaped embeddings."""

from ._metadata import load_fold1_metadata

__all__ = ["load_fold1_metadata"]
