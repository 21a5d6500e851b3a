"""detect: JSON result, output files, palette video, stabilisation, masks, ONNX, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from plantwatch.gas.cli_models import register
from plantwatch.gas.clip import simulate_clip
from plantwatch.gas.detect import apply_mask, detect_video, export_onnx, stabilise_frames
from plantwatch.gas.display import render_palette_video, to_8bit
from plantwatch.gas.evaluate import default_weights
from plantwatch.gas.models import ModelConfig, build_model
from plantwatch.gas.randomize import RandomSceneOptions, random_scene
from plantwatch.gas.train import save_model_file
from plantwatch.gas.video import read_video, write_mp4

TINY = dict(frames=8, height_px=24, width_px=32, widths=(4, 8, 8, 16))
JSON_KEYS = {"leak_detected", "source_px", "z_px_s", "confidence", "windows"}
WINDOW_KEYS = {"t_start_s", "t_end_s", "source_px", "z_px_s", "confidence"}


@pytest.fixture(scope="module")
def clip_npy(tmp_path_factory):
    """A short simulated leak clip (64x48 px, 12 frames at 30 fps) as a radiometric .npy."""
    opts = RandomSceneOptions(frames=12, width_px=64, height_px=48, fps_choices=(30.0,))
    clip = simulate_clip(random_scene(7, opts), 7)
    path = tmp_path_factory.mktemp("clip") / "clip.npy"
    np.save(path, clip.frames_k)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Tiny untrained models (threshold 0: every clip counts as a leak, so all keys are set)."""
    folder = tmp_path_factory.mktemp("weights")
    paths = {}
    for kind in ("heatmap", "numeric"):
        torch.manual_seed(0)
        paths[kind] = save_model_file(
            build_model(ModelConfig(kind=kind, **TINY)), folder / f"{kind}.pt", threshold=0.0
        )
    torch.manual_seed(0)
    paths["heatmap_gas"] = save_model_file(
        build_model(ModelConfig(kind="heatmap", gas_map=True, **TINY)),
        folder / "heatmap_gas.pt",
        threshold=0.0,
    )
    return paths


def _app():
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize("kind", ["heatmap", "numeric"])
def test_detect_json(clip_npy, weights, kind):
    res = CliRunner().invoke(
        _app(), ["detect", str(clip_npy), "--json", "--weights", str(weights[kind])]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert JSON_KEYS <= set(out) and out["leak_detected"] is True and out["model"] == kind
    x, y = out["source_px"]
    assert -0.5 <= x <= 63.5 and -0.5 <= y <= 47.5
    assert len(out["windows"]) == 2  # 12 frames at 30 fps: windows at 0 and 0.133 s
    assert all(WINDOW_KEYS <= set(w) for w in out["windows"])
    assert out["windows"][1]["t_start_s"] == pytest.approx(4 / 30, abs=1e-3)


def test_detect_writes_overlay_heatmap_and_json(clip_npy, weights, tmp_path):
    result = detect_video(clip_npy, tmp_path / "out", weights=weights["heatmap"])
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["heatmap.png", "overlay.mp4", "result.json"]
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == json.loads(
        json.dumps(result.to_json())
    )
    assert read_video(tmp_path / "out" / "overlay.mp4").frames.shape == (12, 48, 64)
    assert result.heatmap.shape == (48, 64) and result.heatmap.sum() == pytest.approx(1, 1e-4)


def test_shipped_weights_detect_a_simulated_leak(tmp_path):
    """Right after install: both shipped models load and run on a 320x240 clip."""
    opts = RandomSceneOptions(frames=10, fps_choices=(30.0,))
    clip = simulate_clip(random_scene(2_000_003, opts), 2_000_003)
    path = tmp_path / "c.npy"
    np.save(path, clip.frames_k)
    for kind in ("heatmap", "numeric"):
        assert default_weights(kind).stat().st_size < 20e6
        out = detect_video(path, model=kind).to_json()
        assert JSON_KEYS <= set(out) and out["model"] == kind
        assert 0.0 <= out["confidence"] <= 1.0


def test_palette_video_round_trip(tmp_path):
    """Iron-palette H.264 video reads back to the gray levels it was rendered from."""
    vv, uu = np.mgrid[0:48, 0:64]
    scene = 290 + 10 * uu / 63 + 4 * np.exp(-((uu - 40) ** 2 + (vv - 20) ** 2) / 60.0)
    frames_k = np.stack([scene + 0.3 * t for t in range(6)]).astype(np.float32)
    limits = (float(frames_k.min()), float(frames_k.max()))
    gray = to_8bit(frames_k, limits)
    write_mp4(tmp_path / "iron.mp4", render_palette_video(frames_k, "iron", limits), 30.0)
    back = read_video(tmp_path / "iron.mp4", palette="iron").frames
    err = np.abs(back - gray.astype(np.float32))
    assert np.median(err) <= 3 and err.mean() <= 5


def test_stabilisation_recovers_shifts():
    rng = np.random.default_rng(2)
    base = cv2_blur(rng.normal(0, 1, (96, 128)).astype(np.float32))
    shifts = np.array([[0, 0], [1.5, -0.7], [-2.2, 1.1], [0.4, 2.6]])
    frames = np.stack([_shift(base, dx, dy) for dx, dy in shifts])
    steady, found = stabilise_frames(frames)
    np.testing.assert_allclose(found, shifts, atol=0.02)
    assert np.abs(steady[2, 8:-8, 8:-8] - base[8:-8, 8:-8]).mean() < 0.1 * np.abs(base).mean()


def cv2_blur(img):
    import cv2

    return cv2.GaussianBlur(img, (0, 0), 2.0)


def _shift(img, dx, dy):
    import cv2

    m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(
        img, m, img.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def test_mask_fills_burned_in_text():
    frames = np.full((2, 30, 40), 300.0, np.float32)
    frames[:, 2:6, 3:20] = 400.0  # white text
    mask = np.zeros((30, 40), bool)
    mask[1:7, 2:21] = True
    np.testing.assert_allclose(apply_mask(frames, mask), 300.0, atol=1e-3)


@pytest.mark.parametrize("name", ["heatmap", "heatmap_gas"])
def test_onnx_agrees_with_pytorch(clip_npy, weights, tmp_path, monkeypatch, name):
    ort = pytest.importorskip("onnxruntime")
    from plantwatch.gas.evaluate import load_model

    onnx_path = export_onnx(tmp_path / "m.onnx", weights=weights[name])
    net, _, _ = load_model(weights[name])
    x = torch.randn(2, 1, 8, 24, 32)
    with torch.no_grad():
        ref = net(x)
    got = ort.InferenceSession(str(onnx_path)).run(None, {"clip": x.numpy()})
    for name, value in zip(("xy", "z", "leak_logit", "heatmap"), got, strict=True):
        assert np.abs(value - ref[name].numpy()).max() < 1e-4, name
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    a = detect_video(clip_npy, weights=weights[name]).to_json()
    b = detect_video(clip_npy, weights=weights[name], onnx=True).to_json()
    assert abs(a["confidence"] - b["confidence"]) < 1e-4
    np.testing.assert_allclose(a["source_px"], b["source_px"], atol=1e-3)


@pytest.mark.parametrize(
    "name, content, extra, message",
    [
        ("clip.txt", b"hello", [], "unsupported suffix"),
        ("empty.mp4", b"", [], "empty.mp4"),
        ("empty.npy", None, [], "empty array"),
        ("short.npy", "short", [], "one window needs"),
        ("ok.npy", "ok", ["--model", "gaussian"], "unknown model"),
        ("ok.npy", "ok", ["--weights", "JUNK"], "not a plantwatch model file"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, weights, name, content, extra, message):
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros((0, 48, 64), np.float32))
    elif content == "short":
        np.save(path, np.full((3, 48, 64), 300.0, np.float32))
    elif content == "ok":
        np.save(path, np.full((12, 48, 64), 300.0, np.float32))
    else:
        path.write_bytes(content)
    out = tmp_path / "out"
    if "JUNK" in extra:  # a file that is not a torch pickle at all
        junk = tmp_path / "junk.pt"
        junk.write_bytes(b"not a model")
        extra = ["--weights", str(junk)]
    args = ["detect", str(path), "--out", str(out), "--weights", str(weights["heatmap"]), *extra]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not out.exists()
