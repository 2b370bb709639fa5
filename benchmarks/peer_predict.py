"""A hand-written peer of ``avsc-sk predict`` (no avsc-sk import), for benchmarks/bench_commands.py.

    python benchmarks/peer_predict.py FEATURES.h5 MODEL.skops PREDICTION.csv

Loads the pipeline saved by peer_fit.py (skops, trusting only what it holds), mean-pools the
test split and writes the reference prediction format (tab-separated, probabilities %.3f).
"""

import csv
import sys

import skops.io as sio

from peer_fit import pooled


def main():
    features, model_path, out = sys.argv[1:4]
    model = sio.load(model_path, trusted=sio.get_untrusted_types(file=model_path))
    import h5py

    with h5py.File(features, "r") as fh:
        X, y = pooled(fh, "test")
        ids = [s.decode() if isinstance(s, bytes) else s for s in fh["test"]["clip_id"][()]]
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["aid", "scene_pred", "scene_label", *classes])
        for aid, label, row in zip(ids, y, proba):
            writer.writerow([aid, classes[row.argmax()], label, *(f"{p:.3f}" for p in row)])


if __name__ == "__main__":
    main()
