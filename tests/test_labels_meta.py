"""Issue 11 items 1-2: the data own the label space, and clip metadata can come from a table.

Every command runs on (a) a 6-class subset of TAU-named data and (b) clips with no TAU names whose
labels, groups and splits come from ``--meta``; outputs name the classes of the data, no others.
"""

import json
import re

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import FeatureSet, apply_meta, read_features, read_meta, write_features
from avsc_sk.errors import DataError

SIX = ("airport", "bus", "metro", "park", "street_traffic", "tram")
PETS = ("cat", "dog", "eel")


def _header(path):
    return [ln for ln in path.read_text().splitlines() if not ln.startswith("#")][0].split("\t")


def _frames(y, classes, seed):
    """Learnable random frames of two modalities (3 frames of dim 5): class centres plus noise."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).normal(size=(len(classes), 2, 5))
    codes = np.array([list(classes).index(v) for v in y])
    frames = centres[codes][:, :, None, :] + rng.normal(scale=0.8, size=(len(y), 2, 3, 5))
    return np.ascontiguousarray(frames.reshape(len(y), -1), dtype=np.float32)


MODS = [("audio", 3, 5), ("video", 3, 5)]


def _six(n_per_class, seed, segment0):
    """TAU-named clips of six scenes, three recording locations each."""
    y = np.array([c for c in SIX for _ in range(n_per_class)], dtype=object)
    ids = [f"{c}-lyon-{100 + SIX.index(c) * 10 + i % 3}-{segment0 + i}" for i, c in enumerate(y)]
    return FeatureSet(_frames(y, SIX, seed), MODS, ids, y)


def _pets(n, seed, prefix):
    """Clips named by hash-like ids; their labels and sites only in the returned table."""
    y = np.array([PETS[i % 3] for i in range(n)], dtype=object)
    ids = [f"{prefix}{i:04x}" for i in range(n)]
    fs = FeatureSet(_frames(y, PETS, seed), MODS, ids)
    table = pd.DataFrame({"clip_id": ids, "label": y, "group": [f"site{i % 4}" for i in range(n)]})
    return fs, table


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    """A native file holding six of the ten TAU scenes."""
    base = tmp_path_factory.mktemp("six")
    sets = {"train": _six(6, 1, 0), "val": _six(2, 2, 1000), "test": _six(3, 3, 2000)}
    return write_features(base / "six.h5", sets)


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    """Unlabelled native features of clips with non-TAU ids, and their labels and groups in clips.csv."""
    base = tmp_path_factory.mktemp("pets")
    train, meta_train = _pets(36, 1, "a")
    test, meta_test = _pets(15, 2, "b")
    features = write_features(base / "pets.h5", {"train": train, "test": test})
    meta = base / "clips.csv"
    pd.concat([meta_train, meta_test]).to_csv(meta, index=False)  # comma-separated
    return features, meta


def _commands(features, meta, tmp_path, classes, capsys, fit_args=()):
    """fit, predict, evaluate, compare, report and tune; every output names exactly ``classes``."""
    extra = [] if meta is None else ["--meta", str(meta)]
    run = tmp_path / "run"
    assert main(["fit", "--features", str(features), "--fusion", "early", "--split", "train", *extra, *fit_args,
                 "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test: accuracy [\d.]+, balanced accuracy [\d.]+, log_loss [\d.]+", out), out
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["classes"] == list(classes)
    assert 0 <= manifest["scores"]["balanced_accuracy"] <= 1

    pred = tmp_path / "prediction.csv"
    assert main(["predict", str(run), "--features", str(features), *extra, "--out", str(pred)]) == 0
    assert _header(pred) == ["aid", "scene_pred", "scene_label", *classes]
    frame = pd.read_csv(pred, sep="\t")
    assert set(frame["scene_pred"]) <= set(classes) and set(frame["scene_label"]) == set(classes)
    capsys.readouterr()

    assert main(["evaluate", "--prediction", str(pred)]) == 0
    text = capsys.readouterr().out
    rows = [ln.split()[0] for ln in text.splitlines() if re.match(r"^\s*\S+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$", ln)]
    assert rows == list(classes)
    acc = float(re.search(r"^accuracy: ([\d.]+)$", text, re.M)[1])
    assert acc == pytest.approx((frame["scene_pred"] == frame["scene_label"]).mean(), abs=5e-4)
    assert acc == pytest.approx(manifest["scores"]["accuracy"], abs=5e-4)

    assert main(["compare", "--features", str(features), "--train-split", "train", "--fusions", "audio,early,late",
                 "--n-boot", "20", *extra, "--out", str(tmp_path / "cmp")]) == 0
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert list(table["mode"]) == ["audio", "early", "late"]
    assert ((table["balanced_accuracy"] >= 0) & (table["balanced_accuracy"] <= 1)).all()
    assert "balanced acc" in (tmp_path / "cmp" / "compare.md").read_text()
    capsys.readouterr()

    assert main(["report", str(run), "--features", str(features), *extra, "--n-boot", "20",
                 "--out", str(tmp_path / "report")]) == 0
    assert "balanced accuracy" in capsys.readouterr().out
    per_class = pd.read_csv(tmp_path / "report" / "per_class.csv")
    assert [c for c in per_class["label"] if c in classes] == list(classes)
    assert not set(per_class["label"]) - {*classes, "accuracy", "macro avg", "weighted avg", "overall log loss"}
    summary = pd.read_csv(tmp_path / "report" / "summary.csv")
    assert summary.loc[0, "balanced_accuracy"] == pytest.approx(manifest["scores"]["balanced_accuracy"], abs=0.02)

    grid = tmp_path / "grid.toml"
    grid.write_text('fusion = "audio"\nmodel = "logreg"\n[grid]\nhead__C = [0.1, 1.0]\n')
    assert main(["tune", str(grid), "--features", str(features), "--split", "train", "--cv", "2", "--quiet",
                 *extra, "--out", str(tmp_path / "tuned")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test: accuracy [\d.]+, balanced accuracy [\d.]+, log_loss [\d.]+", out), out
    return manifest


def test_every_command_on_six_tau_scenes(six, tmp_path, capsys):
    manifest = _commands(six, None, tmp_path, SIX, capsys)
    assert manifest["scores"]["n_clips"] == 18


def test_every_command_on_clips_labelled_by_a_meta_table(pets, tmp_path, capsys):
    features, meta = pets
    manifest = _commands(features, meta, tmp_path, PETS, capsys)
    assert manifest["train"]["meta"] == str(meta)
    assert manifest["scores"]["accuracy"] > 0.6  # learnable: chance is 1/3
    # predict finds the table the run was trained with when it reads the run's own features
    assert main(["predict", str(tmp_path / "run"), "--out", str(tmp_path / "again.csv")]) == 0
    assert pd.read_csv(tmp_path / "again.csv", sep="\t")["scene_label"].notna().all()


def test_a_meta_table_decides_the_splits(pets, tmp_path, capsys):
    # One split in the file; the table's split column says which clips train and which test.
    features, meta = pets
    train = read_features(features, "train")
    table = read_meta(meta).loc[[str(c) for c in train.clip_ids]].reset_index()
    table["split"] = ["test" if i % 4 == 0 else "train" for i in range(len(table))]
    single = write_features(tmp_path / "one.h5", {"train": train})
    table.to_csv(tmp_path / "split.tsv", sep="\t", index=False)  # tab-separated
    assert main(["fit", "--features", str(single), "--fusion", "audio", "--meta", str(tmp_path / "split.tsv"),
                 "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "training on split train" in out
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["train"]["n_clips"] == 27 and manifest["scores"]["n_clips"] == 9
    assert manifest["scores"].get("n_trained_on", 0) == 0  # the table's test clips were held out


def test_evaluate_takes_a_meta_table_as_labels(pets, tmp_path, capsys):
    features, meta = pets
    assert main(["fit", "--features", str(features), "--fusion", "audio", "--split", "train", "--meta", str(meta),
                 "--out", str(tmp_path / "run")]) == 0
    pred = tmp_path / "p.csv"
    assert main(["predict", str(tmp_path / "run"), "--features", str(features), "--meta", str(meta),
                 "--out", str(pred)]) == 0
    unlabelled = pd.read_csv(pred, sep="\t").drop(columns="scene_label")
    unlabelled.to_csv(tmp_path / "bare.csv", sep="\t", index=False, float_format="%.3f")
    capsys.readouterr()
    assert main(["evaluate", "--prediction", str(tmp_path / "bare.csv"), "--label", str(meta)]) == 0
    from_meta = capsys.readouterr().out
    assert main(["evaluate", "--prediction", str(pred)]) == 0
    assert from_meta == capsys.readouterr().out


def test_no_groups_each_clip_is_its_own_group_said_once(pets, tmp_path, capsys):
    features, meta = pets
    table = pd.read_csv(meta).drop(columns="group")
    table.to_csv(tmp_path / "nogroup.csv", index=False)
    assert main(["fit", "--features", str(features), "--fusion", "late", "--split", "train",
                 "--meta", str(tmp_path / "nogroup.csv"), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    said = [ln for ln in err.splitlines() if "no recording locations" in ln]
    assert len(said) == 1 and said[0].startswith("avsc-sk: warning: ") and "own group" in said[0]


def test_meta_errors_name_the_file_in_one_line(pets, tmp_path, capsys):
    features, meta = pets
    table = pd.read_csv(meta)
    table.iloc[1:].to_csv(tmp_path / "short.csv", index=False)
    assert main(["fit", "--features", str(features), "--split", "train", "--meta", str(tmp_path / "short.csv"),
                 "--out", str(tmp_path / "r")]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and re.search(r"short\.csv has no row for 1 of the 36 clips.*'a0000'", line), line
    table.rename(columns={"label": "scene"}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"bad\.csv: missing column\(s\) label; unexpected column\(s\) scene"):
        read_meta(tmp_path / "bad.csv")
    table.assign(label="").to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(DataError, match=r"empty\.csv: clip 'a0000' has an empty label"):
        read_meta(tmp_path / "empty.csv")


def test_apply_meta_keeps_values_and_takes_city_from_group(pets):
    features, meta = pets
    data = read_features(features, "test")
    out = apply_meta(data, meta)
    np.testing.assert_array_equal(out.X, data.X)
    assert out.classes == PETS and out.location[:4].tolist() == ["site0", "site1", "site2", "site3"]
    assert out.city[0] == "site0"  # no city column: the group's part before the first '-'
    assert out.fingerprint() != data.fingerprint()  # the labels are part of the data's identity


def test_featureset_classes_from_labels_or_given():
    X = np.zeros((3, 2), np.float32)
    fs = FeatureSet(X, [("a", 1, 2)], ["x", "y", "z"], ["eel", "cat", "eel"])
    assert fs.classes == ("cat", "eel")
    assert fs.subset([0]).classes == ("cat", "eel")  # a subset keeps the label space
    wide = FeatureSet(X, [("a", 1, 2)], ["x", "y", "z"], ["eel", "cat", "eel"], classes=["cat", "dog", "eel"])
    assert wide.classes == ("cat", "dog", "eel")
    with pytest.raises(DataError, match=r"label\(s\) \['eel'\] outside the classes"):
        FeatureSet(X, [("a", 1, 2)], ["x", "y", "z"], ["eel", "cat", "eel"], classes=["cat"])


def test_class_weight_balanced_is_an_ordinary_param(six, tmp_path, capsys):
    run = tmp_path / "run"
    # The members' C given: their choosing is not what is tested here, and late fusion repeats it per fold.
    assert main(["fit", "--features", str(six), "--fusion", "late", "--split", "train", "--class-weight", "balanced",
                 "--params.audio__head__C", "1", "--params.video__head__C", "1", "--out", str(run)]) == 0
    config = (run / "config.toml").read_text()
    assert 'audio__head__class_weight = "balanced"' in config and 'video__head__class_weight = "balanced"' in config
    # the saved config reproduces the model without the flag
    assert main(["fit", "--config", str(run / "config.toml"), "--features", str(six), "--split", "train",
                 "--out", str(tmp_path / "again")]) == 0
    a = json.loads((run / "manifest.json").read_text())["scores"]
    b = json.loads((tmp_path / "again" / "manifest.json").read_text())["scores"]
    assert a["log_loss"] == pytest.approx(b["log_loss"])
    capsys.readouterr()
    # every head takes it (knn weighs its neighbours' votes; tests/test_class_weight.py)
    assert main(["fit", "--features", str(six), "--model", "knn", "--class-weight", "balanced",
                 "--params.head__n_neighbors", "5", "--out", str(tmp_path / "knn")]) == 0
    assert 'head__class_weight = "balanced"' in (tmp_path / "knn" / "config.toml").read_text()
    assert main(["compare", "--features", str(six), "--train-split", "train", "--fusions", "audio,early",
                 "--class-weight", "balanced", "--n-boot", "10", "--out", str(tmp_path / "cmp")]) == 0


def test_balanced_accuracy_weighs_classes_alike():
    from avsc_sk.evaluation import score

    y = ["cat"] * 8 + ["dog"] * 2
    P = np.array([[1.0, 0.0]] * 10)  # always cat
    s = score(y, P, classes=["cat", "dog"])
    assert s["accuracy"] == pytest.approx(0.8) and s["balanced_accuracy"] == pytest.approx(0.5)
    assert s["classes"] == ["cat", "dog"]
    # a label no column holds is scored as probability 0 and listed after the classes
    s = score(["cat", "eel"], [[0.9, 0.1], [0.2, 0.8]], classes=["cat", "dog"])
    assert s["classes"] == ["cat", "dog", "eel"] and s["eel"]["recall"] == 0.0


def test_runs_with_different_classes_compare_on_their_union():
    from avsc_sk.evaluation import paired_bootstrap_diff, prediction_frame

    y = ["cat", "dog", "eel", "cat"]
    a = prediction_frame(list("wxyz"), [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]], ["cat", "dog"], y)
    b = prediction_frame(list("wxyz"), [[0.1, 0.9], [0.7, 0.3], [0.2, 0.8], [0.7, 0.3]], ["dog", "eel"], y)
    d = paired_bootstrap_diff(None, a, b, n_boot=50, seed=0)
    assert list(d[d.metric == "recall"]["scene"]) == ["cat", "dog", "eel"]
    recall = d[d.metric == "recall"].set_index("scene")
    assert recall.loc["cat", "a"] == 1.0 and recall.loc["cat", "b"] == 0.0  # b never saw cat
    assert recall.loc["eel", "a"] == 0.0 and recall.loc["eel", "b"] == 1.0
    acc = d[(d.scene == "all") & (d.metric == "accuracy")].iloc[0]
    assert acc["a"] == pytest.approx(0.75) and acc["b"] == pytest.approx(0.5)


def test_a_model_file_with_other_classes_than_its_manifest_is_refused(six, tmp_path):
    from avsc_sk.errors import RunError
    from avsc_sk.runs import load_run

    run = tmp_path / "run"
    assert main(["fit", "--features", str(six), "--fusion", "audio", "--split", "train", "--out", str(run)]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["classes"] = ["cat", "dog"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunError, match=r"predicts the classes \['airport', 'bus', 'metro'\].*records \['cat', 'dog'\]"):
        load_run(run)


def test_the_meta_table_and_the_npy_clip_table_are_read_by_one_reader(tmp_path):
    # One reader: BOM, a comment before the header, tabs, quoting and blank lines read alike by both.
    from avsc_sk.data._cliptable import read_clip_csv

    path = tmp_path / "clips.tsv"
    path.write_text("\ufeff# made by hand\nclip_id\tlabel\tgroup\n\n a1 \tcat\tg1\n\"b,2\"\tdog\tg2\n", encoding="utf-8")
    meta = read_meta(path)
    table = read_clip_csv(path)
    assert meta.index.tolist() == table.columns["clip_id"].tolist() == ["a1", "b,2"]
    assert meta["label"].tolist() == table.columns["label"].tolist() == ["cat", "dog"]
    assert meta["group"].tolist() == table.columns["group"].tolist() == ["g1", "g2"]
    assert table.line_of(1) == f"{path} line 5"
    path.write_text("clip_id,label\na1,cat\nb2,dog,extra\n", encoding="utf-8")
    for read in (read_meta, read_clip_csv):
        with pytest.raises(DataError, match=r"clips\.tsv line 3 has 3 fields but the header has 2"):
            read(path)


def _plain_arrays(tmp_path):
    """An .npy folder of hash-named clips with their splits only, and their labels and groups in labels.tsv."""
    (train, meta_train), (test, meta_test) = _pets(36, 1, "a"), _pets(15, 2, "b")
    folder = tmp_path / "emb"
    folder.mkdir()
    for name in ("audio", "video"):
        np.save(folder / f"{name}.npy", np.concatenate([train.frames(name), test.frames(name)]).astype(np.float64))
    pd.DataFrame({"clip_id": [*train.clip_ids, *test.clip_ids],
                  "split": ["train"] * train.n_clips + ["test"] * test.n_clips}).to_csv(folder / "clips.csv",
                                                                                      index=False)
    meta = tmp_path / "labels.tsv"
    pd.concat([meta_train, meta_test]).to_csv(meta, sep="\t", index=False)
    return folder, meta


def test_every_command_on_plain_arrays_labelled_by_a_meta_table(tmp_path, capsys):
    # The .npy layout holds only the arrays and clip ids (hash-like, not TAU's) with their splits; the labels
    # and groups come from --meta. info and convert read the arrays; every other command names the meta's classes.
    folder, meta = _plain_arrays(tmp_path)

    assert main(["info", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"features: {folder} (layout npy)" in lines and "modalities: audio 3x5, video 3x5" in lines
    assert "split train: 36 clips, 36 groups, unlabelled" in lines and "split test: 15 clips, 15 groups, unlabelled" \
        in lines  # the labels and groups are the table's, which info does not read

    manifest = _commands(folder, meta, tmp_path, PETS, capsys, fit_args=["--set", "params.head__C=1.0"])
    assert manifest["train"]["meta"] == str(meta) and manifest["train"]["n_clips"] == 36
    assert manifest["chosen"] == {"head__C": 1.0}  # pinned, not chosen: quick
    assert manifest["scores"]["accuracy"] > 0.6  # learnable: chance is 1/3

    native = tmp_path / "native.h5"
    assert main(["convert", str(folder), "--out", str(native)]) == 0
    assert "train 36 clips, test 15 clips" in capsys.readouterr().out
    # The converted file, labelled by the same table, predicts exactly as the arrays did.
    again = tmp_path / "again.csv"
    assert main(["predict", str(tmp_path / "run"), "--features", str(native), "--meta", str(meta),
                 "--out", str(again)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again, sep="\t"), pd.read_csv(tmp_path / "prediction.csv", sep="\t"))


def _class_rows(lines):
    """``{class: {split: (clips, groups)}}`` from the class table ``avsc-sk info`` prints."""
    start = next(i for i, ln in enumerate(lines) if ln.startswith("classes: "))
    splits = lines[start + 1].split()[1:]
    rows = {}
    for ln in lines[start + 2:]:
        name, *cells = ln.split()
        counts = [int(c) for c in cells if c != "/"]
        rows[name] = {s: (counts[2 * i], counts[2 * i + 1]) for i, s in enumerate(splits)}
    return rows


def _expected(table, split_of):
    """The same counts, computed from the meta table itself: clips and distinct groups per class and split."""
    table = table.assign(split=split_of)
    counts = table.groupby(["label", "split"])["group"].agg(["size", "nunique"])
    return {c: {s: (int(n), int(g)) for (c2, s), (n, g) in counts.iterrows() if c2 == c} for c in PETS}


def test_info_takes_labels_and_groups_from_a_meta_table(tmp_path, capsys):
    folder, meta = _plain_arrays(tmp_path)
    assert main(["info", str(folder), "--meta", str(meta)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"meta: {meta}" in lines and "modalities: audio 3x5, video 3x5" in lines
    table = pd.read_csv(meta, sep="\t")
    n_sites = table["group"].nunique()
    assert "split train: 36 clips, %d groups, labelled" % n_sites in lines
    assert "split test: 15 clips, %d groups, labelled" % n_sites in lines
    assert "classes: 3 (clips / groups per split)" in lines
    split_of = np.where(table["clip_id"].str.startswith("a"), "train", "test")
    rows = _class_rows(lines)
    assert rows == _expected(table, split_of)
    assert sum(r["train"][0] for r in rows.values()) == 36 and all(r["test"][1] >= 1 for r in rows.values())


def test_info_with_a_meta_split_column_shows_the_tables_splits(tmp_path, capsys):
    # The table moves the last 9 training clips to val: info shows train, val and test as fit would read them.
    folder, meta = _plain_arrays(tmp_path)
    table = pd.read_csv(meta, sep="\t")
    split_of = np.where(table["clip_id"].str.startswith("a"), "train", "test")
    split_of[27:36] = "val"
    table.assign(split=split_of).to_csv(tmp_path / "split.csv", index=False)
    assert main(["info", str(folder), "--meta", str(tmp_path / "split.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [ln.split(":")[0] for ln in lines if ln.startswith("split ")]
    assert said == ["split train", "split val", "split test"]
    assert any(ln.startswith("split val: 9 clips, ") for ln in lines), lines
    assert _class_rows(lines) == _expected(table, split_of)
    header = lines[next(i for i, ln in enumerate(lines) if ln.startswith("classes: ")) + 1].split()
    assert header == ["class", "train", "val", "test"]


def test_convert_with_a_meta_table_writes_its_labels_and_groups(tmp_path, capsys):
    folder, meta = _plain_arrays(tmp_path)
    native = tmp_path / "native.h5"
    assert main(["convert", str(folder), "--meta", str(meta), "--out", str(native)]) == 0
    assert "train 36 clips, test 15 clips" in capsys.readouterr().out
    table = read_meta(meta)
    for split in ("train", "test"):
        stored = read_features(native, split)
        rows = table.loc[list(stored.clip_ids)]
        assert stored.y.tolist() == rows["label"].tolist()
        assert stored.location.tolist() == rows["group"].tolist()
        assert stored.city.tolist() == rows["group"].tolist()  # no dash in the group: the city is all of it

    # info on the converted file alone says what info on the arrays with the table says.
    assert main(["info", str(native)]) == 0
    alone = capsys.readouterr().out.splitlines()
    assert main(["info", str(folder), "--meta", str(meta)]) == 0
    with_meta = capsys.readouterr().out.splitlines()
    assert _class_rows(alone) == _class_rows(with_meta)
    assert [ln for ln in alone if ln.startswith("split ")] == [ln for ln in with_meta if ln.startswith("split ")]

    # fit and predict on the converted file need no --meta, and give what the arrays with the table give.
    preds = []
    for name, extra in (("native", []), ("arrays", ["--meta", str(meta)])):
        features = native if name == "native" else folder
        run, pred = tmp_path / f"run-{name}", tmp_path / f"pred-{name}.csv"
        assert main(["fit", "--features", str(features), "--fusion", "early", "--split", "train",
                     "--set", "params.head__C=1.0", *extra, "--out", str(run)]) == 0
        assert json.loads((run / "manifest.json").read_text())["classes"] == list(PETS)
        assert main(["predict", str(run), "--features", str(features), *extra, "--out", str(pred)]) == 0
        assert _header(pred) == ["aid", "scene_pred", "scene_label", *PETS]
        preds.append(pd.read_csv(pred, sep="\t"))
    capsys.readouterr()
    assert set(preds[0]["scene_label"]) == set(PETS) and len(preds[0]) == 15
    pd.testing.assert_frame_equal(preds[0], preds[1])


@pytest.mark.parametrize("command", ["info", "convert"])
def test_info_and_convert_refuse_a_meta_table_missing_clips_as_fit_does(tmp_path, capsys, command):
    folder, meta = _plain_arrays(tmp_path)
    short = tmp_path / "short.csv"
    pd.read_csv(meta, sep="\t").iloc[1:].to_csv(short, index=False)
    assert main(["fit", "--features", str(folder), "--split", "train", "--meta", str(short),
                 "--out", str(tmp_path / "run")]) == 2
    expected = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("avsc-sk: error: ")]
    assert len(expected) == 1
    assert re.fullmatch(r"avsc-sk: error: \S*short\.csv has no row for 1 of the 36 clips .*'a0000'.*", expected[0])
    argv = {"info": ["info", str(folder)], "convert": ["convert", str(folder), "--out", str(tmp_path / "x.h5")]}
    assert main([*argv[command], "--meta", str(short)]) == 2
    assert [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("avsc-sk: error: ")] == expected
    assert not (tmp_path / "x.h5").exists()


def test_convert_refuses_a_meta_split_the_native_format_cannot_store(tmp_path, capsys):
    folder, meta = _plain_arrays(tmp_path)
    table = pd.read_csv(meta, sep="\t")
    table.assign(split="dev").to_csv(tmp_path / "dev.csv", index=False)
    assert main(["convert", str(folder), "--meta", str(tmp_path / "dev.csv"), "--out", str(tmp_path / "x.h5")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and re.search(r"dev\.csv names split\(s\) 'dev'.*only train, val and test", err), err
    assert not (tmp_path / "x.h5").exists()
