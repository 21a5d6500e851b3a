"""Simulated datasets as model inputs: time resampling, camera augmentation, tags for the splits.

The simulator writes radiometric frames [K] at 15, 30 or 60 fps (``plantwatch gas dataset``,
zarr shards, docs/labels.md). Real footage is mostly 8-bit palette video with automatic gain,
compression, on-screen text and arbitrary frame rates, so the training loader re-records every
clip through a random "camera" before the model sees it:

1. the camera records at a random rate in 15-60 fps (nearest sim frame, as a sensor samples);
2. radiometric output, or 8-bit through an AGC window (:func:`plantwatch.gas.display.to_8bit`)
   with a random palette, gain jumps, burned-in text and JPEG compression per frame, read back
   to gray levels the way ``detect`` reads real video
   (:func:`~plantwatch.gas.display.gray_from_palette`);
3. horizontal flips (the source x mirrors, Z is unchanged).

Every window is then stabilised, resampled to the model's frame rate, normalised, downsampled
and gain-matched frame by frame exactly as ``plantwatch gas detect`` does
(:func:`~plantwatch.gas.stabilise.stabilise_frames`, :func:`prepare_window`), so training,
evaluation and inference share one path.

Splits are separate datasets from disjoint seed ranges (docs/models.md): train ``--seed 0``,
validation ``--seed 1000000``, test ``--seed 2000000``; a clip's seed is its dataset seed + index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from plantwatch.errors import InputError
from plantwatch.gas.dataset import open_datasets
from plantwatch.gas.display import apply_palette, gray_from_palette, to_8bit
from plantwatch.gas.models import ModelConfig
from plantwatch.gas.stabilise import shift_back, stabilise_frames
from plantwatch.gas.visibility import is_detectable

__all__ = [
    "LOW_CONTRAST_K",
    "SPLIT_TAGS",
    "AugmentConfig",
    "ClipWindows",
    "clip_tags",
    "gas_target",
    "match_frame_gain",
    "prepare_window",
    "thermal_contrast_k",
    "window_indices",
]

# Test-split tags, in the order tables list them.
SPLIT_TAGS = (
    "all",
    "detectable",
    "undetectable",
    "occluded",
    "visible",
    "vibration",
    "clutter",
    "low_contrast",
    "methane",
    "propane",
    "no_leak",
)
# A leak is "low contrast" when the background around the source differs from the air (= gas)
# temperature by less than this [K]: the gas signal ΔL = (1 - t_g)(B(T_g) - L_b) (GAS-PHYSICS.md)
# is then a few tenths of a kelvin at most (about a quarter of the random-scene leaks).
LOW_CONTRAST_K = 1.0
_CONTRAST_RADIUS_PX = 12.0  # background ring around the source used for the contrast [px]
# Column density at which the gas-map target is 1 - 1/e: about what an OGI camera shows at a few
# kelvin of contrast (methane NECL of cooled MWIR cameras is some tens to a hundred ppm·m).
GAS_MAP_PPM_M = 100.0
_TEXTS = ("23.4 C", "GF320", "12:03:41", "HSM", "Span 4.0", "-20.0..350.0 C", "REC", "x2")


@dataclass
class AugmentConfig:
    """Probabilities and ranges of the camera emulation (training only)."""

    enabled: bool = True
    camera_fps_range: tuple[float, float] = (15.0, 60.0)  # recording rate [s-1]
    eight_bit_probability: float = 0.6  # 8-bit AGC video instead of radiometric frames
    palette_probability: float = 0.3  # of 8-bit clips: iron or black-hot, read back by palette
    gain_jump_probability: float = 0.3  # a gain/level change within the window
    jpeg_probability: float = 0.6  # of 8-bit clips: per-frame JPEG compression
    jpeg_quality: tuple[int, int] = (25, 95)
    text_probability: float = 0.4  # of 8-bit clips: burned-in on-screen text
    flip_probability: float = 0.5


# ------------------------------------------------------------------ shared with detect


def window_indices(
    n_frames: int, fps: float, out_frames: int, out_fps: float, start_s: float
) -> NDArray[np.int64]:
    """Indices of the frames nearest to times ``start_s + j / out_fps``, j < out_frames."""
    times = start_s + np.arange(out_frames) / out_fps
    return np.clip(np.rint(times * fps).astype(np.int64), 0, n_frames - 1)


def match_frame_gain(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """(T, H, W) -> the same frames with each one's gain and level fitted to the median frame.

    AGC re-adjustments, gain jumps and NUC steps change a whole frame by ``a_t x + b_t``; in the
    fluctuation component (frame minus temporal mean) such a step is the whole scene's contrast,
    tens of times the 0.1-1 K gas signal, and buries it (measured: gas-vs-background AUC of the
    fluctuation energy 0.42 with a gain jump in every window, 0.89 without). A least-squares fit
    of every frame's gain to the temporal median frame, and a median for its level, removes it;
    the gas covers too few pixels to bias either.
    """
    t = x.shape[0]
    ref = np.median(x, axis=0).reshape(-1)
    ref_c = ref - ref.mean()
    denom = float(ref_c @ ref_c)
    if t < 2 or denom <= 1e-12:
        return x
    flat = x.reshape(t, -1)
    mean_t = flat.mean(axis=1, keepdims=True)
    gain = (flat - mean_t) @ ref_c / denom  # (T,)
    gain = np.where(gain > 0.1, gain, 1.0)[:, None]  # a frame unlike the rest: leave its gain
    # level from the median residual: a flickering plume must not move the whole frame
    level = np.median(flat - gain * ref[None, :], axis=1, keepdims=True)
    out = (flat - level) / gain
    return out.reshape(x.shape).astype(np.float32)


def prepare_window(frames: NDArray[np.floating], cfg: ModelConfig) -> NDArray[np.float32]:
    """(T, H, W) frames in any unit -> (1, T, h, w) model input.

    Per-window normalisation (median 0, 1st-99th percentile span 1) makes kelvin, camera counts
    and 8-bit gray levels look alike; INTER_AREA downsampling keeps the pixel-edge mapping of
    :func:`plantwatch.gas.models.to_model_px` exact; :func:`match_frame_gain` then removes
    frame-to-frame gain and level changes (affine, so it commutes with the downsampling).
    """
    x = np.asarray(frames, dtype=np.float32)
    lo, med, hi = np.percentile(x, [1.0, 50.0, 99.0])
    x = (x - np.float32(med)) / np.float32(max(hi - lo, 1e-6))
    small = np.stack(
        [cv2.resize(f, (cfg.width_px, cfg.height_px), interpolation=cv2.INTER_AREA) for f in x]
    )
    return match_frame_gain(small)[None].astype(np.float32)


def gas_target(column_ppm_m: NDArray[np.floating] | None, cfg: ModelConfig) -> NDArray[np.float32]:
    """(T, H, W) column density of the window [ppm·m] -> (h, w) visible-gas map in [0, 1].

    The dense target of the heatmap model's gas map: 1 - exp(-N/``GAS_MAP_PPM_M``) of the
    window's time-mean column, downsampled like the frames. Zeros without a column (no leak).
    """
    if column_ppm_m is None:
        return np.zeros((cfg.height_px, cfg.width_px), np.float32)
    mean = np.asarray(column_ppm_m, np.float32).mean(axis=0)
    small = cv2.resize(mean, (cfg.width_px, cfg.height_px), interpolation=cv2.INTER_AREA)
    return (1.0 - np.exp(-np.maximum(small, 0.0) / GAS_MAP_PPM_M)).astype(np.float32)


# ------------------------------------------------------------------ tags


def thermal_contrast_k(frames_k: NDArray[np.floating], labels: dict[str, Any]) -> float | None:
    """|T_air - background| around the source [K] (None without a leak or source in view).

    The gas is at air temperature and is seen only through the difference to its background;
    the background is the temporal-median apparent temperature of a disc around the source.
    """
    if not labels.get("leak") or not labels.get("source_in_view"):
        return None
    _, h, w = frames_k.shape
    u, v = labels["source_px"]
    vv, uu = np.mgrid[0:h, 0:w]
    disc = (uu - u) ** 2 + (vv - v) ** 2 <= _CONTRAST_RADIUS_PX**2
    background = float(np.median(np.median(frames_k, axis=0)[disc]))
    return abs(float(labels["atmosphere"]["air_temperature_k"]) - background)


def clip_tags(
    labels: dict[str, Any], contrast_k: float | None, detectable: bool | None = None
) -> set[str]:
    """The test splits a clip belongs to (:data:`SPLIT_TAGS`).

    ``detectable``: whether the camera sees the leak's gas in the evaluated window
    (:func:`plantwatch.gas.visibility.is_detectable`); None leaves both tags out.
    """
    tags = {"all", str(labels["species"])}
    if not labels["leak"]:
        return tags | {"no_leak"}
    tags.add("occluded" if labels["occluded"] else "visible")
    if detectable is not None:
        tags.add("detectable" if detectable else "undetectable")
    if float(labels["camera"]["vibration_px"]) > 0:
        tags.add("vibration")
    if labels.get("distractors"):
        tags.add("clutter")
    if contrast_k is not None and contrast_k < LOW_CONTRAST_K:
        tags.add("low_contrast")
    return tags


# ------------------------------------------------------------------ camera emulation


def _burn_text(gray: NDArray[np.uint8], rng: np.random.Generator) -> None:
    """Static on-screen text (readouts, time), as cameras burn into their video, in place."""
    _, h, w = gray.shape
    scale = max(0.3, w / 640.0) * rng.uniform(0.8, 1.4)
    colour = 255 if rng.random() < 0.7 else 0
    stamp = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        text = str(rng.choice(_TEXTS))
        x = int(rng.uniform(0.0, 0.7) * w)
        y = int(rng.choice([rng.uniform(0.04, 0.15), rng.uniform(0.88, 0.98)]) * h)
        cv2.putText(stamp, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 1, cv2.LINE_AA)
    gray[:, stamp > 0] = colour


def _jpeg(image: NDArray[np.uint8], quality: int) -> NDArray[np.uint8]:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 images
        return image
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    return np.asarray(cv2.imdecode(buf, flag), dtype=np.uint8)


def _eight_bit(frames_k: NDArray[np.float32], aug: AugmentConfig, rng: np.random.Generator):
    """Radiometric window -> what an 8-bit camera records, read back to gray (T, H, W) float32."""
    limits = None
    if rng.random() < 0.5:  # AGC with random percentiles and speed
        from plantwatch.gas.display import agc_limits

        limits = agc_limits(
            frames_k,
            low_percentile=rng.uniform(0.0, 5.0),
            high_percentile=rng.uniform(95.0, 100.0),
            time_constant_frames=rng.uniform(0.0, 16.0),
        )
    gray = to_8bit(frames_k, limits)
    if rng.random() < aug.text_probability:
        _burn_text(gray, rng)
    palette = "white-hot"
    if rng.random() < aug.palette_probability:
        palette = str(rng.choice(["iron", "black-hot"]))
    quality = (
        int(rng.integers(aug.jpeg_quality[0], aug.jpeg_quality[1] + 1))
        if rng.random() < aug.jpeg_probability
        else 0
    )
    if palette == "white-hot":
        out = np.stack([_jpeg(g, quality) for g in gray]) if quality else gray
    else:
        rgb = apply_palette(gray, palette)
        if quality:
            rgb = np.stack([_jpeg(f[..., ::-1].copy(), quality)[..., ::-1] for f in rgb])
        out = gray_from_palette(np.ascontiguousarray(rgb), palette)
    return out.astype(np.float32)


def _gain_jump(frames: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """A level and gain change from a random frame on (AGC re-adjusting, NUC, user span)."""
    t = frames.shape[0]
    step = (np.arange(t) >= rng.integers(1, t)).astype(np.float32)[:, None, None]
    mean = float(frames.mean())
    span = float(np.percentile(frames, 99) - np.percentile(frames, 1)) + 1e-6
    gain = 1.0 + step * np.float32(rng.uniform(-0.3, 0.3))
    level = step * np.float32(rng.uniform(-0.2, 0.2) * span)
    return ((frames - mean) * gain + mean + level).astype(np.float32)


# ------------------------------------------------------------------ dataset


class ClipWindows(torch.utils.data.Dataset[dict[str, Any]]):
    """One model window per simulated clip, with targets in model pixels.

    Items are dicts: ``clip`` (1, T, h, w) float32, ``xy`` (2,) source [model px], ``z`` Z
    [px/s], ``leak`` 0/1, ``detectable`` 0/1 (a leak whose gas the camera sees in the window,
    :mod:`plantwatch.gas.visibility`), ``xy_valid`` 0/1 (a leak with its source inside the
    image), ``gas`` (h, w) visible-gas map (:func:`gas_target`), ``xy_px`` the target in the
    clip's own pixels (float64), ``index``. ``root`` is a dataset folder or a list of them.
    Windows are stabilised (:func:`~plantwatch.gas.stabilise.stabilise_frames`) as ``detect``
    does.
    With ``augment`` the camera emulation runs, seeded by (seed, epoch, index), so an epoch is
    reproducible and a resumed training run sees exactly the same data.
    """

    def __init__(
        self,
        root: str | Path | list[str] | list[Path],
        cfg: ModelConfig,
        augment: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.data = open_datasets(root)
        if len(self.data) == 0:
            raise InputError(f"dataset {str(root)!r} holds no clips", field="data")
        self.cfg = cfg
        self.augment = augment if augment is not None and augment.enabled else None
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.data)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def labels(self, i: int) -> dict[str, Any]:
        return self.data.labels(i)

    def __getitem__(self, i: int) -> dict[str, Any]:
        frames_k, column_k, labels = self.data[i]
        cfg, aug = self.cfg, self.augment
        rng = np.random.default_rng([self.seed, self.epoch, i])
        fps = float(labels["fps"])
        n = frames_k.shape[0]
        span_s = (cfg.frames - 1) / cfg.fps
        slack_s = max(0.0, (n - 1) / fps - span_s)
        if aug is None:
            idx = window_indices(n, fps, cfg.frames, cfg.fps, slack_s / 2.0)
            window = raw = frames_k[idx]
        else:
            camera_fps = rng.uniform(*aug.camera_fps_range)
            start_s = rng.uniform(0.0, slack_s) if slack_s > 0 else 0.0
            # camera frame k holds the sim frame nearest k / camera_fps; the window then takes
            # the camera frame nearest each model time
            cam = np.rint((start_s + np.arange(cfg.frames) / cfg.fps) * camera_fps)
            idx = np.clip(np.rint(cam / camera_fps * fps).astype(np.int64), 0, n - 1)
            window = raw = frames_k[idx]
            if rng.random() < aug.gain_jump_probability:
                window = _gain_jump(window, rng)
            if rng.random() < aug.eight_bit_probability:
                window = _eight_bit(window, aug, rng)
        h, w = window.shape[1:]
        leak = bool(labels["leak"])
        column = np.asarray(column_k[idx], np.float32) if leak and column_k is not None else None
        # judged on the simulator's radiometric frames, before the camera emulation
        detectable = is_detectable(raw, column, labels)
        # target: the source where it appears in the window's first frame, the frame that
        # stabilisation registers the window to (the nominal source_px plus that frame's shake)
        per_frame = labels.get("source_px_per_frame") if leak else None
        source = per_frame[int(idx[0])] if per_frame else labels["source_px"]
        xy = np.array(source if leak else [(w - 1) / 2, (h - 1) / 2], np.float64)
        if aug is not None and rng.random() < aug.flip_probability:
            window = window[:, :, ::-1]
            xy[0] = (w - 1) - xy[0]
            column = column[:, :, ::-1] if column is not None else None
        # as detect does; ECC refinement (15x slower) only outside training
        window, shifts = stabilise_frames(np.ascontiguousarray(window), refine=aug is None)
        if column is not None and np.any(shifts):
            column = shift_back(np.ascontiguousarray(column), shifts, fill=0.0)
        clip = prepare_window(window, cfg)
        xy_model = (xy + 0.5) * np.array([cfg.width_px / w, cfg.height_px / h]) - 0.5
        inside = bool(
            leak
            and -0.5 <= xy_model[0] <= cfg.width_px - 0.5
            and -0.5 <= xy_model[1] <= cfg.height_px - 0.5
        )
        return {
            "clip": torch.from_numpy(clip),
            "xy": torch.tensor(xy_model, dtype=torch.float32),
            "z": torch.tensor(float(labels["z_px_s"]), dtype=torch.float32),
            "leak": torch.tensor(float(leak)),
            "detectable": torch.tensor(float(detectable)),
            "xy_valid": torch.tensor(float(inside)),
            "gas": torch.from_numpy(gas_target(column, cfg)),
            "xy_px": torch.tensor(xy, dtype=torch.float64),
            "index": i,
        }
