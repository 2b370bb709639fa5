import json
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest
from conftest import small_featureset
from sklearn.base import BaseEstimator, ClassifierMixin

import avsc_sk._progress
import avsc_sk.runs
import avsc_sk.tuning
from avsc_sk.cli import main
from avsc_sk.data import write_features
from avsc_sk.datasets import load_fold1_metadata
from avsc_sk.errors import ConfigError, MissingDependencyError
from avsc_sk.model_selection import LocationKFold
from avsc_sk.runs import build_estimator
from avsc_sk.tuning import (best_config, load_grid, make_search, plot_search, results_table, run_search,
                            search_results)

GRID = """
fusion = "early"
model = "logreg"
seed = 0

[params]
features__video__pool__stats = ["mean"]

[grid]
head__C = [0.1, 1.0]
pca = ["passthrough", { estimator = "PCA", n_components = 4 }]
"""


@pytest.fixture(scope="module")
def data():
    return small_featureset("train", n_per_class=60), small_featureset("test", n_per_class=10)


@pytest.fixture(scope="module")
def feature_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("features") / "small.h5"
    write_features(path, {"train": data[0], "test": data[1]})
    return path


def _grid_file(tmp_path, text=GRID):
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


class GroupsSpy(ClassifierMixin, BaseEstimator):
    """Predicts class frequencies; records the groups each fit receives."""

    seen = []

    def __init__(self, c=1, stop_at=None):
        self.c = c
        self.stop_at = stop_at

    def fit(self, X, y, groups=None):
        if self.stop_at is not None and self.c == self.stop_at:
            raise KeyboardInterrupt
        GroupsSpy.seen.append(None if groups is None else np.asarray(groups).copy())
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum() * (1.0 / self.c) + (1 - 1.0 / self.c) / len(counts)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def test_outer_folds_never_share_a_location():
    meta = load_fold1_metadata()
    meta = meta[meta["split"].isin(["train", "val"])]
    groups = meta["location"].to_numpy()
    search = make_search(GroupsSpy(), {"c": [1, 2]}, cv=5)
    assert isinstance(search.cv, LocationKFold)
    tested = np.zeros(len(groups), dtype=int)
    for train, test in search.cv.split(np.zeros((len(groups), 1)), meta["scene_label"], groups):
        assert not set(groups[train]) & set(groups[test])
        tested[test] += 1
    assert (tested == 1).all()


def test_estimator_fit_gets_the_train_fold_groups(data):
    train, _ = data
    GroupsSpy.seen = []
    search = run_search(make_search(GroupsSpy(), {"c": [1, 2]}, cv=3), train)
    # 2 candidates x 3 folds + the refit, every one with groups (metadata routing), each its train part.
    assert len(GroupsSpy.seen) == 7 and all(g is not None for g in GroupsSpy.seen)
    sizes = sorted(len(g) for g in GroupsSpy.seen[:3])
    folds = sorted(len(tr) for tr, _ in search.cv.split(train.X, train.y, train.groups))
    assert sizes == folds and len(GroupsSpy.seen[-1]) == train.n_clips
    assert search.best_estimator_.c == search.best_params_["c"]


def test_load_grid_builds_values_and_refuses_bad_files(tmp_path, data):
    config, grid = load_grid(_grid_file(tmp_path, GRID.replace('head__C = [0.1, 1.0]',
                                                                'head__C = [0.1, 1.0]\nhead__class_weight = ["None", "balanced"]')))
    assert config["fusion"] == "early" and config["params"] == {"features__video__pool__stats": ["mean"]}
    assert grid["head__C"] == [0.1, 1.0] and grid["head__class_weight"] == [None, "balanced"]
    assert grid["pca"][0] == "passthrough" and grid["pca"][1].n_components == 4
    with pytest.raises(ConfigError, match="no \\[grid\\] table"):
        load_grid(_grid_file(tmp_path, 'fusion = "early"\n'))
    with pytest.raises(ConfigError, match="non-empty list"):
        load_grid(_grid_file(tmp_path, '[grid]\nhead__C = 1.0\n'))
    with pytest.raises(ConfigError, match="both in \\[params\\] and \\[grid\\]"):
        load_grid(_grid_file(tmp_path, '[params]\nhead__C = 1.0\n[grid]\nhead__C = [1.0]\n'))
    config, grid = load_grid(_grid_file(tmp_path, '[grid]\nhead__Cx = [1.0]\n'))
    with pytest.raises(ConfigError, match=r"grid.head__Cx is not a parameter of the FeaturePipeline; did you mean head__C\?"):
        make_search(build_estimator(config, data[0].modalities), grid)


def test_search_results_table_best_config_and_plot(tmp_path, data):
    train, _ = data
    config, grid = load_grid(_grid_file(tmp_path))
    search = run_search(make_search(build_estimator(config, train.modalities), grid, cv=3), train)
    results = search_results(search)
    assert len(results) == 4 and results["param_pca"].tolist()[1] == "PCA(n_components=4)"
    assert {"mean_test_neg_log_loss", "std_test_accuracy", "rank_test_neg_log_loss"} <= set(results.columns)
    table = results_table(results, top=3).splitlines()
    assert len(table) == 2 + 3 and table[2].startswith("| 1 |")
    best_loss = -results["mean_test_neg_log_loss"].max()
    assert f"{best_loss:.4f} ±" in table[2]
    best = best_config(config, search)
    assert {k: best["params"][k] for k in grid} == {k: (v if isinstance(v, str | float) else
                                                       {"estimator": "PCA", "n_components": 4})
                                                   for k, v in search.best_params_.items()}
    assert best["params"]["features__video__pool__stats"] == ["mean"]
    fig = plot_search(results)
    assert len([a for a in fig.axes if a.get_visible()]) == 2


def _tune(args, capsys):
    status = main(["tune", *map(str, args)])
    return status, capsys.readouterr()


def test_tune_cli_end_to_end_and_best_config_refits_to_the_same_score(tmp_path, feature_file, capsys, monkeypatch):
    made = []
    monkeypatch.setattr(avsc_sk._progress, "terminal_progress", lambda quiet=False, stream=None: made.append(quiet))
    out = tmp_path / "tuned"
    status, io = _tune([_grid_file(tmp_path), "--features", feature_file, "--split", "train", "--cv", "3",
                        "--quiet", "--out", out], capsys)
    assert status == 0, io.err
    assert made == [True] and "tune" not in io.err  # --quiet: the policy is asked for no hook
    assert sorted(p.name for p in out.iterdir()) == ["best.toml", "cv_results.csv", "results.md", "search.png",
                                                     "summary.json"]
    results = pd.read_csv(out / "cv_results.csv")
    assert len(results) == 4 and sorted(results["rank_test_neg_log_loss"]) == [1, 2, 3, 4]
    summary = json.loads((out / "summary.json").read_text())
    best = tomllib.loads((out / "best.toml").read_text())
    assert best["params"]["head__C"] == summary["best_params"]["head__C"]
    assert "| 1 |" in (out / "results.md").read_text()

    status = main(["fit", "--config", str(out / "best.toml"), "--features", str(feature_file), "--split", "train",
                   "--out", str(tmp_path / "run")])
    assert status == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scores"] == summary["refit_scores"]
    assert 0.0 < manifest["scores"]["accuracy"] and manifest["scores"]["n_clips"] == 100

    status, io = _tune([_grid_file(tmp_path), "--features", feature_file, "--out", out], capsys)
    assert status == 2 and "already exists" in io.err


def test_interrupted_search_keeps_finished_configurations(tmp_path, feature_file, capsys, monkeypatch):
    monkeypatch.setattr(avsc_sk.runs, "build_estimator", lambda config, mods, **kw: GroupsSpy(stop_at=3))
    grid = _grid_file(tmp_path, '[grid]\nc = [1, 2, 3, 4]\n')
    out = tmp_path / "partial"
    # 1 job, 3 folds: candidates run two at a time, so 1 and 2 finish before 3 is interrupted.
    status, io = _tune([grid, "--features", feature_file, "--split", "train", "--cv", "3", "--quiet",
                        "--out", out], capsys)
    assert status == 130  # README: Ctrl-C exits 130
    assert io.err.strip() == f"avsc-sk: error: interrupted; the 2 configurations that finished were kept in {out}"
    results = pd.read_csv(out / "cv_results.csv")
    assert results["param_c"].tolist() == [1, 2]
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True
    assert "c = 2" in (out / "best.toml").read_text()  # the better of the two that finished


def test_dask_without_distributed_is_one_clear_error(tmp_path, feature_file, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'avsc-sk\[dask\]'"):
        avsc_sk.tuning.dask_client("local")
    status, io = _tune([_grid_file(tmp_path), "--features", feature_file, "--backend", "dask",
                        "--out", tmp_path / "x"], capsys)
    assert status == 2 and len(io.err.strip().splitlines()) == 1 and "avsc-sk[dask]" in io.err


def test_an_unreachable_scheduler_is_the_same_one_line_error_for_tune_and_extract(tmp_path, feature_file, capsys,
                                                                                  monkeypatch):
    # One Dask helper serves both commands: the same SchedulerError, naming the address and the fixes.
    pytest.importorskip("distributed")
    import avsc_sk._dask

    monkeypatch.setattr(avsc_sk._dask, "CONNECT_TIMEOUT", "2s")  # nothing answers there: no need to wait 10 s
    sf = pytest.importorskip("soundfile")
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    status, io = _tune([_grid_file(tmp_path), "--features", feature_file, "--split", "train", "--quiet",
                        "--backend", "dask", "--scheduler", address, "--out", tmp_path / "tuned"], capsys)
    tune_err = io.err.strip().splitlines()
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(str(audio / "bus-lyon-1-1.wav"), np.zeros((16000, 2)), 16000)
    extract_status = main(["extract", "--audio-dir", str(audio), "--out", str(tmp_path / "f.h5"), "--duration", "1",
                           "--quiet", "--backend", "dask", "--scheduler", address])
    extract_err = capsys.readouterr().err.strip().splitlines()
    assert status == extract_status == 2
    assert len(tune_err) == 1 and tune_err == extract_err
    assert tune_err[0].startswith(f"avsc-sk: error: --scheduler {address}: cannot reach a Dask scheduler there (")
    assert tune_err[0].endswith("check the address (tcp://HOST:8786) and that the scheduler is running, "
                                "or use --scheduler local")
    assert not (tmp_path / "tuned").exists()
    assert not (tmp_path / "f.h5").exists()  # extract connects before it creates its output


def test_dask_local_cluster_gives_the_same_ranking(tmp_path, feature_file, capsys):
    pytest.importorskip("distributed")
    args = [_grid_file(tmp_path), "--features", feature_file, "--split", "train", "--cv", "3", "--quiet",
            "--eval-split", ""]
    status, io = _tune([*args, "--out", tmp_path / "local"], capsys)
    assert status == 0, io.err
    status, io = _tune([*args, "--backend", "dask", "--scheduler", "local", "--out", tmp_path / "dask"], capsys)
    assert status == 0, io.err
    local = pd.read_csv(tmp_path / "local" / "cv_results.csv")
    dask = pd.read_csv(tmp_path / "dask" / "cv_results.csv")
    assert dask["rank_test_neg_log_loss"].tolist() == local["rank_test_neg_log_loss"].tolist()
    np.testing.assert_allclose(dask["mean_test_neg_log_loss"], local["mean_test_neg_log_loss"], rtol=1e-6)
    assert json.loads((tmp_path / "dask" / "summary.json").read_text())["backend"] == "dask"


def _plotted(ax):
    dots = ax.containers[0].lines[0].get_xydata()
    (best,) = [line for line in ax.get_lines() if line.get_label() == "best"]
    return dots, best.get_xydata()


def test_plot_search_draws_every_candidate_and_the_best_per_value():
    # The last candidate is the worst: a mask that picked it for every dot drew six copies of it.
    params = [{"head__C": c, "pca": p} for p in ("passthrough", "PCA(n_components=4)") for c in (0.01, 0.1, 1.0)]
    loss = np.array([0.9, 0.5, 0.7, 0.6, 0.8, 1.2])
    results = pd.DataFrame({"param_head__C": [repr(p["head__C"]) for p in params],
                            "param_pca": [p["pca"] for p in params], "params": params,
                            "mean_test_neg_log_loss": -loss, "std_test_neg_log_loss": 0.01})
    fig = plot_search(results)
    ax_c, ax_pca = [a for a in fig.axes if a.get_visible()]
    dots, best = _plotted(ax_c)
    np.testing.assert_allclose(dots, np.c_[[0.01, 0.1, 1.0, 0.01, 0.1, 1.0], loss])
    np.testing.assert_allclose(best, [[0.01, 0.6], [0.1, 0.5], [1.0, 0.7]])
    dots, best = _plotted(ax_pca)
    np.testing.assert_allclose(dots, np.c_[[0, 0, 0, 1, 1, 1], loss])
    np.testing.assert_allclose(best, [[0, 0.5], [1, 0.6]])


def test_plot_search_skips_failed_candidates_in_the_best_line():
    params = [{"head__C": c} for c in (0.1, 1.0, 10.0)]
    results = pd.DataFrame({"param_head__C": ["0.1", "1.0", "10.0"], "params": params,
                            "mean_test_accuracy": [0.5, np.nan, 0.7], "std_test_accuracy": 0.0})
    _, best = _plotted(plot_search(results).axes[0])
    np.testing.assert_allclose(best, [[0.1, 0.5], [10.0, 0.7]])


def test_tune_with_a_single_grid_value_writes_its_outputs(tmp_path, feature_file, capsys):
    out = tmp_path / "one"
    status, io = _tune([_grid_file(tmp_path, '[grid]\nhead__C = [0.003]\n'), "--features", feature_file,
                        "--split", "train", "--cv", "3", "--quiet", "--out", out], capsys)
    assert status == 0, io.err
    assert (out / "search.png").stat().st_size > 0
    assert pd.read_csv(out / "cv_results.csv")["param_head__C"].tolist() == [0.003]


def test_interrupt_after_exactly_one_configuration_keeps_it(tmp_path, feature_file, capsys, monkeypatch):
    monkeypatch.setattr(avsc_sk.runs, "build_estimator", lambda config, mods, **kw: GroupsSpy(stop_at=2))
    grid = _grid_file(tmp_path, '[grid]\nc = [1, 2, 3]\n')
    out = tmp_path / "partial"
    # 1 job, 5 folds: one candidate per batch, so only the first finishes.
    status, io = _tune([grid, "--features", feature_file, "--split", "train", "--cv", "5", "--quiet",
                        "--out", out], capsys)
    assert status == 130, io.err
    assert io.err.strip() == f"avsc-sk: error: interrupted; the 1 configuration that finished was kept in {out}"
    assert pd.read_csv(out / "cv_results.csv")["param_c"].tolist() == [1]


FAILING_PCA = '[grid]\nhead__C = [0.1, 1.0]\npca = ["passthrough", { estimator = "PCA", n_components = 50 }]\n'


@pytest.mark.parametrize("cv", [3, 5])  # 3 folds: two candidates per batch; 5: one, so a batch fails whole
def test_tune_reports_failed_candidates_and_keeps_the_rest(tmp_path, feature_file, capsys, cv):
    # 9 pooled dimensions: PCA(n_components=50) fails on every fold.
    out = tmp_path / "tuned"
    status, io = _tune([_grid_file(tmp_path, FAILING_PCA), "--features", feature_file, "--split", "train",
                        "--cv", cv, "--quiet", "--out", out], capsys)
    assert status == 0, io.err
    (warning,) = io.err.strip().splitlines()
    assert warning.startswith("avsc-sk: warning: 2 of 4 candidates failed")
    assert "pca=PCA(n_components=50)" in warning and "n_components=50 must be between 0 and" in warning
    results = pd.read_csv(out / "cv_results.csv")
    ok = results[results["mean_test_neg_log_loss"].notna()]
    assert ok["param_pca"].tolist() == ["passthrough", "passthrough"]
    assert "passthrough" in (out / "best.toml").read_text()
    assert json.loads((out / "summary.json").read_text())["failures"]["n_failed"] == 2


def test_tune_where_every_candidate_fails_is_one_error(tmp_path, feature_file, capsys):
    grid = '[grid]\npca = [{ estimator = "PCA", n_components = 50 }, { estimator = "PCA", n_components = 40 }]\n'
    status, io = _tune([_grid_file(tmp_path, grid), "--features", feature_file, "--split", "train", "--cv", "3",
                        "--quiet", "--out", tmp_path / "none"], capsys)
    assert status == 2
    (line,) = io.err.strip().splitlines()
    assert line.startswith("avsc-sk: error: all 2 candidates failed; the first (pca=PCA(n_components=50)): ")
    assert "n_components=50 must be between 0 and" in line
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("grid, message", [
    ('[grid]\nhead__CC = [1.0]\n', "grid.head__CC is not a parameter of the FeaturePipeline; did you mean head__C?"),
    ('[grid]\npca = ["passthrough", { estimator = "PCA", n_components = 4 }]\npca__n_components = [2, 3]\n',
     "grid.pca__n_components: pca is set to 'passthrough' here, which has no parameter 'n_components'; "
     "search pca = 'passthrough' in a [[grid]] table of its own"),
    ('[grid]\npca = [{ estimator = "PCA", n_components = 4 }]\npca__n_component = [2, 3]\n',
     "grid.pca__n_component: pca is set to PCA here, which has no parameter 'n_component'; "
     "did you mean pca__n_components?"),
])
def test_a_grid_key_typo_is_one_line_naming_the_nearest_key(tmp_path, feature_file, capsys, grid, message):
    status, io = _tune([_grid_file(tmp_path, grid), "--features", feature_file, "--split", "train", "--cv", "3",
                        "--quiet", "--out", tmp_path / "t"], capsys)
    assert status == 2
    assert io.err.strip().splitlines() == [f"avsc-sk: error: {message}"]


# -- shipped grids on small data (issue 22 item 6) ------------------------------------------------------------

PIPELINES = __import__("pathlib").Path(__file__).resolve().parents[1] / "pipelines"


@pytest.fixture(scope="module")
def wide_small_file(tmp_path_factory):
    # 144 pooled dimensions and 90 training clips: 3-fold training parts of about 60 clips, under the
    # shipped grids' 128 PCA components (and above them in dimensions, so the clips are what limits).
    train = small_featureset("train", n_per_class=9, n_frames=2, dims=(96, 48))
    test = small_featureset("test", n_per_class=2, n_frames=2, dims=(96, 48))
    path = tmp_path_factory.mktemp("wide") / "wide.h5"
    write_features(path, {"train": train, "test": test})
    return path


@pytest.mark.parametrize("grid", ["grid-early-lgbm.toml", "grid-early.toml"])
def test_shipped_pca_grids_work_on_folds_under_128_clips(tmp_path, wide_small_file, capsys, grid):
    # A fixed PCA(n_components=128) failed on every such fold: every candidate of grid-early-lgbm (an error),
    # half of grid-early's (a warning). The grids now keep at most 128 components, fewer where a fold has fewer.
    out = tmp_path / "t"
    # grid-early's 28 candidates sampled down to 6 (seeded; some of them with the PCA) to keep the test short.
    search = ["--search", "random", "--n-iter", 6] if grid == "grid-early.toml" else []
    status, io = _tune([PIPELINES / grid, "--features", wide_small_file, "--split", "train", "--cv", 3, *search,
                        "--eval-split", "", "--quiet", "--out", out], capsys)
    assert status == 0, io.err
    assert "failed" not in io.err
    results = pd.read_csv(out / "cv_results.csv")
    assert results["mean_test_neg_log_loss"].notna().all()
    if search:  # the PCA is searched: some of the candidates scored have it
        assert results["param_pca"].astype(str).str.startswith("CappedPCA(n_components=128)").sum() >= 2
    else:  # the PCA is fixed: every candidate has it, and the refit config keeps it
        assert 'pca = { estimator = "CappedPCA", n_components = 128 }' in (out / "best.toml").read_text()
    assert json.loads((out / "summary.json").read_text())["n_candidates"] == (6 if search else 4)
