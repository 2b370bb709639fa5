"""Issue 22 item 4: ``class_weight`` is honoured by every head and by intermediate fusion's network, and
intermediate fusion takes no ``--model``: one behaviour per option, said by help, outputs and manifest."""

import json

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import FeatureSet, write_features
from avsc_sk.fusion import NETWORK, IntermediateFusionClassifier, make_estimator
from avsc_sk.heads import HEADS, class_weight_params, make_head

# Every head's capacity given: what is tested is the weighting, not the choice (and it keeps the fits fast).
PINNED = {"logreg": {"C": 1.0}, "linsvm": {"C": 1.0}, "svm": {"C": 1.0, "gamma": "scale"},
          "lgbm": {"n_estimators": 30, "min_child_samples": 5}, "knn": {"n_neighbors": 15},
          "mlp": {"alpha": 1e-2, "hidden_layer_sizes": (16,), "max_iter": 100}}


def _imbalanced(n_major=90, n_minor=15, dim=4, seed=0):
    """Two overlapping classes, one six times rarer; locations spread over both."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.0, 1.0, (n_major, dim)), rng.normal(0.8, 1.0, (n_minor, dim))])
    y = np.array(["common"] * n_major + ["rare"] * n_minor, dtype=object)
    groups = np.arange(len(y)) % 5
    return X, y, groups


@pytest.mark.parametrize("name", HEADS)
def test_balanced_raises_the_rare_class_share_for_every_head(name):
    X, y, groups = _imbalanced()
    Xt, yt, _ = _imbalanced(seed=1)  # fresh clips: kNN's training clips are their own nearest neighbours
    plain = make_head(name).set_params(**PINNED[name])
    keys = class_weight_params(plain)
    assert keys == {"class_weight": "balanced"}  # every head takes it, under the same name
    balanced = make_head(name).set_params(**PINNED[name], **keys)
    rare = list(np.unique(y)).index("rare")
    p_plain = plain.fit(X, y, groups=groups).predict_proba(Xt)[:, rare].mean()
    p_bal = balanced.fit(X, y, groups=groups).predict_proba(Xt)[:, rare].mean()
    # Unweighted, the rare class gets about its share (1/7); balanced moves it towards a half.
    assert p_bal > p_plain + 0.05, (name, p_plain, p_bal)
    recall = lambda est: np.mean(est.predict(Xt)[yt == "rare"] == "rare")  # noqa: E731
    assert recall(balanced) >= recall(plain)


def test_balanced_intermediate_network_weighs_its_loss():
    X, y, groups = _imbalanced(n_major=120, n_minor=20, dim=6)
    small = dict(modalities=[("a", 1, 3), ("b", 1, 3)], hidden=16, embed=8, shared=8, max_epochs=30,
                 batch_size=32, learning_rate=1e-2, validation_fraction=0, random_state=0)
    est = make_estimator("intermediate", small["modalities"])
    assert class_weight_params(est) == {"class_weight": "balanced"}
    rare = 1
    p_plain = IntermediateFusionClassifier(**small).fit(X, y).predict_proba(X)[:, rare].mean()
    p_bal = IntermediateFusionClassifier(**small, class_weight="balanced").fit(X, y).predict_proba(X)[:, rare].mean()
    assert p_bal > p_plain + 0.05, (p_plain, p_bal)


def test_late_fusion_weighs_every_members_head():
    est = make_estimator("late", [("audio", 1, 3), ("video", 1, 3)], model="knn")
    assert class_weight_params(est) == {"audio__head__class_weight": "balanced",
                                        "video__head__class_weight": "balanced"}


def _features(tmp_path):
    """A small imbalanced TAU-named set: two scenes, the second rarer, four locations each."""
    rng = np.random.default_rng(0)
    sets = {}
    for split, (n_a, n_b), start in (("train", (40, 12), 0), ("test", (10, 4), 1000)):
        y = np.array(["airport"] * n_a + ["bus"] * n_b, dtype=object)
        ids = [f"{c}-lyon-{100 + (c == 'bus') * 10 + i % 4}-{start + i}" for i, c in enumerate(y)]
        centres = np.where((y == "bus")[:, None], 0.8, 0.0)
        X = np.abs(centres[:, :, None] + rng.normal(size=(len(y), 1, 2 * 2 * 3))).reshape(len(y), -1)
        sets[split] = FeatureSet(X.astype(np.float32), [("audio", 2, 3), ("video", 2, 3)], ids, y)
    return write_features(tmp_path / "imb.h5", sets)


def _run(capsys, *args):
    status = main([str(a) for a in args])
    return status, capsys.readouterr()


@pytest.mark.parametrize("model", ["knn", "lgbm"])
def test_fit_cli_class_weight_for_heads_that_lacked_it(tmp_path, capsys, model):
    # Refused before ("no head with a class_weight"): now honoured and saved as an ordinary param.
    features = _features(tmp_path)
    pin = {"knn": ["--params.head__n_neighbors", "5"], "lgbm": ["--params.head__n_estimators", "20"]}[model]
    status, io = _run(capsys, "fit", "--features", features, "--split", "train", "--model", model,
                      "--class-weight", "balanced", *pin, "--out", tmp_path / "run")
    assert status == 0, io.err
    assert 'head__class_weight = "balanced"' in (tmp_path / "run" / "config.toml").read_text()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["model"] == model and manifest["config"]["params"]["head__class_weight"] == "balanced"


def test_fit_cli_intermediate_takes_class_weight_and_no_model(tmp_path, capsys):
    features = _features(tmp_path)
    args = ["fit", "--features", features, "--split", "train", "--fusion", "intermediate", "--params.max_epochs", "2"]
    status, io = _run(capsys, *args, "--class-weight", "balanced", "--out", tmp_path / "run")
    assert status == 0, io.err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["model"] == NETWORK and manifest["config"].get("model") is None  # no head recorded, none used
    assert manifest["config"]["params"]["class_weight"] == "balanced"
    assert "fitted intermediate (its own network)" in io.out
    # The saved config reproduces the run (it names no head).
    status, io = _run(capsys, "fit", "--features", features, "--split", "train", "--config",
                      tmp_path / "run" / "config.toml", "--out", tmp_path / "again")
    assert status == 0, io.err
    for model in ("logreg", "knn"):  # logreg was accepted silently before, and recorded as the model
        status, io = _run(capsys, *args, "--model", model, "--out", tmp_path / model)
        lines = io.err.strip().splitlines()
        assert status == 2 and len(lines) == 1 and not (tmp_path / model).exists()
        assert lines[0].startswith(f"avsc-sk: error: model '{model}': intermediate fusion is a network of its own "
                                   "and takes no head; drop --model")


def test_compare_cli_class_weight_says_per_mode_what_was_weighted(tmp_path, capsys):
    features = _features(tmp_path)
    status, io = _run(capsys, "compare", "--features", features, "--train-split", "train", "--model", "knn",
                      "--fusions", "audio,early,intermediate,late", "--class-weight", "balanced", "--n-boot", "10",
                      "--out", tmp_path / "cmp")
    assert status == 0, io.err
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv").set_index("mode")
    assert table.loc["audio", "class_weight"] == "balanced (head)"
    assert table.loc["early", "class_weight"] == "balanced (head)"
    assert table.loc["intermediate", "class_weight"] == "balanced (network)"
    assert table.loc["late", "class_weight"] == "balanced (heads; stacker unweighted)"
    assert table.loc["intermediate", "head"] == NETWORK and table.loc["early", "head"] == "knn"
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| class weight |" in md and "balanced (heads; stacker unweighted)" in md
