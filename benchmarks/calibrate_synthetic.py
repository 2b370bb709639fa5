"""Calibration check of the synthetic generator against the study's figures (fold1 evaluate).

The default pipeline of each mode (make_estimator: mean pooling, StandardScaler, the default logreg head), trained on
train+val (8,646 synthetic clips), scored on test (3,645). Prints accuracy and log loss for
audio, video, early fusion, and weighted late fusion over blend weights 0..1.
Usage: python benchmarks/calibrate_synthetic.py [--seed S] [--frames F] [--dim D]
"""

import argparse
import time

import numpy as np
from sklearn.metrics import accuracy_score, log_loss
from threadpoolctl import threadpool_limits

from avsc_sk.data import SCENES, concat_featuresets
from avsc_sk.datasets._synthetic import make_tau_like
from avsc_sk.fusion import make_estimator


def evaluate(data, per_class=False):
    tr = concat_featuresets([data["train"], data["val"]])
    te = data["test"]
    res, probs = {}, {}
    for name in ("audio", "video", "early"):
        clf = make_estimator(name, tr.modalities).fit(tr.X, tr.y)
        p = clf.predict_proba(te.X).astype(np.float64)
        p /= p.sum(axis=1, keepdims=True)
        probs[name] = p
        pred = clf.classes_[p.argmax(1)]
        res[name] = (accuracy_score(te.y, pred), log_loss(te.y, p, labels=clf.classes_))
        if per_class:
            res[name + "_cls"] = {s: float(np.mean(pred[te.y == s] == s)) for s in SCENES}
    classes = np.array(sorted(SCENES))
    best = None
    for w in np.linspace(0, 1, 21):
        p = w * probs["audio"] + (1 - w) * probs["video"]
        r = (accuracy_score(te.y, classes[p.argmax(1)]), log_loss(te.y, p, labels=classes), w)
        if best is None or r[0] > best[0]:
            best = r
    res["weighted"] = best
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--per-class", action="store_true")
    a = ap.parse_args()
    t = time.perf_counter()
    data = make_tau_like(n_frames=a.frames, dim=a.dim, seed=a.seed)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    with threadpool_limits(1):
        res = evaluate(data, a.per_class)
    fit = time.perf_counter() - t
    print(f"SYNTHETIC data, seed={a.seed}: generation {gen:.1f} s, fitting {fit:.1f} s")
    for k in ("audio", "video", "early"):
        print(f"  {k:8s} acc {res[k][0]:.3f}  log loss {res[k][1]:.3f}")
    print(f"  weighted acc {res['weighted'][0]:.3f}  log loss {res['weighted'][1]:.3f}  audio weight {res['weighted'][2]:.2f}")
    if a.per_class:
        for s in SCENES:
            print(f"  {s:18s} a {res['audio_cls'][s]:.2f} v {res['video_cls'][s]:.2f} e {res['early_cls'][s]:.2f}")


if __name__ == "__main__":
    main()
