"""Camera-shake removal: register every frame of a clip to its first frame (translation only).

Shared by training, evaluation and ``plantwatch gas detect`` so the models see the same steadied
input everywhere. Phase correlation (Kuglin and Hines, 1975) gives the shift to ~0.1 px on the
simulator's vibrating clips; ECC (Evangelidis and Psarakis, IEEE TPAMI 30(10), 2008) can refine it
to ~0.01 px on clean texture, but on noisy low-texture thermal scenes it wanders off (measured on
20 vibrating training clips: 1.9 px mean error with unguarded ECC, worst > 30 px; 0.16 px
phase only), so its answer is kept only when it stays within :data:`ECC_MAX_CHANGE_PX` of the
phase estimate (0.16 px mean error on the same clips).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ECC_MAX_CHANGE_PX",
    "MIN_SHIFT_PX",
    "estimate_shifts",
    "shift_back",
    "stabilise_frames",
]

MIN_SHIFT_PX = 0.05  # below this rms shift the footage counts as steady and is left alone
ECC_MAX_CHANGE_PX = 1.0  # an ECC refinement further than this from phase correlation diverged
_ECC_ITERATIONS = 30


def estimate_shifts(frames: NDArray[np.floating], refine: bool = True) -> NDArray[np.float64]:
    """(T, H, W) -> (T, 2): how far frame t's content moved (dx, dy) [px] relative to frame 0."""
    t, h, w = frames.shape
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    # zero-mean frames: the Hanning-windowed mean level (≈ 290 K in kelvin frames) does not move
    # with the scene and pulls phase correlation towards zero shift
    ref = np.ascontiguousarray(frames[0] - frames[0].mean(), dtype=np.float32)
    shifts = np.zeros((t, 2))
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ECC_ITERATIONS, 1e-4)
    for k in range(1, t):
        frame = np.ascontiguousarray(frames[k] - frames[k].mean(), dtype=np.float32)
        (dx, dy), _ = cv2.phaseCorrelate(ref, frame, window)
        shifts[k] = (dx, dy)
        if not refine:
            continue
        warp = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        try:
            _, refined = cv2.findTransformECC(
                ref, frame, warp, cv2.MOTION_TRANSLATION, criteria, None
            )
        except cv2.error:  # no convergence (featureless frame): keep the phase estimate
            continue
        ecc = np.array([float(refined[0, 2]), float(refined[1, 2])])
        if np.abs(ecc - shifts[k]).max() <= ECC_MAX_CHANGE_PX:
            shifts[k] = ecc
    return shifts


def stabilise_frames(
    frames: NDArray[np.float32], refine: bool = True
) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """Register every frame to the first; returns (frames, shifts).

    ``shifts[t]`` is how far frame t's content moved (dx, dy) [px]; the returned frames are moved
    back by it. Steady footage (rms shift < :data:`MIN_SHIFT_PX`) is returned unchanged.
    ``refine=False`` skips ECC (15x faster; training uses it).
    """
    t = frames.shape[0]
    shifts = estimate_shifts(frames, refine)
    if float(np.sqrt((shifts**2).sum(axis=1).mean())) < MIN_SHIFT_PX:
        return frames, np.zeros((t, 2))
    return shift_back(frames, shifts), shifts


def shift_back(
    frames: NDArray[np.float32], shifts: NDArray[np.float64], fill: float | None = None
) -> NDArray[np.float32]:
    """Move frame t back by ``shifts[t]`` (dx, dy) [px]: what :func:`stabilise_frames` does
    with the shifts it measured, reusable for images aligned with the frames (gas column).

    Uncovered border pixels repeat the edge (``fill=None``: a scene goes on past the frame) or
    take the value ``fill`` (a gas column must not smear gas in from the edge).
    """
    t, h, w = frames.shape
    border: dict[str, Any] = (
        {"borderMode": cv2.BORDER_REPLICATE}
        if fill is None
        else {"borderMode": cv2.BORDER_CONSTANT, "borderValue": fill}
    )
    out = np.empty_like(frames)
    out[0] = frames[0]
    for k in range(1, t):
        m = np.array([[1, 0, -shifts[k, 0]], [0, 1, -shifts[k, 1]]], dtype=np.float32)
        out[k] = cv2.warpAffine(frames[k], m, (w, h), flags=cv2.INTER_LINEAR, **border)
    return out
