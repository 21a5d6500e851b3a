"""The CLI contract: outputs, one-line errors with exit status 2, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plantwatch.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenes"


def run(*args: str):
    return runner.invoke(app, list(args))


def test_simulate_random_writes_every_output(tmp_path):
    out = tmp_path / "clip"
    result = run("gas", "simulate", "--scene", "random", "--seed", "7", "--out", str(out))
    assert result.exit_code == 0, result.output
    for name in ("frames.npy", "column_ppm_m.npy", "labels.json", "preview.mp4", "fluctuation.png"):
        assert (out / name).is_file(), name
    frames = np.load(out / "frames.npy")
    column = np.load(out / "column_ppm_m.npy")
    labels = json.loads((out / "labels.json").read_text())
    assert frames.dtype == np.float32 and frames.shape == (32, 240, 320)
    assert column.shape == frames.shape and column.max() > 0
    assert 150 < frames.mean() < 400
    assert labels["seed"] == 7
    import av

    with av.open(str(out / "preview.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 32
    import cv2

    assert cv2.imread(str(out / "fluctuation.png")) is not None


def test_simulate_example_scene_is_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    scene = str(EXAMPLES / "open_leak.yaml")
    assert (
        run(
            "gas", "simulate", "--scene", scene, "--seed", "3", "--out", str(a), "--no-preview"
        ).exit_code
        == 0
    )
    assert (
        run(
            "gas", "simulate", "--scene", scene, "--seed", "3", "--out", str(b), "--no-preview"
        ).exit_code
        == 0
    )
    np.testing.assert_array_equal(np.load(a / "frames.npy"), np.load(b / "frames.npy"))


BAD_SCENES = {
    "unknown species": (
        "species: hydrogen\nleak: {position_m: [0, 0, 1], rate_g_s: 1}\n",
        "species: unknown species 'hydrogen'",
    ),
    "negative leak rate": ("leak: {position_m: [0, 0, 1], rate_g_s: -1}\n", "leak.rate_g_s:"),
    "NaN": ("leak: {position_m: [0, .nan, 1], rate_g_s: 1}\n", "leak.position_m.1:"),
    "camera inside occluder": (
        "leak: {position_m: [0, 0, 1], rate_g_s: 1}\ncamera: {position_m: [0, -10, 1.5]}\n"
        "objects:\n  - {type: tank, base_center_m: [0, -10, 0], diameter_m: 4, height_m: 5}\n",
        "camera.position_m: camera at (0.0, -10.0, 1.5) is inside objects[0] (tank)",
    ),
    "not yaml": ("leak: [1, 2\n", "is not valid YAML at line"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENES))
def test_simulate_bad_scene_exits_2_with_one_line_and_writes_nothing(tmp_path, case):
    text, expected = BAD_SCENES[case]
    scene = tmp_path / "bad.yaml"
    scene.write_text(text)
    out = tmp_path / "out"
    result = run("gas", "simulate", "--scene", str(scene), "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]  # no staging left behind


def test_simulate_bad_options_exit_2(tmp_path):
    assert run("gas", "simulate", "--seed", "-1", "--out", str(tmp_path / "o")).exit_code == 2
    result = run("gas", "simulate", "--palette", "sepia", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "valid: white-hot" in result.output
    result = run(
        "gas", "simulate", "--scene", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 2 and "not found" in result.output
    assert not (tmp_path / "o").exists()


def test_dataset_writes_shards_and_index(tmp_path):
    out = tmp_path / "ds"
    result = run(
        "gas",
        "dataset",
        "--n",
        "3",
        "--seed",
        "50",
        "--out",
        str(out),
        "--workers",
        "1",
        "--frames",
        "4",
        "--width",
        "64",
        "--height",
        "48",
    )
    assert result.exit_code == 0, result.output
    from plantwatch.gas.dataset import open_dataset

    ds = open_dataset(out)
    assert len(ds) == 3
    frames, column, labels = ds[2]
    assert frames.shape == (4, 48, 64) and column.shape == (4, 48, 64)
    assert labels["seed"] == 52
    # clip i of seed S is `gas simulate --scene random --seed S+i` at the same size
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.dataset import DatasetSpec
    from plantwatch.gas.randomize import random_scene

    spec = DatasetSpec(n=3, seed=50, frames=4, width_px=64, height_px=48)
    clip = simulate_clip(random_scene(52, spec.options()), 52)
    np.testing.assert_array_equal(clip.frames_k, frames)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0"], "n: must be >= 1"),
        (["--n", "2", "--no-leak-fraction", "2"], "no_leak_fraction"),
        (["--n", "2", "--workers", "0"], "--workers"),
    ],
)
def test_dataset_invalid(tmp_path, args, message):
    result = run("gas", "dataset", *args, "--out", str(tmp_path / "ds"))
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "ds").exists()


def test_fluctuation_command_on_a_video(tmp_path):
    from plantwatch.gas.video import write_mp4

    rng = np.random.default_rng(0)
    frames = (rng.uniform(0, 255, (20, 48, 64))).astype(np.uint8)
    video = write_mp4(tmp_path / "in.mp4", np.repeat(frames[..., None], 3, axis=3), 15.0)
    out = tmp_path / "f.png"
    result = run("gas", "fluctuation", str(video), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file()
    result = run("gas", "fluctuation", str(tmp_path / "missing.mp4"), "--out", str(out))
    assert result.exit_code == 2 and result.output.startswith("error: ")


def test_demo_says_where_outputs_are(tmp_path):
    result = run("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "hidden behind piping" in result.output
    assert (tmp_path / "demo" / "gas" / "preview.mp4").is_file()
