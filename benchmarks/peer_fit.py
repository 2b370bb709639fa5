"""A hand-written peer of ``avsc-sk fit --fusion early`` (no avsc-sk import), for benchmarks/bench_commands.py.

    python benchmarks/peer_fit.py FEATURES.h5 MODEL.skops [--C 0.01]

Reads a native avsc-sk feature file with h5py: each split's modality matrix at once,
mean over frames, modalities side by side; fits StandardScaler + LogisticRegression on
train+val, saves the pipeline with skops and prints test accuracy and log loss.
"""

import argparse

import h5py
import numpy as np
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def pooled(fh, split):
    group = fh[split]
    blocks = []
    for name in sorted(group["features"]):
        ds = group["features"][name]
        frames, dim = int(ds.attrs["n_frames"]), int(ds.attrs["dim"])
        blocks.append(ds[()].reshape(len(ds), frames, dim).mean(axis=1))
    labels = np.array([s.decode() if isinstance(s, bytes) else s for s in group["scene_label"][()]])
    return np.hstack(blocks), labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("features")
    parser.add_argument("model")
    parser.add_argument("--C", type=float, default=0.01)
    args = parser.parse_args()
    with h5py.File(args.features, "r") as fh:
        parts = [pooled(fh, s) for s in ("train", "val") if s in fh]
        X_test, y_test = pooled(fh, "test")
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000))
    model.fit(X, y)
    sio.dump(model, args.model)
    proba = model.predict_proba(X_test)
    print(f"accuracy {accuracy_score(y_test, model.classes_[proba.argmax(1)]):.3f} "
          f"log loss {log_loss(y_test, proba, labels=model.classes_):.3f}")


if __name__ == "__main__":
    main()
