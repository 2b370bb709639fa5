"""Bad input at every command: exit status 2, one line naming the file and the fix, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from avsc_sk._config import load_config
from avsc_sk.cli import main
from avsc_sk.data import FeatureSet, read_features, write_features
from avsc_sk.errors import AvscError
from avsc_sk.runs import fit_run, save_run

from conftest import small_featureset

ROOT = Path(__file__).resolve().parents[1]


# -- data ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A good native file and a run trained on it; cases copy and damage them."""
    base = tmp_path_factory.mktemp("bad")
    train = small_featureset("train", n_per_class=3)
    val = small_featureset("val", n_per_class=1)
    test = small_featureset("test", n_per_class=2)
    good = write_features(base / "good.h5", {"train": train, "val": val, "test": test})
    config = load_config()
    config.update(fusion="early", model="logreg")
    model, manifest = fit_run(config, train, source=good)
    save_run(base / "run", model, manifest)
    return base


def _copy(src, dst):
    if Path(src).is_dir():
        import shutil

        shutil.copytree(src, dst)
    else:
        Path(dst).write_bytes(Path(src).read_bytes())
    return Path(dst)


def _edit_native(path, split, fn):
    with h5py.File(path, "r+") as fh:
        fn(fh[split])


def _replace(group, name, data, **kw):
    del group[name]
    group.create_dataset(name, data=data, **kw)


def _layout_a(root, entries, mod="audio", split="train"):
    """A layout-A file from ``{key: array}`` (keys ``<label>/<mod>/<stem>``)."""
    folder = Path(root) / f"{mod}_features_data"
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / f"{split}.hdf5", "w") as fh:
        for key, value in entries.items():
            fh.create_dataset(key, data=value)
    return folder / f"{split}.hdf5"


STEMS = ["airport-lisbon-1000-40000", "bus-lyon-1100-40123", "park-paris-2-3"]


def _good_a(kind="audio", dim=6, n_frames=4, stems=STEMS):
    rng = np.random.default_rng(0)
    labels = {"airport": 0, "bus": 1, "park": 4}
    return {f"{labels[s.split('-')[0]]}/{kind}/{s}": rng.normal(size=(n_frames, dim)).astype("f4") for s in stems}


def _featureset_with(X_edit=None, train=None):
    fs = small_featureset("train", n_per_class=2) if train is None else train
    X = fs.X.copy()
    if X_edit is not None:
        X_edit(X)
    return FeatureSet(X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location, split="train")


# -- cases: (argv, name the message must contain, other words it must contain) -----------------
def case_truncated(w, t):
    data = (w / "good.h5").read_bytes()
    (t / "cut.h5").write_bytes(data[: len(data) // 2])
    return ["fit", "--features", str(t / "cut.h5"), "--out", str(t / "r")], "cut.h5", "HDF5"


def case_truncated_header(w, t):
    (t / "cut.h5").write_bytes((w / "good.h5").read_bytes()[:700])
    return ["fit", "--features", str(t / "cut.h5"), "--out", str(t / "r")], "cut.h5", "HDF5"


def case_not_hdf5(w, t):
    (t / "notes.h5").write_text("clip_id,scene\nbus-lyon-1-2,bus\n")
    return ["fit", "--features", str(t / "notes.h5"), "--out", str(t / "r")], "notes.h5", "not a readable HDF5"


def case_empty_file(w, t):
    (t / "empty.h5").write_bytes(b"")
    return ["predict", str(w / "run"), "--features", str(t / "empty.h5"), "--out", str(t / "p.csv")], \
        "empty.h5", "empty"


def case_foreign_hdf5(w, t):
    with h5py.File(t / "other.h5", "w") as fh:
        fh["x"] = np.zeros(3)
    return ["fit", "--features", str(t / "other.h5"), "--out", str(t / "r")], "other.h5", "convert"


def case_empty_folder(w, t):
    (t / "feats").mkdir()
    return ["fit", "--features", str(t / "feats"), "--out", str(t / "r")], "feats", "expected"


def case_missing_path(w, t):
    return ["fit", "--features", str(t / "nowhere.h5"), "--out", str(t / "r")], "nowhere.h5", "does not exist"


def case_native_1d(w, t):
    p = _copy(w / "good.h5", t / "f.h5")
    _edit_native(p, "train", lambda g: _replace(g["features"], "audio", np.zeros(30, "f4")))
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "shape"


def case_native_3d(w, t):
    p = _copy(w / "good.h5", t / "f.h5")
    _edit_native(p, "train", lambda g: _replace(g["features"], "audio", np.zeros((30, 4, 6), "f4")))
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "shape"


def case_native_bad_attrs(w, t):
    p = _copy(w / "good.h5", t / "f.h5")
    _edit_native(p, "train", lambda g: g["features/audio"].attrs.__setitem__("dim", 5))
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "n_frames"


def case_native_strings_not_strings(w, t):
    p = _copy(w / "good.h5", t / "f.h5")
    _edit_native(p, "train", lambda g: _replace(g, "city", np.zeros(30)))
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "city"


def case_a_1d(w, t):
    e = _good_a()
    e["1/audio/bus-lyon-1100-40123"] = np.zeros(6, "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "shape"


def case_a_3d(w, t):
    e = _good_a()
    e["1/audio/bus-lyon-1100-40123"] = np.zeros((4, 6, 1), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "shape"


def case_a_dim_mismatch(w, t):
    e = _good_a(stems=STEMS + ["park-paris-2-4"])
    e["1/audio/bus-lyon-1100-40123"] = np.zeros((4, 5), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], \
        "train.hdf5", "bus-lyon-1100-40123"


def case_a_strings(w, t):
    e = _good_a()
    e["1/audio/bus-lyon-1100-40123"] = np.array([[b"a", b"b"]] * 4)
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "numbers"


def case_a_label_out_of_range(w, t):
    e = _good_a()
    e["12/audio/bus-lyon-1100-40124"] = np.zeros((4, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "out of range"


def case_a_label_not_int(w, t):
    e = _good_a()
    e["bus/audio/bus-lyon-1100-40124"] = np.zeros((4, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "integer"


def case_a_label_disagrees(w, t):
    e = _good_a()
    e["0/audio/bus-lyon-1100-40124"] = np.zeros((4, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "label index"


def case_a_bad_stem(w, t):
    e = _good_a()
    e["1/audio/recording_0001"] = np.zeros((4, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], \
        "train.hdf5", "recording_0001"


def case_a_unknown_scene_in_stem(w, t):
    e = _good_a()
    e["1/audio/beach-lyon-1100-40124"] = np.zeros((4, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "train.hdf5", "beach"


def case_a_short_clip(w, t):
    e = _good_a()
    e["1/audio/bus-lyon-1100-40123"] = np.zeros((2, 6), "f4")
    _layout_a(t / "A", e)
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], \
        "train.hdf5", "--max-frames 2"


def case_a_one_modality(w, t):
    _layout_a(t / "A", _good_a())
    _layout_a(t / "A", _good_a("video", dim=3, stems=STEMS[:2]), mod="video")
    return ["fit", "--features", str(t / "A"), "--split", "train", "--out", str(t / "r")], "park-paris-2-3", \
        "--allow-missing-modality"


def case_b_frame_shape(w, t):
    folder = t / "B" / "features_data" / "audio_features_data"
    folder.mkdir(parents=True)
    with h5py.File(folder / "tr.hdf5", "w") as fh:
        for i, s in enumerate(STEMS):
            lab = {"airport": 0, "bus": 1, "park": 4}[s.split("-")[0]]
            for f in range(3):
                fh[f"{lab}/audio/{s}/{f}"] = np.zeros(6 if (i, f) != (1, 2) else 5, "f4")
    return ["fit", "--features", str(t / "B"), "--split", "train", "--out", str(t / "r")], "tr.hdf5", "frame"


def case_nan(w, t):
    fs = _featureset_with(lambda X: X.__setitem__((3, 2), np.nan))
    write_features(t / "nan.h5", {"train": fs})
    return ["fit", "--features", str(t / "nan.h5"), "--split", "train", "--out", str(t / "r")], "nan.h5", "NaN"


def case_inf(w, t):
    fs = _featureset_with(lambda X: X.__setitem__((5, -1), np.inf))
    write_features(t / "inf.h5", {"test": fs})
    return ["predict", str(w / "run"), "--features", str(t / "inf.h5"), "--out", str(t / "p.csv")], "inf.h5", "inf"


def case_missing_modality(w, t):
    fs = _featureset_with(lambda X: X.__setitem__((4, slice(0, 24)), np.nan))
    write_features(t / "miss.h5", {"train": fs})
    return ["fit", "--features", str(t / "miss.h5"), "--split", "train", "--out", str(t / "r")], \
        "miss.h5", "allow_missing_modality"


def case_duplicate_ids(w, t):
    p = _copy(w / "good.h5", t / "dup.h5")

    def dup(g):
        ids = g["clip_id"].asstr()[()].tolist()
        ids[1] = ids[0]
        _replace(g, "clip_id", np.array(ids, dtype=object), dtype=h5py.string_dtype())

    _edit_native(p, "train", dup)
    return ["fit", "--features", str(p), "--out", str(t / "r")], "dup.h5", "duplicate"


def case_some_labels_empty_native(w, t):
    # Any label is a class (the data own the label space); a clip without one among labelled ones is not.
    p = _copy(w / "good.h5", t / "f.h5")

    def bad(g):
        labels = g["scene_label"].asstr()[()].tolist()
        labels[0] = ""
        _replace(g, "scene_label", np.array(labels, dtype=object), dtype=h5py.string_dtype())

    _edit_native(p, "train", bad)
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "labels only some clips"


def case_newer_native_version(w, t):
    p = _copy(w / "good.h5", t / "f.h5")
    with h5py.File(p, "r+") as fh:
        fh.attrs["avsc_format_version"] = 7
    return ["fit", "--features", str(p), "--out", str(t / "r")], "f.h5", "upgrade"


def case_one_class(w, t):
    fs = small_featureset("train", n_per_class=3)
    write_features(t / "bus.h5", {"train": fs.subset(fs.y == "bus")})
    return ["fit", "--features", str(t / "bus.h5"), "--split", "train", "--out", str(t / "r")], \
        "bus.h5", "only one class"


def case_unlabelled_fit(w, t):
    fs = small_featureset("train", n_per_class=3)
    write_features(t / "nolab.h5", {"train": FeatureSet(fs.X, fs.modalities, fs.clip_ids, None, fs.city,
                                                       fs.location)})
    return ["fit", "--features", str(t / "nolab.h5"), "--split", "train", "--out", str(t / "r")], \
        "nolab.h5", "no labels"


def case_missing_split(w, t):
    write_features(t / "only.h5", {"train": small_featureset("train", n_per_class=1)})
    return ["predict", str(w / "run"), "--features", str(t / "only.h5"), "--out", str(t / "p.csv")], \
        "only.h5", "available: train"


def case_bad_split_name(w, t):
    return ["fit", "--features", str(w / "good.h5"), "--split", "training2", "--out", str(t / "r")], \
        "training2", "train"


def case_max_frames_negative(w, t):  # 0 means "keep every frame", as in convert
    return ["fit", "--features", str(w / "good.h5"), "--max-frames", "-1", "--out", str(t / "r")], \
        "max_frames", "positive"


def case_predict_other_dims(w, t):
    write_features(t / "other.h5", {"test": small_featureset("test", n_per_class=1, dims=(5, 3))})
    return ["predict", str(w / "run"), "--features", str(t / "other.h5"), "--out", str(t / "p.csv")], \
        "other.h5", "trained on"


def _prediction(t, sep="\t", scene_pred="bus", prob="0.100", name="pred.csv"):
    from avsc_sk.data import SCENES

    head = ["aid", "scene_pred", "scene_label", *SCENES]
    row = ["bus-lyon-1100-40123", scene_pred, "bus", *([prob] * 10)]
    (t / name).write_text(sep.join(head) + "\n" + sep.join(row) + "\n")
    return t / name


def case_prediction_unknown_scene(w, t):
    return ["evaluate", "--prediction", str(_prediction(t, scene_pred="beach"))], "pred.csv", "beach"


def case_prediction_commas(w, t):
    return ["evaluate", "--prediction", str(_prediction(t, sep=","))], "pred.csv", "tab"


def case_prediction_semicolons(w, t):
    return ["evaluate", "--prediction", str(_prediction(t, sep=";"))], "pred.csv", "tab"


def case_prediction_not_probability(w, t):
    return ["evaluate", "--prediction", str(_prediction(t, prob="2.5"))], "pred.csv", "[0, 1]"


def case_prediction_empty(w, t):
    (t / "pred.csv").write_text("")
    return ["evaluate", "--prediction", str(t / "pred.csv")], "pred.csv", "empty"


def case_prediction_binary(w, t):
    (t / "pred.csv").write_bytes(bytes(range(256)) * 4)
    return ["evaluate", "--prediction", str(t / "pred.csv")], "pred.csv", "text"


def case_prediction_is_folder(w, t):
    (t / "pred.csv").mkdir()
    return ["evaluate", "--prediction", str(t / "pred.csv")], "pred.csv", "path"


def case_prediction_missing(w, t):
    return ["evaluate", "--prediction", str(t / "nope.csv")], "nope.csv", "path"


def case_labels_empty(w, t):
    # A label the model never saw is scored (and warned of); an empty one is an error.
    (t / "labels.csv").write_text("filename_audio\tfilename_video\tscene_label\n"
                                  "audio/bus-lyon-1100-40123.wav\tvideo/bus-lyon-1100-40123.mp4\t\n")
    return ["evaluate", "--prediction", str(_prediction(t)), "--label", str(t / "labels.csv")], \
        "labels.csv", "empty label"


def case_labels_binary(w, t):
    (t / "labels.csv").write_bytes(b"\xff\xfe\x00garbage\x81")
    return ["evaluate", "--prediction", str(_prediction(t)), "--label", str(t / "labels.csv")], \
        "labels.csv", "text"


def case_labels_missing_clip(w, t):
    (t / "labels.csv").write_text("filename_audio\tfilename_video\tscene_label\n"
                                  "audio/bus-lyon-1100-40999.wav\tvideo/bus-lyon-1100-40999.mp4\tbus\n")
    return ["evaluate", "--prediction", str(_prediction(t)), "--label", str(t / "labels.csv")], \
        "labels.csv", "no label"


def case_labels_wrong_columns(w, t):
    (t / "labels.csv").write_text("clip\tscene\nbus-lyon-1100-40123\tbus\n")
    return ["evaluate", "--prediction", str(_prediction(t)), "--label", str(t / "labels.csv")], \
        "labels.csv", "scene_label"


def _run_copy(w, t):
    return _copy(w / "run", t / "run")


def case_run_other_version(w, t):
    r = _run_copy(w, t)
    m = json.loads((r / "manifest.json").read_text())
    m["avsc_sk_version"] = "0.0.1"
    (r / "manifest.json").write_text(json.dumps(m))
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], "run", "0.0.1"


def case_run_manifest_garbage(w, t):
    r = _run_copy(w, t)
    (r / "manifest.json").write_text("{not json")
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], "manifest.json", "JSON"


def case_run_manifest_binary(w, t):
    r = _run_copy(w, t)
    (r / "manifest.json").write_bytes(b"\xff\xfe\x81\x00")
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], "manifest.json", "JSON"


def case_run_manifest_incomplete(w, t):
    r = _run_copy(w, t)
    m = json.loads((r / "manifest.json").read_text())
    del m["modalities"]
    (r / "manifest.json").write_text(json.dumps(m))
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "manifest.json", "modalities"


def case_run_manifest_bad_modalities(w, t):
    r = _run_copy(w, t)
    m = json.loads((r / "manifest.json").read_text())
    m["modalities"] = [["audio", "four", 6]]
    (r / "manifest.json").write_text(json.dumps(m))
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "manifest.json", "modalities"


def case_run_missing(w, t):
    return ["predict", str(t / "norun"), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "norun", "avsc-sk fit"


def case_run_tampered_type(w, t):
    import datetime

    import skops.io as sio

    r = _run_copy(w, t)
    sio.dump({"payload": datetime.timedelta(days=1)}, r / "model.skops")
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "model.skops", "untrusted type"


def case_run_tampered_bytes(w, t):
    r = _run_copy(w, t)
    data = bytearray((r / "model.skops").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    (r / "model.skops").write_bytes(bytes(data))
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "model.skops", "re-run avsc-sk fit"


def case_run_model_not_estimator(w, t):
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    r = _run_copy(w, t)
    sio.dump(StandardScaler().fit(np.ones((3, 2))), r / "model.skops")
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "model.skops", "classifier"


def case_run_model_wrong_width(w, t):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    r = _run_copy(w, t)
    sio.dump(LogisticRegression().fit(np.eye(4), ["bus", "park", "bus", "park"]), r / "model.skops")
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "model.skops", "columns"


def case_run_pickle_only(w, t):
    import joblib

    r = _run_copy(w, t)
    joblib.dump({"a": 1}, r / "model.joblib")
    (r / "model.skops").unlink()
    return ["predict", str(r), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "model.joblib", "--trust-pickle"


def case_report_pickle_only(w, t):
    import joblib

    r = _run_copy(w, t)
    joblib.dump({"a": 1}, r / "model.pkl")
    (r / "model.skops").unlink()
    return ["report", str(r), "--features", str(w / "good.h5"), "--out", str(t / "rep")], \
        "model.pkl", "--trust-pickle"


def case_config_unknown_key(w, t):
    (t / "c.toml").write_text('fusion = "early"\ncolour = "red"\n')
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "c.toml", "colour"


def case_config_wrong_type(w, t):
    (t / "c.toml").write_text('seed = "zero"\n')
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "c.toml", "seed"


def case_config_bad_toml(w, t):
    (t / "c.toml").write_text('fusion = early\n[[[\n')
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "c.toml", "TOML"


def case_config_binary(w, t):
    (t / "c.toml").write_bytes(b"\xff\xfe\x81")
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "c.toml", "TOML"


def case_config_is_folder(w, t):
    (t / "c.toml").mkdir()
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "c.toml", "path"


def case_config_bad_param(w, t):
    (t / "c.toml").write_text('[params]\nhead__nope = 1\n')
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "params.head__nope", "is not a parameter"


def case_config_bad_param_value(w, t):
    (t / "c.toml").write_text('[params]\nhead__C = "lots"\n')
    return ["fit", "--config", str(t / "c.toml"), "--features", str(w / "good.h5"), "--out", str(t / "r")], \
        "head__C", "lots"


def case_override_wrong_type(w, t):
    return ["fit", "--features", str(w / "good.h5"), "--set", "segment_frames=true", "--out", str(t / "r")], \
        "segment_frames", "int"


def case_negative_segment_frames(w, t):
    return ["fit", "--features", str(w / "good.h5"), "--segment-frames", "-2", "--out", str(t / "r")], \
        "segment_frames", "--segment-frames"


def case_negative_digits(w, t):
    return ["evaluate", "--prediction", str(_prediction(t)), "--digits", "-1"], "--digits", "0 or more"


def case_fit_output_exists(w, t):
    (t / "r").mkdir()
    return ["fit", "--features", str(w / "good.h5"), "--out", str(t / "r")], str(t / "r"), "--force"


def case_predict_output_exists(w, t):
    (t / "p.csv").write_text("keep me\n")
    return ["predict", str(w / "run"), "--features", str(w / "good.h5"), "--out", str(t / "p.csv")], \
        "p.csv", "--force"


def case_predict_output_under_file(w, t):
    (t / "afile").write_text("x")
    return ["predict", str(w / "run"), "--features", str(w / "good.h5"), "--out", str(t / "afile" / "p.csv")], \
        "afile", "path"


def case_convert_truncated(w, t):
    (t / "cut.h5").write_bytes((w / "good.h5").read_bytes()[:3000])
    return ["convert", str(t / "cut.h5"), "--out", str(t / "out.h5")], "cut.h5", "HDF5"


def case_convert_output_exists(w, t):
    (t / "out.h5").write_bytes(b"mine")
    return ["convert", str(w / "good.h5"), "--out", str(t / "out.h5")], "out.h5", "--force"


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


def _one_error_line(err):
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("avsc-sk: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_status_2(case, work, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AVSC_DEBUG", raising=False)
    argv, name, fix = CASES[case](work, tmp_path)
    capsys.readouterr()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    status = main(argv)
    out, err = capsys.readouterr()
    line = _one_error_line(err)
    assert status == 2
    assert name in line, line
    assert fix in line, line
    # Nothing the user had was touched, and no temporary file was left behind.
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_debug_shows_the_traceback(work, tmp_path, monkeypatch):
    monkeypatch.setenv("AVSC_DEBUG", "1")
    argv, _, _ = case_not_hdf5(work, tmp_path)
    with pytest.raises(AvscError, match="notes.h5"):
        main(argv)


@pytest.mark.parametrize("case", ["nan", "duplicate_ids", "a_bad_stem", "a_one_modality", "truncated",
                                  "a_label_out_of_range", "native_3d"])
def test_python_api_raises_avsc_error(case, work, tmp_path):
    argv, name, fix = CASES[case](work, tmp_path)
    features = Path(argv[argv.index("--features") + 1])
    split = argv[argv.index("--split") + 1] if "--split" in argv else "train"
    with pytest.raises(AvscError) as info:
        fs = read_features(features, split)
        fit_run(load_config(), fs)
    assert name in str(info.value) and fix in str(info.value)


def test_subprocess_errors_reach_stderr_as_one_line(work, tmp_path):
    """No traceback in a real process: stderr is exactly one line, exit status 2."""
    env = {**os.environ, "AVSC_SK_CACHE": str(tmp_path / "cache")}
    env.pop("AVSC_DEBUG", None)
    cases = [CASES[c](work, tmp_path / c) for c in ("truncated", "run_tampered_type", "prediction_binary")
             if (tmp_path / c).mkdir() is None]
    procs = [subprocess.Popen([sys.executable, "-m", "avsc_sk", *argv], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv, _, _ in cases]
    for proc, (argv, name, fix) in zip(procs, cases):
        out, err = proc.communicate(timeout=120)
        line = _one_error_line(err)
        assert proc.returncode == 2, err
        assert name in line and fix in line, line
