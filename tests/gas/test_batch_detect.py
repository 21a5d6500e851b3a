"""Batch detect (issue: "Batch: a folder of videos with a progress bar; Ray to spread many videos
over a cluster"): a folder in, one result or error per video, summary files, same numbers as
single-file detect, Ray executor = local executor."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from plantwatch.errors import InputError
from plantwatch.gas.batch import detect_many, find_videos, output_names
from plantwatch.gas.cli_models import register
from plantwatch.gas.detect import detect_video
from plantwatch.gas.display import apply_palette, to_8bit
from plantwatch.gas.models import ModelConfig, build_model
from plantwatch.gas.train import save_model_file
from plantwatch.gas.video import write_mp4

TINY = dict(frames=8, height_px=24, width_px=32, widths=(4, 8, 8, 16))
RESULT_FILES = ["heatmap.png", "overlay.mp4", "result.json"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A tiny untrained heatmap model; threshold 0, so every clip is a leak (all keys set)."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("weights")
    return save_model_file(
        build_model(ModelConfig(kind="heatmap", **TINY)), folder / "heatmap.pt", threshold=0.0
    )


def _clip_k(seed: int, frames: int = 16, h: int = 48, w: int = 64) -> np.ndarray:
    """A warm blob drifting over a noisy 295 K background: (T, H, W) float32 [K]."""
    rng = np.random.default_rng(seed)
    vv, uu = np.mgrid[0:h, 0:w]
    x0, y0 = rng.uniform(15, w - 15), rng.uniform(12, h - 12)
    out = []
    for t in range(frames):
        blob = 2.0 * np.exp(-((uu - x0 - 0.5 * t) ** 2 + (vv - y0) ** 2) / 30.0)
        out.append(295.0 + blob + rng.normal(0, 0.05, (h, w)))
    return np.stack(out).astype(np.float32)


@pytest.fixture()
def folder(tmp_path):
    """Two good clips, one corrupt video, plus files a batch must ignore."""
    d = tmp_path / "videos"
    d.mkdir()
    np.save(d / "b_second.npy", _clip_k(2))
    np.save(d / "a_first.npy", _clip_k(1))
    (d / "c_corrupt.MP4").write_bytes(b"this is not a video")
    (d / "._a_first.mp4").write_bytes(b"macOS resource fork")
    (d / "notes.txt").write_text("not a video")
    (d / "sub").mkdir()
    np.save(d / "sub" / "deep.npy", _clip_k(3))
    return d


def _app():
    app = typer.Typer()
    register(app)
    return app


def _close(a, b, tol=1e-3):
    """JSON trees equal up to float rounding (Ray workers run PyTorch with other thread counts)."""
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _close(a[k], b[k], tol)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y, tol)
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=tol)
    else:
        assert a == b


def test_folder_with_a_corrupt_video(folder, weights, tmp_path):
    out = tmp_path / "out"
    args = ["detect", str(folder), "--out", str(out), "--weights", str(weights)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 2, res.output
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: c_corrupt.MP4: ")
    lines = res.stdout.strip().splitlines()
    assert [ln.split(":")[0] for ln in lines[:2]] == ["a_first.npy", "b_second.npy"]
    assert "leak at" in lines[0] and lines[2].startswith("3 video(s): 2 leak(s), 1 failed")

    assert sorted(p.name for p in out.iterdir()) == [
        "a_first",
        "b_second",
        "summary.csv",
        "summary.json",
    ]
    for name in ("a_first", "b_second"):
        assert sorted(p.name for p in (out / name).iterdir()) == RESULT_FILES
        single = detect_video(folder / f"{name}.npy", weights=weights).to_json()
        assert json.loads((out / name / "result.json").read_text()) == single

    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_videos"], summary["n_leaks"], summary["n_errors"]) == (3, 2, 1)
    assert [v["file"] for v in summary["videos"]] == [
        "a_first.npy",
        "b_second.npy",
        "c_corrupt.MP4",
    ]
    assert "cannot be opened" in summary["videos"][2]["error"]
    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    assert [r["file"] for r in rows] == ["a_first.npy", "b_second.npy", "c_corrupt.MP4"]
    first = summary["videos"][0]
    assert rows[0]["leak_detected"] == "true" and rows[0]["out"] == "a_first"
    assert float(rows[0]["source_x_px"]) == first["source_px"][0]
    assert float(rows[0]["z_px_s"]) == first["z_px_s"]
    assert rows[2]["leak_detected"] == "" and rows[2]["error"] and rows[2]["out"] == ""


def test_json_is_one_object_and_matches_single_file_detect(folder, weights):
    res = CliRunner().invoke(_app(), ["detect", str(folder), "--json", "--weights", str(weights)])
    assert res.exit_code == 2, res.output
    batch = json.loads(res.stdout)  # the whole of stdout is one JSON object
    assert set(batch) == {"videos", "n_videos", "n_leaks", "n_errors"}
    assert (batch["n_videos"], batch["n_leaks"], batch["n_errors"]) == (3, 2, 1)
    one = CliRunner().invoke(
        _app(), ["detect", str(folder / "a_first.npy"), "--json", "--weights", str(weights)]
    )
    assert one.exit_code == 0, one.output
    assert batch["videos"][0] == {"file": "a_first.npy", **json.loads(one.stdout)}
    assert set(batch["videos"][2]) == {"file", "error"}


def test_recursive_and_output_folder_excluded(folder, weights):
    out = folder / "results"
    (out / "old").mkdir(parents=True)
    np.save(out / "old" / "stale.npy", _clip_k(9))
    assert [p.name for p in find_videos(folder)] == ["a_first.npy", "b_second.npy", "c_corrupt.MP4"]
    found = find_videos(folder, recursive=True, exclude=out)
    assert [p.relative_to(folder).as_posix() for p in found] == [
        "a_first.npy",
        "b_second.npy",
        "c_corrupt.MP4",
        "sub/deep.npy",
    ]
    batch = detect_many(found[-1:], out, root=folder, weights=weights)
    assert batch.videos[0].file == "sub/deep.npy" and batch.n_errors == 0
    assert sorted(p.name for p in (out / "sub" / "deep").iterdir()) == RESULT_FILES


@pytest.mark.parametrize("content", [None, "notes.txt"])
def test_no_videos_is_one_line_exit_2(tmp_path, weights, content):
    if content:
        (tmp_path / content).write_text("not a video")
    res = CliRunner().invoke(_app(), ["detect", str(tmp_path), "--weights", str(weights)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: path: no videos in")
    assert res.stdout == ""


def test_bad_weights_fail_once_before_any_video(folder, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a model")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        _app(), ["detect", str(folder), "--weights", str(bad), "--out", str(out)]
    )
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "not a plantwatch model file" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "labels, names",
    [
        (["a.npy", "b.npy"], ["a", "b"]),
        (["a.mp4", "a.npy"], ["a_mp4", "a_npy"]),
        (["A.mp4", "a.npy"], ["A_mp4", "a_npy"]),  # clash on case-insensitive disks
        (["a.mp4", "a_mp4.npy", "a.npy"], ["a_mp4", "a_mp4_2", "a_npy"]),
        (["sub/a.npy", "a.npy"], ["sub/a", "a"]),
        ([], []),
    ],
)
def test_output_names(labels, names):
    assert output_names(labels) == names


def test_duplicate_stems_get_distinct_folders(tmp_path, weights):
    d = tmp_path / "videos"
    d.mkdir()
    frames_k = _clip_k(4)
    np.save(d / "a.npy", frames_k)
    write_mp4(d / "a.mp4", apply_palette(to_8bit(frames_k), "white-hot"), 30.0)
    out = tmp_path / "out"
    batch = detect_many(find_videos(d), out, root=d, weights=weights)
    assert batch.n_errors == 0, [v.error for v in batch.videos]
    assert [(v.file, v.out) for v in batch.videos] == [("a.mp4", "a_mp4"), ("a.npy", "a_npy")]
    for name in ("a_mp4", "a_npy"):
        assert sorted(p.name for p in (out / name).iterdir()) == RESULT_FILES
    assert json.loads((out / "a_npy" / "result.json").read_text())["video"]["frames"] == 16


def test_bad_executor_and_workers(folder, weights):
    paths = find_videos(folder)
    with pytest.raises(InputError, match="executor"):
        detect_many(paths, executor="dask", weights=weights)
    with pytest.raises(InputError, match="workers"):
        detect_many(paths, workers=0, weights=weights)
    with pytest.raises(InputError, match="no videos"):
        detect_many([], weights=weights)


def test_ray_executor_gives_the_local_results(folder, weights, tmp_path):
    pytest.importorskip("ray")
    paths = find_videos(folder)
    local = detect_many(paths, root=folder, weights=weights)
    seen = []
    remote = detect_many(
        paths,
        tmp_path / "out",
        root=folder,
        executor="ray",
        workers=2,
        weights=weights,
        progress=lambda done, total, outcome: seen.append((done, total, outcome.file)),
    )
    assert remote.executor == "ray" and remote.n_errors == 1
    assert [d for d, _, _ in seen] == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    assert sorted(f for _, _, f in seen) == [v.file for v in local.videos]
    _close(
        remote.to_json()["videos"][:2],
        [{**v, "out": v["file"][:-4]} for v in local.to_json()["videos"][:2]],
    )
    assert remote.videos[2].error == local.videos[2].error
    assert (tmp_path / "out" / "summary.csv").is_file()
