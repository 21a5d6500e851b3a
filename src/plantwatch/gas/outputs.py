"""Writing one simulated clip to a folder: arrays, labels, preview video, fluctuation image.

All files are written into a temporary sibling folder first and moved into place only when every
one of them succeeded, so a failure never leaves a half-written clip behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from plantwatch.errors import InputError
from plantwatch.fileio import atomic_write_text
from plantwatch.gas.clip import Clip
from plantwatch.gas.display import render_palette_video
from plantwatch.gas.fluctuation import fluctuation_image
from plantwatch.gas.video import draw_source_marker, upscale_nearest, write_mp4, write_png
from plantwatch.jsonutil import jsonable

__all__ = ["CLIP_FILES", "write_clip", "write_json_atomic"]

CLIP_FILES = ("frames.npy", "column_ppm_m.npy", "labels.json", "preview.mp4", "fluctuation.png")
PREVIEW_SCALE = 2  # 320x240 -> 640x480 preview, easier to look at


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON through a temporary file and an atomic rename."""
    return atomic_write_text(path, json.dumps(jsonable(data), indent=2) + "\n")


def _preview(clip: Clip, palette: str) -> np.ndarray:
    rgb = render_palette_video(clip.frames_k, palette=palette)
    labels = clip.labels
    if labels.get("source_px") is not None:
        per_frame = labels.get("source_px_per_frame") or [labels["source_px"]] * len(rgb)
        marked = []
        for f in range(rgb.shape[0]):
            x, y = per_frame[f]
            frame = upscale_nearest(rgb[f], PREVIEW_SCALE)
            marked.append(
                draw_source_marker(
                    frame,
                    (x + 0.5) * PREVIEW_SCALE - 0.5,
                    (y + 0.5) * PREVIEW_SCALE - 0.5,
                    occluded=bool(labels["occluded"]),
                    radius_px=10,
                    label="source (hidden)" if labels["occluded"] else "source",
                )
            )
        return np.stack(marked)
    return np.asarray(upscale_nearest(rgb, PREVIEW_SCALE))


def write_clip(
    clip: Clip, out_dir: str | Path, preview: bool = True, palette: str = "white-hot"
) -> Path:
    """Write ``frames.npy``, ``column_ppm_m.npy``, ``labels.json`` and (``preview``)
    ``preview.mp4`` and ``fluctuation.png`` into ``out_dir``.

    Files of the same names already in ``out_dir`` are replaced; nothing else there is touched.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(
            f"{str(out)!r} exists and is not a folder; give a folder path", field="out"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        np.save(staging / "frames.npy", clip.frames_k.astype(np.float32))
        np.save(staging / "column_ppm_m.npy", clip.column_ppm_m.astype(np.float32))
        write_json_atomic(staging / "labels.json", clip.labels)
        if preview:
            write_mp4(staging / "preview.mp4", _preview(clip, palette), clip.fps)
            write_png(staging / "fluctuation.png", fluctuation_image(clip.frames_k, clip.fps))
        out.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
