"""Leak detection on real or simulated video: read, clean, slide windows, aggregate, report.

``detect_video`` is the one entry point (CLI ``plantwatch gas detect`` and the web app):

1. read MP4/AVI/MOV/MKV (PyAV), 16-bit TIFF stacks or ``.npy`` arrays
   (:func:`plantwatch.gas.video.read_video`; palette video back to gray levels, hot = high);
2. fill masked pixels (on-screen text) from their surroundings (normalised convolution);
3. stabilise camera shake: each frame is registered to the first (translation by phase
   correlation, refined by ECC where that stays close; :mod:`plantwatch.gas.stabilise`) and
   shifted back, so source coordinates are in the first frame's pixels;
4. slide windows of the model's length (``frames`` at ``fps``, half-window stride) over the whole
   video, each prepared exactly as in training
   (:func:`~plantwatch.gas.training_data.prepare_window`);
5. aggregate: confidence = mean leak probability over windows; the heatmap model's source is
   the peak of the probability-weighted mean heatmap, the numeric model's the weighted median of
   the window estimates; Z is the probability-weighted mean.

Models run in PyTorch or, with ``onnx=True``, in ONNX Runtime (:func:`export_onnx`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from plantwatch.errors import InputError
from plantwatch.gas.evaluate import default_weights, load_model
from plantwatch.gas.models import MODEL_KINDS, LeakModel, peak_from_logits, to_original_px
from plantwatch.gas.stabilise import stabilise_frames
from plantwatch.gas.training_data import prepare_window, window_indices

__all__ = [
    "DetectionResult",
    "WindowResult",
    "detect_video",
    "export_onnx",
    "onnx_session",
    "stabilise_frames",
]

_OUTPUT_NAMES = ("xy", "z", "leak_logit", "heatmap")
_MASK_BLUR_SIGMA_PX = 6.0
_OVERLAY_ALPHA = 0.45


@dataclass
class WindowResult:
    """One sliding window's estimate."""

    t_start_s: float
    t_end_s: float
    source_px: tuple[float, float]
    z_px_s: float
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "t_start_s": round(self.t_start_s, 4),
            "t_end_s": round(self.t_end_s, 4),
            "source_px": [round(self.source_px[0], 2), round(self.source_px[1], 2)],
            "z_px_s": round(self.z_px_s, 2),
            "confidence": round(self.confidence, 4),
        }


@dataclass
class DetectionResult:
    """What ``detect`` found in one video; ``source_px`` is in the input video's pixels
    (first frame, after stabilisation), None with ``z_px_s`` when no leak is detected."""

    leak_detected: bool
    source_px: tuple[float, float] | None
    z_px_s: float | None
    confidence: float
    threshold: float
    model: str
    windows: list[WindowResult]
    width_px: int
    height_px: int
    fps: float
    n_frames: int
    stabilisation_rms_px: float
    heatmap: NDArray[np.float32] = field(repr=False)  # (H, W) source probability, sums to 1

    def to_json(self) -> dict[str, Any]:
        return {
            "leak_detected": self.leak_detected,
            "source_px": None
            if self.source_px is None
            else [round(self.source_px[0], 2), round(self.source_px[1], 2)],
            "z_px_s": None if self.z_px_s is None else round(self.z_px_s, 2),
            "confidence": round(self.confidence, 4),
            "threshold": round(self.threshold, 4),
            "model": self.model,
            "video": {
                "width_px": self.width_px,
                "height_px": self.height_px,
                "fps": self.fps,
                "frames": self.n_frames,
                "stabilisation_rms_px": round(self.stabilisation_rms_px, 3),
            },
            "windows": [w.to_json() for w in self.windows],
        }


# ------------------------------------------------------------------ pre-processing


def apply_mask(frames: NDArray[np.float32], mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Replace masked pixels (True) by a Gaussian-weighted mean of the unmasked ones nearby."""
    if not mask.any():
        return frames
    valid = (~mask).astype(np.float32)
    weight = cv2.GaussianBlur(valid, (0, 0), _MASK_BLUR_SIGMA_PX) + 1e-6
    out = frames.copy()
    for t in range(frames.shape[0]):
        filled = cv2.GaussianBlur(frames[t] * valid, (0, 0), _MASK_BLUR_SIGMA_PX) / weight
        out[t][mask] = filled[mask]
    return out


def _read_mask(path: Path, shape: tuple[int, int]) -> NDArray[np.bool_]:
    if path.suffix.lower() != ".png" or not path.is_file():
        raise InputError(f"{str(path)!r} is not an existing .png file", field="mask")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(f"{str(path)!r} cannot be read as an image", field="mask")
    if image.shape != shape:
        raise InputError(
            f"mask is {image.shape[1]}x{image.shape[0]} px but the video is "
            f"{shape[1]}x{shape[0]} px; draw it at the video's size",
            field="mask",
        )
    return np.asarray(image > 0)


# ------------------------------------------------------------------ runners


def _resolve_weights(model: str, weights: Path | None) -> Path:
    if model not in MODEL_KINDS:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(MODEL_KINDS)}", "model")
    return Path(weights) if weights is not None else default_weights(model)


class _OnnxModule(torch.nn.Module):
    """Tuple outputs in a fixed order for the ONNX graph."""

    def __init__(self, model: LeakModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(clip)
        heat = out.get("heatmap", torch.zeros_like(out["z"])[:, None, None])
        return out["xy"], out["z"], out["leak_logit"], heat


def export_onnx(out: str | Path, model: str = "heatmap", weights: Path | None = None) -> Path:
    """Export a model file to ONNX (opset 17; input ``clip`` (B, 1, T, H, W), dynamic B)."""
    path = _resolve_weights(model, weights)
    net, _threshold, _meta = load_model(path)
    target = Path(out)
    if target.suffix.lower() != ".onnx":
        raise InputError(f"{str(target)!r} must end in .onnx", field="out")
    target.parent.mkdir(parents=True, exist_ok=True)
    cfg = net.cfg
    dummy = torch.zeros(1, 1, cfg.frames, cfg.height_px, cfg.width_px)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation/tracer notes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _OnnxModule(net),
            (dummy,),
            str(tmp),
            input_names=["clip"],
            output_names=list(_OUTPUT_NAMES),
            dynamic_axes={"clip": {0: "batch"}, **{k: {0: "batch"} for k in _OUTPUT_NAMES}},
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)
    return target


def onnx_session(model: str = "heatmap", weights: Path | None = None) -> Any:
    """ONNX Runtime session for a model file, exported once into the user cache."""
    from plantwatch.errors import require

    ort: Any = require("onnxruntime", "onnx")
    path = _resolve_weights(model, weights)
    if not path.is_file():
        raise InputError(f"{str(path)!r} does not exist", field="weights")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "plantwatch" / "onnx"
    onnx_path = cache / f"{model}-{digest}.onnx"
    if not onnx_path.is_file():
        export_onnx(onnx_path, model, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def _run_batches(
    clips: NDArray[np.float32], net: LeakModel, session: Any | None, batch: int = 8
) -> dict[str, torch.Tensor]:
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in _OUTPUT_NAMES}
    for a in range(0, clips.shape[0], batch):
        x = clips[a : a + batch]
        if session is not None:
            values = session.run(list(_OUTPUT_NAMES), {"clip": x})
            outs = dict(zip(_OUTPUT_NAMES, (torch.from_numpy(v) for v in values), strict=True))
        else:
            with torch.no_grad():
                res = _OnnxModule(net)(torch.from_numpy(x))
            outs = dict(zip(_OUTPUT_NAMES, res, strict=True))
        for k in _OUTPUT_NAMES:
            parts[k].append(outs[k])
    return {k: torch.cat(v) for k, v in parts.items()}


# ------------------------------------------------------------------ detection


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def detect_video(
    path: Path,
    out_dir: Path | None = None,
    *,
    model: str = "heatmap",
    weights: Path | None = None,
    mask: Path | None = None,
    palette: str = "white-hot",
    fps: float | None = None,
    stabilise: bool = True,
    onnx: bool = False,
) -> DetectionResult:
    """Detect a gas leak in a video and locate its source.

    Parameters
    ----------
    path
        Video (MP4/AVI/MOV/MKV), 16-bit TIFF stack or ``.npy`` (T, H, W) array [K].
    out_dir
        If given: ``overlay.mp4`` (heatmap and source marker), ``heatmap.png`` and
        ``result.json`` are written there (all or nothing).
    model
        ``"heatmap"`` or ``"numeric"``.
    weights
        A ``model.pt`` from ``plantwatch gas train``; default: the shipped reference weights.
    mask
        PNG at the video's size; non-zero pixels (burned-in text, logos) are ignored.
    palette
        Palette of 8-bit colour video (white-hot, black-hot, iron, rainbow).
    fps
        Frame rate [s-1] for inputs without one (.npy, TIFF; default 30) or to override.
    stabilise
        Register frames to the first (hand-held or vibrating cameras).
    onnx
        Run the model in ONNX Runtime instead of PyTorch.

    Raises
    ------
    InputError
        Unsupported or unreadable file, empty or too short video, bad mask, unknown model.
    """
    from plantwatch.gas.video import read_video

    weights_path = _resolve_weights(model, weights)
    net, threshold, _meta = load_model(weights_path)
    model = net.cfg.kind  # a --weights file says which model it is
    cfg = net.cfg
    clip = read_video(Path(path), fps=fps, palette=palette)
    frames = clip.frames
    n, h, w = frames.shape
    span_s = (cfg.frames - 1) / cfg.fps
    duration_s = (n - 1) / clip.fps
    if duration_s + 0.5 / clip.fps < span_s:
        need = int(np.ceil(span_s * clip.fps)) + 1
        raise InputError(
            f"{str(path)!r} has {n} frame(s) at {clip.fps:g} fps; one window needs "
            f"{span_s:.2f} s ({need} frames)",
            field="path",
        )
    if mask is not None:
        frames = apply_mask(frames, _read_mask(Path(mask), (h, w)))
    shifts = np.zeros((n, 2))
    if stabilise and n > 1:
        frames, shifts = stabilise_frames(frames)

    stride_s = cfg.frames / 2 / cfg.fps
    starts = np.arange(0.0, max(0.0, duration_s - span_s) + 1e-9, stride_s)
    clips = np.stack(
        [
            prepare_window(frames[window_indices(n, clip.fps, cfg.frames, cfg.fps, s)], cfg)
            for s in starts
        ]
    )
    session = onnx_session(model, weights_path) if onnx else None
    out = _run_batches(clips, net, session)
    prob = torch.sigmoid(out["leak_logit"]).numpy().astype(np.float64)
    z = out["z"].numpy().astype(np.float64)
    model_hw = (cfg.height_px, cfg.width_px)
    if cfg.kind == "heatmap":
        xy_model = peak_from_logits(out["heatmap"])
    else:
        xy_model = out["xy"]
    xy = to_original_px(xy_model.double(), (h, w), model_hw).numpy()
    windows = [
        WindowResult(
            float(s),
            float(s + span_s),
            (float(xy[k, 0]), float(xy[k, 1])),
            float(z[k]),
            float(prob[k]),
        )
        for k, s in enumerate(starts)
    ]
    weight = prob + 1e-9
    confidence = float(prob.mean())
    if cfg.kind == "heatmap":
        maps = out["heatmap"].reshape(len(starts), -1).softmax(dim=1).double().numpy()
        mean_map = (weight[:, None] * maps).sum(0) / weight.sum()
        small = mean_map.reshape(model_hw)
        peak = peak_from_logits(torch.from_numpy(np.log(small + 1e-12))[None])
        src = to_original_px(peak[0], (h, w), model_hw).numpy()
        heat = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        src = np.array([_weighted_median(xy[:, 0], weight), _weighted_median(xy[:, 1], weight)])
        heat = np.zeros((h, w), np.float32)
        for (u, v), p in zip(xy, weight, strict=True):
            if 0 <= u <= w - 1 and 0 <= v <= h - 1:
                heat[int(round(v)), int(round(u))] += p
        heat = cv2.GaussianBlur(heat, (0, 0), max(1.0, w / cfg.width_px))
    heat = (heat / max(float(heat.sum()), 1e-12)).astype(np.float32)
    detected = confidence >= threshold
    result = DetectionResult(
        leak_detected=bool(detected),
        source_px=(float(src[0]), float(src[1])) if detected else None,
        z_px_s=float((weight * z).sum() / weight.sum()) if detected else None,
        confidence=confidence,
        threshold=threshold,
        model=model,
        windows=windows,
        width_px=w,
        height_px=h,
        fps=float(clip.fps),
        n_frames=n,
        stabilisation_rms_px=float(np.sqrt((shifts**2).sum(axis=1).mean())),
        heatmap=heat,
    )
    if out_dir is not None:
        _write_outputs(result, frames, Path(out_dir), (float(src[0]), float(src[1])))
    return result


# ------------------------------------------------------------------ outputs


def _heat_rgb(heat: NDArray[np.float32]) -> NDArray[np.uint8]:
    scaled = np.clip(255.0 * heat / max(float(heat.max()), 1e-12), 0, 255).astype(np.uint8)
    return np.asarray(cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)[..., ::-1])


def _write_outputs(
    result: DetectionResult, frames: NDArray[np.float32], out_dir: Path, src: tuple[float, float]
) -> None:
    """overlay.mp4, heatmap.png, result.json: written into a temporary folder, then moved."""
    from plantwatch.gas.display import apply_palette, to_8bit
    from plantwatch.gas.video import draw_source_marker, write_mp4, write_png

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{str(out_dir)!r} exists and is not a folder", field="out")
    out_dir.mkdir(parents=True, exist_ok=True)
    gray = to_8bit(frames)
    rgb = apply_palette(gray, "white-hot").astype(np.float32)
    heat = result.heatmap
    heat_rgb = _heat_rgb(heat).astype(np.float32)
    alpha = (_OVERLAY_ALPHA * np.clip(heat / max(float(heat.max()), 1e-12), 0, 1))[..., None]
    overlay = (rgb * (1 - alpha) + heat_rgb * alpha).astype(np.uint8)
    still = (rgb.mean(axis=0) * (1 - alpha) + heat_rgb * alpha).astype(np.uint8)
    if result.leak_detected:
        label = f"leak {result.confidence:.2f}"
        overlay = draw_source_marker(overlay, src[0], src[1], False, label=label)
        still = draw_source_marker(still, src[0], src[1], False, label=label)
    tmp = Path(tempfile.mkdtemp(prefix=".detect-", dir=out_dir))
    try:
        write_mp4(tmp / "overlay.mp4", overlay, result.fps)
        write_png(tmp / "heatmap.png", still)
        (tmp / "result.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
        for name in ("overlay.mp4", "heatmap.png", "result.json"):
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
