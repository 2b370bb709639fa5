"""A hand-written peer of ``avsc-sk fit --fusion auto --model auto`` (no avsc-sk import), for bench_commands.py.

    python benchmarks/peer_auto.py FEATURES.h5 [--n-jobs 1]

Reads a native avsc-sk feature file with h5py (mean over frames per modality), then one
scikit-learn ``GridSearchCV`` with five location-grouped folds (``GroupKFold``) and log loss
chooses among audio alone, video alone, both side by side (early fusion) and a
``StackingClassifier`` over the two (late fusion), each with logistic regression over a C
grid or k-NN over a k grid; the winner is refitted on train+val and scored on test. It is
what a user would write by hand for the same question, without successive halving or a
budget: every candidate is cross-validated on every clip.
"""

import argparse
import time

import h5py
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


def pooled(fh, split):
    group = fh[split]
    blocks, names = [], []
    for name in sorted(group["features"]):
        ds = group["features"][name]
        frames, dim = int(ds.attrs["n_frames"]), int(ds.attrs["dim"])
        blocks.append(ds[()].reshape(len(ds), frames, dim).mean(axis=1))
        names.append((name, dim))
    decode = np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s)
    return np.hstack(blocks), decode(group["scene_label"][()]), decode(group["location"][()]), names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("features")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    with h5py.File(args.features, "r") as fh:
        parts = [pooled(fh, s) for s in ("train", "val") if s in fh]
        X_test, y_test, _, names = pooled(fh, "test")
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    groups = np.concatenate([p[2] for p in parts])
    start, views = 0, {}
    for name, dim in names:
        views[name] = list(range(start, start + dim))
        start += dim
    views["early"] = list(range(start))

    # A grouped fold's test clips may lack a scene: the scorer needs the labels given.
    scoring = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba", labels=np.unique(y))

    def select(cols):
        return ColumnTransformer([("x", "passthrough", cols)])

    heads = [{"clf": [LogisticRegression(max_iter=1000)], "clf__C": [0.001, 0.01, 0.1, 1.0]},
             {"clf": [KNeighborsClassifier()], "clf__n_neighbors": [5, 15, 30]}]
    grid = [dict(head, view=[select(cols)]) for cols in views.values() for head in heads]
    view_of = {id(g["view"][0]): name for g, name in zip(grid, [n for n in views for _ in heads])}
    search = GridSearchCV(Pipeline([("view", "passthrough"), ("scale", StandardScaler()), ("clf", "passthrough")]),
                          grid, scoring=scoring, cv=GroupKFold(5), n_jobs=args.n_jobs)
    members = [(name, make_pipeline(select(views[name]), StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)))
               for name, _ in names]
    stacking = GridSearchCV(StackingClassifier(members, final_estimator=LogisticRegression(max_iter=1000), cv=5),
                            {"final_estimator__C": [0.1, 1.0]}, scoring=scoring, cv=GroupKFold(5),
                            n_jobs=args.n_jobs)
    t0 = time.perf_counter()
    search.fit(X, y, groups=groups)
    stacking.fit(X, y, groups=groups)
    best = max((search, stacking), key=lambda s: s.best_score_)
    proba = best.predict_proba(X_test)
    if best is stacking:
        chose = f"late (stacking, {best.best_params_})"
    else:
        params = best.best_params_
        chose = f"{view_of[id(params.pop('view'))]} ({type(params.pop('clf')).__name__}, {params})"
    print(f"search and refit {time.perf_counter() - t0:.1f} s; chose {chose} "
          f"(CV log loss {-best.best_score_:.3f}); test accuracy "
          f"{accuracy_score(y_test, best.classes_[proba.argmax(1)]):.3f} "
          f"log loss {log_loss(y_test, proba, labels=best.classes_):.3f}")


if __name__ == "__main__":
    main()
