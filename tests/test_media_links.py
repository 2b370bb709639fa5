"""Media paths (issue 21, conflict browser): extract records each clip's wav and mp4, the reader gives them as
FeatureSet.media, and the report's conflict browser links them with a frame of each video."""

import json
import os
import re
import sys
import urllib.parse

import h5py
import pandas as pd
import pytest

from avsc_sk.data import FeatureSet, concat_featuresets, read_features, write_features
from avsc_sk.errors import DataError

from conftest import small_featureset


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny wav/mp4 clips of test_extract, two test videos swapped so the video run gets them wrong."""
    pytest.importorskip("soundfile")
    pytest.importorskip("av")
    from test_extract import _make_dataset

    root = tmp_path_factory.mktemp("media")
    stems, train, test = _make_dataset(root / "data")
    video = root / "data" / "video"
    a, b, swap = video / "bus-lyon-2-5.mp4", video / "park-paris-2-5.mp4", video / "swap.mp4"
    a.rename(swap)
    b.rename(a)
    swap.rename(b)
    lists = [root / "data" / name for name in ("fold1_train_tiny.csv", "val.csv", "fold1_evaluate_tiny.csv")]
    return root, lists, train, test


def _extract(tiny, out, lists=None, audio=True):
    from avsc_sk.extract import extract_features

    root, all_lists, *_ = tiny
    data = root / "data"
    return extract_features(out, data / "audio" if audio else None, data / "video", lists=lists or all_lists,
                            duration=2.0, chunk_size=3)


def test_extract_records_media_paths_and_the_reader_returns_them(tiny, tmp_path):
    root, lists, train, test = tiny
    out = tmp_path / "f.h5"
    _extract(tiny, out)
    data = (root / "data").resolve()
    with h5py.File(out) as fh:
        for split, stems in (("train", train), ("test", test)):
            for kind, ext in (("audio", "wav"), ("video", "mp4")):
                d = fh[f"{split}/media/{kind}"]
                assert d.maxshape == (None,) and d.chunks is not None
                assert d.asstr()[()].tolist() == [str(data / kind / f"{s}.{ext}") for s in stems]
    fs = read_features(out, "train+test", stats=("mean",))
    assert set(fs.media) == {"audio", "video"}
    assert fs.media["video"].tolist() == [str(data / "video" / f"{s}.mp4") for s in train + test]
    assert fs.subset([1]).media["audio"].tolist() == [str(data / "audio" / f"{train[1]}.wav")]
    assert fs.select(["video"]).media["video"].tolist() == fs.media["video"].tolist()

    # Video only: every clip's audio path is "".
    _extract(tiny, tmp_path / "v.h5", audio=False)
    only = read_features(tmp_path / "v.h5", "test")
    assert only.media["audio"].tolist() == [""] * len(test) and all(only.media["video"])


def test_crash_repair_cuts_media_and_an_older_file_resumes(tiny, tmp_path):
    root, lists, train, test = tiny
    out = tmp_path / "f.h5"
    _extract(tiny, out, lists=lists[:1])
    with h5py.File(out, "r+") as fh:
        g = fh["train"]
        # A kill mid-chunk: media written, clip ids not yet.
        g["clip_id"].resize(4, axis=0)
        g["media/video"].resize(len(train) + 2, axis=0)
    _extract(tiny, out, lists=lists[:1])
    with h5py.File(out, "r+") as fh:
        g = fh["train"]
        assert {len(g[k]) for k in ("clip_id", "media/audio", "media/video", "features/audio")} == {len(train)}
        del g["media"]  # as extract wrote files before it recorded media
    assert read_features(out, "train").media is None
    _extract(tiny, out, lists=[lists[0], lists[2]])
    fs = read_features(out, "train+test")
    assert fs.clip_ids.tolist() == train + test
    assert fs.media["audio"][:len(train)].tolist() == [""] * len(train)  # old rows: not recorded
    assert all(fs.media["audio"][len(train):]) and all(fs.media["video"][len(train):])


def test_features_without_media_read_as_before(tmp_path):
    fs = small_featureset("test", n_per_class=2)
    path = write_features(tmp_path / "f.h5", {"test": fs})
    with h5py.File(path) as fh:
        assert "media" not in fh["test"]
    back = read_features(path, "test")
    assert back.media is None and back.fingerprint() == fs.fingerprint()
    assert back.pool(("mean",)).media is None and back.subset([0]).media is None
    write_features(tmp_path / "A", {"test": fs}, layout="A")
    assert read_features(tmp_path / "A", "test").media is None

    # Stacking keeps what one part records, "" for the other.
    m = FeatureSet(fs.X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location,
                   media={"video": [f"/v/{c}.mp4" for c in fs.clip_ids]})
    other = small_featureset("val", n_per_class=1)
    both = concat_featuresets([m, other])
    assert both.media["video"].tolist() == [f"/v/{c}.mp4" for c in fs.clip_ids] + [""] * other.n_clips
    with pytest.raises(DataError, match=r"media\['video'\] has 1 entries"):
        FeatureSet(fs.X, fs.modalities, fs.clip_ids, media={"video": ["/v/a.mp4"]})


def _cells(page):
    body = page[page.index('<table id="conflict-browser">'):]
    return re.findall(r"<tr data-scene=.*?</tr>", body[:body.index("</table>")])


@pytest.fixture(scope="module")
def media_report(tiny, tmp_path_factory):
    """Extract-made features, audio, video and early runs fitted and reported through the CLI."""
    from avsc_sk.cli import main

    tmp = tmp_path_factory.mktemp("media-report")
    features = tmp / "f.h5"
    _extract(tiny, features)
    for fusion in ("audio", "video", "early"):
        assert main(["fit", "--fusion", fusion, "--features", str(features), "--out", str(tmp / fusion),
                     "--quiet"]) == 0
    runs = [str(tmp / n) for n in ("early", "audio", "video")]
    assert main(["report", *runs, "--out", str(tmp / "rep"), "--n-boot", "20", "--quiet"]) == 0
    return runs, tmp / "rep"


def test_report_links_media_with_thumbnails_and_survives_a_missing_video(tiny, media_report, tmp_path, capsys):
    from avsc_sk.cli import main

    root, *_ = tiny
    runs, rep = media_report
    browser = pd.read_csv(rep / "conflict_browser.csv", keep_default_na=False)
    conflicts = pd.read_csv(rep / "conflicts.csv").set_index("scene")
    assert len(browser) == conflicts.loc["all", "disagree"] > 0
    data = (root / "data").resolve()
    assert browser["video_path"].tolist() == [str(data / "video" / f"{a}.mp4") for a in browser["aid"]]
    assert browser["audio_path"].tolist() == [str(data / "audio" / f"{a}.wav") for a in browser["aid"]]
    rows = _cells((rep / "report.html").read_text())
    assert len(rows) == len(browser)
    for row, (_, clip) in zip(rows, browser.iterrows()):
        for kind in ("audio", "video"):
            href = urllib.parse.quote(os.path.relpath(clip[f"{kind}_path"], rep.resolve()))
            assert row.count(f'<a href="{href}">') == 1
        assert row.count('<img src="data:image/png;base64,') == 1
    assert "default-src 'none'; img-src data:" in (rep / "report.html").read_text()

    # A video moved away: its row has no frame and says so, the others keep theirs; one note counts it.
    gone = browser["video_path"].iloc[0]
    os.rename(gone, gone + ".moved")
    try:
        capsys.readouterr()
        assert main(["report", *runs, "--out", str(tmp_path / "rep2"), "--n-boot", "20", "--quiet"]) == 0
        printed = capsys.readouterr().out
    finally:
        os.rename(gone + ".moved", gone)
    rows = _cells((tmp_path / "rep2" / "report.html").read_text())
    assert "<img" not in rows[0] and f"{os.path.basename(gone)} (missing)</a>" in rows[0]
    assert all(r.count('<img src="data:image/png;base64,') == 1 for r in rows[1:])
    notes = json.loads((tmp_path / "rep2" / "report.json").read_text())["notes"]
    assert [n for n in notes if "missing file" in n] == [
        f"1 conflict-browser clip(s) link a missing file (0 audio, 1 video; e.g. {gone}): their links say "
        "(missing), and a clip whose video is missing shows no frame"]
    assert "note: 1 conflict-browser clip(s) link a missing file" in printed


def test_the_media_page_renders_in_headless_chromium(media_report, tmp_path):
    from test_report import _chromium_console

    _, rep = media_report
    n_rows = len(pd.read_csv(rep / "conflict_browser.csv"))
    dom, errors = _chromium_console(rep / "report.html", tmp_path)
    assert errors == []  # the page's policy admits the inlined frames and the script, and nothing fails
    table = dom[dom.index('id="conflict-browser"'):]
    table = table[:table.index("</table>")]
    assert table.count('<img src="data:image/png;base64,') == n_rows  # one frame per row, decoded by the browser
    assert f"{n_rows} of {n_rows} clips shown" in dom  # the script ran over every row


def test_without_pyav_the_browser_links_only_with_one_note(monkeypatch, tmp_path):
    from avsc_sk.report import attach_media, browser_html

    video = tmp_path / "bus-lyon-1-1.mp4"
    video.write_bytes(b"not decoded")
    table = pd.DataFrame({"aid": ["bus-lyon-1-1", "park-paris-1-1"], "scene_label": ["bus", "park"]})
    monkeypatch.setitem(sys.modules, "av", None)  # makes "import av" fail
    out, frames, missing, notes = attach_media(table, {"bus-lyon-1-1": ("", str(video))})
    assert out["video_path"].tolist() == [str(video), ""] and out["audio_path"].tolist() == ["", ""]
    assert frames == {} and missing == set()
    assert len(notes) == 1 and "PyAV is not installed" in notes[0]
    page = browser_html(out, ["bus", "park"], base=tmp_path)
    assert '<a href="bus-lyon-1-1.mp4">bus-lyon-1-1.mp4</a>' in page and "<img" not in page


def test_an_undecodable_video_gives_no_frame_and_a_note(tmp_path):
    pytest.importorskip("av")
    from avsc_sk.report import attach_media

    video = tmp_path / "bus-lyon-1-1.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    table = pd.DataFrame({"aid": ["bus-lyon-1-1"], "scene_label": ["bus"]})
    _, frames, missing, notes = attach_media(table, {"bus-lyon-1-1": ("", str(video))})
    assert frames == {} and missing == set()
    assert notes == [f"1 conflict-browser clip(s) show no video frame: their video does not decode (e.g. {video})"]


def test_links_are_escaped():
    from avsc_sk.report import browser_html

    table = pd.DataFrame({"aid": ["a"], "scene_label": ["bus"], "audio_path": ['/x/a "b"&<c>.wav'],
                          "video_path": [""]})
    page = browser_html(table, ["bus"], base="/x")
    assert '<a href="a%20%22b%22%26%3Cc%3E.wav">a &quot;b&quot;&amp;&lt;c&gt;.wav</a>' in page
    assert "<td></td>" in page
    assert '"b"' not in page and "<c>" not in page
