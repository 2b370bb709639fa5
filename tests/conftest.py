import numpy as np
import pytest

from avsc_sk.data import SCENES, FeatureSet
from avsc_sk.datasets import load_fold1_metadata


def small_featureset(split="train", n_per_class=12, n_frames=4, dims=(6, 3), seed=0, names=("audio", "video")):
    """Real clip names, learnable random frames: a few clips per scene."""
    meta = load_fold1_metadata()
    meta = meta[meta["split"] == split]
    # One clip per location before a second from any: every scene then spans several locations,
    # as the checked location-grouped folds of the heads and fusions need.
    meta = meta.assign(_rank=meta.groupby("location").cumcount()).sort_values(["_rank"], kind="stable")
    meta = meta.groupby("scene_label", sort=True).head(n_per_class).sort_values(["scene_label", "clip_id"])
    rng = np.random.default_rng(seed)
    y = meta["scene_label"].to_numpy(dtype=object)
    codes = np.array([SCENES.index(s) for s in y])
    blocks = []
    for dim in dims:
        centres = rng.normal(size=(len(SCENES), dim))
        frames = centres[codes][:, None, :] + rng.normal(scale=1.0, size=(len(y), n_frames, dim))
        blocks.append(np.abs(frames).reshape(len(y), -1))
    X = np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)
    mods = [(name, n_frames, dim) for name, dim in zip(names, dims)]
    return FeatureSet(X, mods, meta["clip_id"], y, meta["city"], meta["location"], split=split)


@pytest.fixture
def small_train():
    return small_featureset("train")


@pytest.fixture
def small_test():
    return small_featureset("test", n_per_class=6, seed=0)


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # Tests fit many tiny models: BLAS threads only add overhead there, and on a shared
    # 2-core machine they oversubscribe the CPU (measured: a fusion module 4 s vs 58 s).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
