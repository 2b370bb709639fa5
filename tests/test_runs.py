import datetime
import json
import tomllib

import numpy as np
import pytest

from avsc_sk import __version__
from avsc_sk._config import apply_overrides, dump_config, load_config
from avsc_sk.errors import ConfigError, DataError, OutputExistsError, RunError
from avsc_sk.heads import fit_with_groups
from avsc_sk.runs import build_estimator, fit_run, load_run, predict_frame, predict_proba_scenes, save_run

from conftest import small_featureset


def _config(**kw):
    return apply_overrides(load_config(), [f"{k}={json.dumps(v)}" for k, v in kw.items()])


def test_fit_save_load_predicts_identically(tmp_path, small_train, small_test):
    model, manifest = fit_run(_config(fusion="early"), small_train, evaluate=small_test)
    assert manifest["scores"]["accuracy"] > 0.5  # 10 well-separated classes
    assert manifest["train"]["fingerprint"] == small_train.fingerprint()
    assert manifest["classes"] == sorted(set(small_train.y))
    save_run(tmp_path / "run", model, manifest)
    run = load_run(tmp_path / "run")
    np.testing.assert_array_equal(run.model.predict_proba(small_test.X), model.predict_proba(small_test.X))
    frame = predict_frame(run, small_test)
    assert list(frame.columns[:3]) == ["aid", "scene_pred", "scene_label"]
    assert run.name == "early"
    saved = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert saved == {k: v for k, v in manifest["config"].items() if v is not None}  # TOML has no None: left out


def test_save_refuses_existing_run_and_keeps_it(tmp_path, small_train):
    model, manifest = fit_run(_config(fusion="audio"), small_train)
    save_run(tmp_path / "run", model, manifest)
    before = (tmp_path / "run" / "model.skops").read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        save_run(tmp_path / "run", model, manifest)
    assert (tmp_path / "run" / "model.skops").read_bytes() == before
    save_run(tmp_path / "run", model, manifest, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left behind


def test_load_refuses_other_version_and_untrusted_types(tmp_path, small_train):
    model, manifest = fit_run(_config(fusion="video"), small_train)
    save_run(tmp_path / "run", model, manifest)
    manifest_path = tmp_path / "run" / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["avsc_sk_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(RunError, match="avsc-sk 0.0.1"):
        load_run(tmp_path / "run")
    data["avsc_sk_version"] = __version__
    manifest_path.write_text(json.dumps(data))

    import skops.io as sio

    sio.dump({"model": model, "payload": datetime.timedelta(days=1)}, tmp_path / "x.skops")
    (tmp_path / "run" / "model.skops").write_bytes((tmp_path / "x.skops").read_bytes())
    with pytest.raises(RunError, match="untrusted type 'datetime.timedelta'"):
        load_run(tmp_path / "run")
    (tmp_path / "run" / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(RunError, match="not a readable skops file"):
        load_run(tmp_path / "run")


def test_predict_refuses_other_dimensions(tmp_path, small_train):
    model, manifest = fit_run(_config(fusion="early"), small_train)
    save_run(tmp_path / "run", model, manifest)
    other = small_featureset("test", n_per_class=2, dims=(5, 3))
    with pytest.raises(DataError, match="trained on"):
        predict_frame(load_run(tmp_path / "run"), other)


def test_config_maps_onto_estimator_parameters(small_train):
    config = _config(fusion="early", model="logreg")
    config = apply_overrides(config, ["params.head__C=0.25", 'params.features__audio__pool__stats=["mean", "std"]',
                                      'params.pca={estimator="PCA", n_components=4}'])
    est = build_estimator(config, small_train.modalities)
    assert est.get_params()["head__C"] == 0.25
    assert est.get_params()["features__audio__pool__stats"] == ("mean", "std")
    assert est.get_params()["pca"].n_components == 4
    assert tomllib.loads(dump_config(config)) == config


@pytest.mark.parametrize("override, message", [
    ("params.head__nope=1", "params.head__nope is not a parameter of the FeaturePipeline; head takes C, "),
    ("seed=\"zero\"", "seed = 'zero' should be a int"),
    ("colour=1", "unknown key 'colour'"),
    ("justakey", "key=value"),
    ("params.pca=12", "pca is a step"),
])
def test_bad_config_is_one_clear_error(override, message, small_train):
    with pytest.raises(ConfigError, match=message):
        build_estimator(apply_overrides(load_config(), [override]), small_train.modalities)


def test_unknown_fusion_and_model(small_train):
    with pytest.raises(ConfigError, match="unknown fusion mode 'mid'"):
        build_estimator(_config(fusion="mid"), small_train.modalities)
    with pytest.raises(ConfigError, match="unknown model 'forest'"):
        build_estimator(_config(model="forest"), small_train.modalities)


def test_segment_mode_averages_segments(small_train, small_test):
    model, manifest = fit_run(_config(fusion="early", segment_frames=2), small_train, evaluate=small_test)
    assert model.n_segments_ == 2
    assert manifest["scores"]["accuracy"] > 0.3  # chance is 0.1
    # The same estimator fitted by hand on the raw segments: segment mode pools them ahead,
    # chunk by chunk, which must not change a thing.
    seg_X, n_seg = model._segments(small_test.X)
    seg_train, _ = model._segments(small_train.X)
    inner = fit_with_groups(model.estimator, seg_train, np.repeat(small_train.y, n_seg),
                            np.repeat(small_train.groups, n_seg))  # each segment keeps its clip's location
    expected = inner.predict_proba(seg_X).reshape(small_test.n_clips, n_seg, -1).mean(axis=1)
    np.testing.assert_allclose(model.predict_proba(small_test.X), expected, rtol=1e-6)
    assert model.pooler_ is not None  # the frames were pooled ahead, not copied whole


def test_fit_needs_two_classes(small_train):
    one = small_train.subset(small_train.y == "bus")
    with pytest.raises(DataError, match="only one class"):
        fit_run(_config(fusion="audio"), one)


def test_proba_has_a_column_per_trained_class(small_train):
    # The run's classes_ are the label space: three trained scenes, three columns (no scene list assumed).
    part = small_train.subset(np.isin(small_train.y, ["bus", "tram", "park"]))
    model, manifest = fit_run(_config(fusion="audio"), part, evaluate=small_train)
    proba = predict_proba_scenes(model, small_train.X)
    assert proba.shape == (small_train.n_clips, 3)
    assert manifest["classes"] == ["bus", "park", "tram"]
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # The seven scenes training lacked are scored as probability 0 and named in a warning.
    assert any("has no clips of 7 scene(s)" in w for w in manifest["warnings"])
    seen = np.isin(small_train.y, ["bus", "tram", "park"])
    assert manifest["scores"]["accuracy"] <= seen.mean()


# -- pooled while reading: runs hold parameters, not per-frame column lists ---------------------

def _with_params(config, **params):
    return apply_overrides(config, [f"params.{k}={json.dumps(v)}" for k, v in params.items()])


def _run_file_size(tmp_path, name, model, manifest):
    save_run(tmp_path / name, model, manifest)
    return (tmp_path / name / "model.skops").stat().st_size


@pytest.mark.parametrize("fusion", ["early", "late", "intermediate"])
def test_pooled_run_predicts_as_the_frame_run(tmp_path, small_train, small_test, fusion):
    stats = ("mean", "std")
    key = {"late": "pooler__audio__stats", "intermediate": "stats"}.get(fusion, "features__audio__pool__stats")
    # small_train records each scene at one location: grouped internal folds are refused there
    # The heads' C given: their choosing (on every internal fold in late fusion), twice, is not what is tested.
    pins = {"late": {"audio__head__C": 1.0, "video__head__C": 1.0}, "early": {"head__C": 1.0}}.get(fusion, {})
    config = _with_params(_config(fusion=fusion, cv_groups="none"), **{key: list(stats)}, **pins)
    frame_model, frame_manifest = fit_run(config, small_train, evaluate=small_test)
    pooled_train, pooled_test = small_train.pool(stats), small_test.pool(stats)
    model, manifest = fit_run(config, pooled_train, evaluate=pooled_test)
    assert manifest["train"]["stats"] == ["mean", "std"] and frame_manifest["train"]["stats"] is None
    np.testing.assert_allclose(model.predict_proba(pooled_test.X), frame_model.predict_proba(small_test.X),
                               rtol=1e-4, atol=1e-6)
    assert manifest["scores"]["accuracy"] == pytest.approx(frame_manifest["scores"]["accuracy"])
    save_run(tmp_path / "pooled", model, manifest)
    run = load_run(tmp_path / "pooled")
    np.testing.assert_array_equal(run.model.predict_proba(pooled_test.X), model.predict_proba(pooled_test.X))
    with pytest.raises(DataError, match=r"hold frames but the model was trained on the statistics \['mean', 'std'\]"):
        predict_frame(run, small_test)


def test_pooled_run_file_does_not_grow_with_the_frame_count(tmp_path):
    sizes = []
    for n_frames in (4, 96):
        train = small_featureset("train", n_frames=n_frames).pool(("mean",))
        # C fixed: the candidates a head tried (cv_scores_) are records whose number is the data's choice.
        config = apply_overrides(_config(fusion="early"), ["params.head__C=1.0"])
        sizes.append(_run_file_size(tmp_path, f"f{n_frames}", *fit_run(config, train)))
    assert abs(sizes[1] - sizes[0]) < 0.01 * sizes[0]


def test_run_file_keeps_no_per_column_lists(tmp_path, small_train):
    from sklearn.compose import ColumnTransformer

    from avsc_sk.runs._store import _estimators_in

    config = _with_params(_config(fusion="weighted", cv_groups="none"), audio__head__C=1.0, video__head__C=1.0)
    model, manifest = fit_run(config, small_train.pool(("mean",)))
    save_run(tmp_path / "run", model, manifest)
    loaded = load_run(tmp_path / "run").model
    transformers = [e for e in _estimators_in(loaded, set())
                    if isinstance(e, ColumnTransformer) and hasattr(e, "transformers_")]  # fitted ones
    assert transformers  # the pooler
    for ct in transformers:
        assert all(isinstance(v, np.ndarray) for v in ct._transformer_to_input_indices.values())
        assert len(ct.get_feature_names_out()) == 6 + 3  # still usable: the means of audio (6) and video (3)


def test_read_stats_from_config_and_grid():
    from avsc_sk.runs import read_stats

    assert read_stats(_config()) == ("mean",)
    assert read_stats(_with_params(_config(), features__audio__pool__stats=["max", "std"])) == ("mean", "std", "max")
    grid = [{"pooler__audio__stats": [["mean"], ["min", "mean"]]}, {"stats": ["std"], "quantiles": [[0.9, 0.1]]}]
    assert read_stats(_config(), grid) == ("mean", "std", "min", "q0.1", "q0.9")
    assert read_stats(_config(segment_frames=2)) is None  # segment mode reads frames
    with pytest.raises(ConfigError, match="unknown statistic 'median'"):
        read_stats(_with_params(_config(), features__video__pool__stats=["median"]))


def test_segment_mode_refuses_pooled_features(small_train):
    with pytest.raises(ConfigError, match="segment_frames = 2 needs frames"):
        build_estimator(_config(segment_frames=2), small_train.modalities, input_stats=("mean",))


def test_frame_run_without_stats_in_manifest_still_predicts(tmp_path, small_train, small_test):
    # A run saved before pooling while reading: its manifest has no "stats" and its model takes frames.
    from avsc_sk.runs import run_stats

    model, manifest = fit_run(_config(fusion="early"), small_train)
    del manifest["train"]["stats"]
    save_run(tmp_path / "run", model, manifest)
    run = load_run(tmp_path / "run")
    assert run_stats(run.manifest) is None
    frame = predict_frame(run, small_test)
    assert len(frame) == small_test.n_clips


def test_cli_fit_reads_statistics_and_predict_reads_alike(tmp_path, small_train, small_test):
    from avsc_sk.cli import main
    from avsc_sk.data import write_features

    data = write_features(tmp_path / "f.h5", {"train": small_train, "test": small_test})
    run_dir = tmp_path / "run"
    assert main(["fit", "--features", str(data), "--split", "train", "--fusion", "early", "--max-frames", "0",
                 "--set", 'params.features__audio__pool__stats=["mean", "max"]', "--out", str(run_dir)]) == 0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["train"]["stats"] == ["mean", "max"]
    assert manifest["train"]["fingerprint"] == small_train.pool(("mean", "max")).fingerprint()
    assert main(["predict", str(run_dir), "--features", str(data), "--split", "test", "--max-frames", "0",
                 "--out", str(tmp_path / "pred.csv")]) == 0
    expected = predict_frame(load_run(run_dir), small_test.pool(("mean", "max")))
    got = (tmp_path / "pred.csv").read_text().splitlines()
    assert len(got) == small_test.n_clips + 1 and expected["scene_pred"].tolist() == [
        line.split("\t")[1] for line in got[1:]]
