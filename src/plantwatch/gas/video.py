"""Reading gas-camera inputs and writing pictures and video: the I/O edge of the gas half.

Inputs are radiometric arrays (``.npy`` in kelvin, multi-page 16-bit TIFF in camera counts) or
ordinary 8-bit video (mp4/avi/mov/mkv, any codec PyAV decodes) as cameras record it, with a
palette applied; palette video is turned back into gray levels with
:func:`plantwatch.gas.display.gray_from_palette`. Outputs are H.264 MP4 and PNG, written
atomically (temporary file in the target directory, then :func:`os.replace`), and previews with
a leak-source marker. Errors from PyAV, tifffile, numpy and OpenCV are turned into one-line
:class:`~plantwatch.errors.InputError` messages naming the file and the fix.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np
import tifffile
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.gas.display import PALETTE_NAMES, gray_from_palette

__all__ = [
    "ARRAY_SUFFIXES",
    "DEFAULT_FPS",
    "TIFF_SUFFIXES",
    "VIDEO_SUFFIXES",
    "VideoClip",
    "draw_source_marker",
    "mp4_codec",
    "read_video",
    "upscale_nearest",
    "write_mp4",
    "write_png",
]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
ARRAY_SUFFIXES = (".npy",)
TIFF_SUFFIXES = (".tif", ".tiff")
_ALL_SUFFIXES = VIDEO_SUFFIXES + ARRAY_SUFFIXES + TIFF_SUFFIXES

# Frame rate assumed for inputs that do not carry one (.npy, TIFF) [s-1]: the usual rate of
# cooled MWIR gas cameras (FLIR GF320 records 30 Hz video).
DEFAULT_FPS = 30.0

# MP4 encoders in order of preference, and their quality settings: x264 constant quality 18
# (visually lossless for 8-bit gray ramps); MPEG-4 part 2 at about 1 bit per pixel per frame.
_MP4_CODECS = ("libx264", "mpeg4")
_X264_OPTIONS = {"crf": "18", "preset": "medium"}
_MPEG4_BITS_PER_PIXEL = 1.0
_MPEG4_MIN_BIT_RATE = 2_000_000
# Frame rates are stored as fractions; 1001 keeps NTSC rates (30000/1001) exact.
_MAX_RATE_DENOMINATOR = 1001

# Exceptions that mean "this file cannot be decoded" (PyAV's FFmpegError subclasses ValueError
# or OSError; struct.error and IndexError come from truncated TIFF and npy headers).
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    av.FFmpegError,
    OSError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
)

# Frames converted from palette colour to gray at a time (bounds memory for long videos).
_PALETTE_BATCH_FRAMES = 32

# Leak-source marker: green core on a dark outline shows on every palette (none of them has
# saturated green next to black); coordinates are drawn with 4 fractional bits (1/16 px).
_MARKER_RGB = np.array([0.0, 255.0, 0.0])
_MARKER_OUTLINE_RGB = np.array([0.0, 0.0, 0.0])
_MARKER_THICKNESS_PX = 1  # anti-aliased, about 2 px wide; the outline adds 1 px each side
_MARKER_SHIFT_BITS = 4
_CROSSHAIR_INNER = 1.25  # crosshair tick ends as fractions of the radius: outside the circle,
_CROSSHAIR_OUTER = 1.75  # so the gas at the source itself stays visible
_DASH_PERIOD_PX = 12.0  # arc length of one dash plus one gap along the dashed circle
_LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
_LABEL_SCALE = 0.4


@dataclass(frozen=True, eq=False)
class VideoClip:
    """A decoded input clip.

    Attributes
    ----------
    frames
        (T, H, W) float32: apparent temperature [K] for ``.npy``, camera counts for 16-bit TIFF,
        gray levels 0..255 (255 = hot) for 8-bit video.
    fps
        Frame rate [s-1].
    radiometric
        True for radiometric data (``.npy``, TIFF deeper than 8 bits), False for 8-bit video.
    source
        The path as given.
    """

    frames: NDArray[np.float32]
    fps: float
    radiometric: bool
    source: str

    def __post_init__(self) -> None:
        if self.frames.ndim != 3 or self.frames.shape[0] == 0:
            raise InputError(f"shape {self.frames.shape} is not a non-empty (T, H, W)", "frames")
        if not (np.isfinite(self.fps) and self.fps > 0.0):
            raise InputError(f"{self.fps} is not a positive frame rate [s-1]", "fps")

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return int(self.frames.shape[0])

    @property
    def duration_s(self) -> float:
        """Length of the clip [s], ``T / fps``."""
        return self.n_frames / self.fps


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _check_fps(fps: float, field: str = "fps") -> float:
    if not (np.isfinite(fps) and fps > 0.0):
        raise InputError(f"{fps} is not a positive frame rate [s-1]", field)
    return float(fps)


def read_video(
    path: str | os.PathLike[str],
    fps: float | None = None,
    palette: str = "white-hot",
    max_frames: int | None = None,
) -> VideoClip:
    """Read a radiometric array, a TIFF stack or an 8-bit (palette) video.

    Parameters
    ----------
    path
        ``.npy`` (T, H, W) or (H, W) numeric array [K]; ``.tif``/``.tiff`` single- or multi-page
        single-channel stack (16-bit counts, or float); ``.mp4``/``.avi``/``.mov``/``.mkv``
        video in any codec PyAV decodes.
    fps
        Frame rate [s-1]. For video it overrides the stream's rate (for files with wrong
        metadata); for ``.npy`` and TIFF, which carry none, it defaults to :data:`DEFAULT_FPS`.
    palette
        Palette the video was recorded with (:data:`~plantwatch.gas.display.PALETTE_NAMES`);
        colour frames are mapped back to gray levels with
        :func:`~plantwatch.gas.display.gray_from_palette`. Grayscale streams pass straight
        through (inverted for "black-hot", so that 255 is always hot). Ignored for arrays.
    max_frames
        Read at most this many frames (from the start); None for all.

    Returns
    -------
    VideoClip
        float32 (T, H, W) frames, frame rate, whether they are radiometric, and the source.

    Raises
    ------
    InputError
        If the file is missing, has an unsupported suffix, cannot be decoded, holds no frames
        or has an unsupported shape, or an argument is invalid.
    """
    source = str(path)
    if palette not in PALETTE_NAMES:
        raise InputError(
            f"unknown palette {palette!r}; use one of {', '.join(PALETTE_NAMES)}", "palette"
        )
    if fps is not None:
        _check_fps(fps)
    if max_frames is not None and (isinstance(max_frames, bool) or max_frames < 1):
        raise InputError(
            f"{max_frames} is not a positive frame count; use None for all", "max_frames"
        )
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in _ALL_SUFFIXES:
        raise InputError(
            f"{source!r} has unsupported suffix {suffix!r}; use one of {', '.join(_ALL_SUFFIXES)}",
            "path",
        )
    if not file.is_file():
        raise InputError(f"{source!r} does not exist or is not a file; check the path", "path")

    if suffix in ARRAY_SUFFIXES:
        frames = _read_npy(file, source, max_frames)
        return VideoClip(frames, fps or DEFAULT_FPS, True, source)
    if suffix in TIFF_SUFFIXES:
        frames, radiometric = _read_tiff(file, source, max_frames)
        return VideoClip(frames, fps or DEFAULT_FPS, radiometric, source)
    frames, stream_fps = _read_av(file, source, palette, max_frames)
    return VideoClip(frames, fps or stream_fps, False, source)


def _frames_from_array(
    array: NDArray[np.generic], source: str, max_frames: int | None, how: str
) -> NDArray[np.float32]:
    """Check a (T, H, W) or (H, W) numeric array and return float32 (T, H, W) frames."""
    if array.dtype.kind not in "fiu":
        raise InputError(f"{source!r} holds dtype {array.dtype}, not numbers; {how}", "path")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise InputError(
            f"{source!r} holds a {array.ndim}-D array of shape {array.shape}; "
            f"expected (T, H, W) or (H, W); {how}",
            "path",
        )
    if array.size == 0:
        raise InputError(f"{source!r} holds an empty array of shape {array.shape}; {how}", "path")
    return np.array(array[:max_frames], dtype=np.float32)


def _read_npy(file: Path, source: str, max_frames: int | None) -> NDArray[np.float32]:
    how = "save frames with numpy.save(path, frames_k)"
    try:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
    except _DECODE_ERRORS as exc:
        raise InputError(
            f"{source!r} is not a readable .npy array ({_one_line(exc)}); {how}", "path"
        ) from exc
    if not isinstance(array, np.ndarray):
        raise InputError(f"{source!r} is not a single .npy array; {how}", "path")
    return _frames_from_array(array, source, max_frames, how)


def _read_tiff(file: Path, source: str, max_frames: int | None) -> tuple[NDArray[np.float32], bool]:
    how = "export a single-channel (16-bit radiometric) multi-page TIFF"
    try:
        with tifffile.TiffFile(file) as tif:
            series = tif.series
            axes = series[0].axes
            if len(series) > 1 and all(
                s.axes == "YX" and s.shape == series[0].shape for s in series
            ):
                # Pages written one by one (as camera software often does): one frame each.
                array = np.stack([s.asarray() for s in series[:max_frames]])
                axes = "I" + axes
            else:
                array = series[0].asarray()
    except _DECODE_ERRORS as exc:
        raise InputError(
            f"{source!r} is not a readable TIFF ({_one_line(exc)}); {how}", "path"
        ) from exc
    if "S" in axes and array.shape[axes.index("S")] > 1:
        raise InputError(f"{source!r} is a colour TIFF (axes {axes}); {how}", "path")
    keep = tuple(i for i, n in enumerate(array.shape) if n > 1 or i >= array.ndim - 2)
    array = array.reshape(tuple(array.shape[i] for i in keep))
    radiometric = array.dtype != np.uint8
    return _frames_from_array(array, source, max_frames, how), radiometric


def _read_av(
    file: Path, source: str, palette: str, max_frames: int | None
) -> tuple[NDArray[np.float32], float]:
    how = "re-encode it (e.g. ffmpeg -i in -c:v libx264 -pix_fmt yuv420p out.mp4)"
    try:
        container = av.open(str(file))
    except _DECODE_ERRORS as exc:
        raise InputError(
            f"{source!r} cannot be opened as video ({_one_line(exc)}); {how}", "path"
        ) from exc
    gray_frames: list[NDArray[np.uint8]] = []
    with container:
        if not container.streams.video:
            raise InputError(f"{source!r} has no video stream; {how}", "path")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        stream_fps = float(rate) if rate else DEFAULT_FPS
        pix_fmt = stream.codec_context.pix_fmt or ""
        gray_stream = pix_fmt.startswith("gray") or pix_fmt.startswith("ya")
        use_luma = gray_stream or palette in ("white-hot", "black-hot")
        rgb_batch: list[NDArray[np.uint8]] = []
        try:
            for frame in container.decode(stream):
                if use_luma:
                    luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
                    gray_frames.append(255 - luma if palette == "black-hot" else luma)
                else:
                    rgb_batch.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
                    if len(rgb_batch) == _PALETTE_BATCH_FRAMES:
                        gray_frames.extend(_palette_batch(rgb_batch, palette, source))
                        rgb_batch = []
                if max_frames is not None and len(gray_frames) + len(rgb_batch) >= max_frames:
                    break
        except InputError:
            raise
        except _DECODE_ERRORS as exc:
            raise InputError(
                f"{source!r} cannot be decoded ({_one_line(exc)}); {how}", "path"
            ) from exc
        if rgb_batch:
            gray_frames.extend(_palette_batch(rgb_batch, palette, source))
    if not gray_frames:
        raise InputError(f"{source!r} contains no decodable frames; {how}", "path")
    if len({f.shape for f in gray_frames}) > 1:
        raise InputError(f"{source!r} changes frame size mid-stream; re-encode at one size", "path")
    return np.stack(gray_frames).astype(np.float32), stream_fps


def _palette_batch(
    rgb_batch: list[NDArray[np.uint8]], palette: str, source: str
) -> list[NDArray[np.uint8]]:
    if len({f.shape for f in rgb_batch}) > 1:
        raise InputError(f"{source!r} changes frame size mid-stream; re-encode at one size", "path")
    return list(gray_from_palette(np.stack(rgb_batch), palette))


def _as_rgb_frames(rgb_frames: ArrayLike, field: str) -> NDArray[np.uint8]:
    """Validate (T, H, W, 3) uint8 RGB (or (T, H, W) gray, replicated) and return it."""
    frames = np.asarray(rgb_frames)
    if frames.dtype != np.uint8:
        raise InputError(
            f"dtype {frames.dtype} is not uint8; render with to_8bit/apply_palette", field
        )
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.size == 0:
        raise InputError(f"shape {frames.shape} is not a non-empty (T, H, W, 3) RGB video", field)
    return frames


def _check_target(path: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Path:
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise InputError(
            f"{str(path)!r} must end in {' or '.join(suffixes)}; rename the output", "path"
        )
    if not target.parent.is_dir():
        raise InputError(
            f"directory {str(target.parent)!r} does not exist; create it first", "path"
        )
    return target


def _atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` in the target's directory, then rename onto `target`.

    The temporary name keeps the target's suffix (writers pick the format from it) and is
    created by the writer itself, so the file gets the usual permissions (umask).
    """
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(6)}.tmp{target.suffix}")
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


@lru_cache(maxsize=1)
def mp4_codec() -> str:
    """Name of the MP4 encoder :func:`write_mp4` uses: ``libx264`` if PyAV has it, else ``mpeg4``.

    Raises
    ------
    InputError
        If PyAV offers neither encoder.
    """
    for name in _MP4_CODECS:
        try:
            av.codec.Codec(name, "w")
        except (ValueError, av.FFmpegError):
            continue
        return name
    raise InputError(
        f"PyAV offers none of the MP4 encoders {', '.join(_MP4_CODECS)}; install the 'av' wheel "
        "from PyPI, which bundles them",
        "codec",
    )


def write_mp4(path: str | os.PathLike[str], rgb_frames: ArrayLike, fps: float) -> Path:
    """Write RGB frames as an MP4 (H.264 yuv420p where available, else MPEG-4 part 2), atomically.

    Parameters
    ----------
    path
        Output file, ending in ``.mp4``, in an existing directory.
    rgb_frames
        (T, H, W, 3) uint8 RGB (or (T, H, W) uint8 gray). Odd heights or widths are padded by one
        row or column (a copy of the last one), as yuv420p needs even sizes.
    fps
        Frame rate [s-1], > 0.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    InputError
        On bad frames, fps or path, or if encoding fails (nothing is left behind then).
    """
    frames = _as_rgb_frames(rgb_frames, "rgb_frames")
    rate = Fraction(_check_fps(fps)).limit_denominator(_MAX_RATE_DENOMINATOR)
    if rate <= 0:
        raise InputError(f"{fps} is too small a frame rate [s-1]", "fps")
    target = _check_target(path, (".mp4",))
    pad_rows, pad_cols = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_rows or pad_cols:
        frames = np.pad(frames, ((0, 0), (0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")
    _, height, width, _ = frames.shape
    codec = mp4_codec()

    def write(temporary: Path) -> None:
        with av.open(
            str(temporary), mode="w", format="mp4", options={"movflags": "+faststart"}
        ) as container:
            stream = container.add_stream(codec, rate=rate)
            if not isinstance(stream, av.VideoStream):  # pragma: no cover - PyAV contract
                raise InputError(f"PyAV codec {codec!r} is not a video encoder", "codec")
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            if codec == "libx264":
                stream.options = dict(_X264_OPTIONS)
            else:
                stream.bit_rate = max(
                    _MPEG4_MIN_BIT_RATE, int(_MPEG4_BITS_PER_PIXEL * width * height * float(rate))
                )
            for index, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))

    try:
        return _atomic_write(target, write)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(
            f"cannot write {str(path)!r} ({_one_line(exc)}); check disk space and permissions",
            "path",
        ) from exc


def write_png(path: str | os.PathLike[str], rgb_or_gray: ArrayLike) -> Path:
    """Write an image as PNG (lossless), atomically.

    Parameters
    ----------
    path
        Output file, ending in ``.png``, in an existing directory.
    rgb_or_gray
        (H, W) gray or (H, W, 3) RGB, uint8 or uint16.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    InputError
        On a bad image or path, or if encoding or writing fails.
    """
    image = np.asarray(rgb_or_gray)
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"dtype {image.dtype} is not uint8 or uint16", "rgb_or_gray")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) or image.size == 0:
        raise InputError(
            f"shape {image.shape} is not a non-empty (H, W) or (H, W, 3)", "rgb_or_gray"
        )
    target = _check_target(path, (".png",))
    bgr = np.ascontiguousarray(image[..., ::-1]) if image.ndim == 3 else image
    try:
        ok, encoded = cv2.imencode(".png", bgr)
    except cv2.error as exc:
        raise InputError(f"cannot encode PNG ({_one_line(exc)})", "rgb_or_gray") from exc
    if not ok:
        raise InputError("OpenCV could not encode the image as PNG", "rgb_or_gray")

    def write(temporary: Path) -> None:
        with open(temporary, "xb") as handle:
            handle.write(encoded.tobytes())

    try:
        return _atomic_write(target, write)
    except OSError as exc:
        raise InputError(
            f"cannot write {str(path)!r} ({_one_line(exc)}); check disk space and permissions",
            "path",
        ) from exc


def _fixed_point(value: float) -> int:
    return round(value * (1 << _MARKER_SHIFT_BITS))


def _draw_marker_mask(
    mask: NDArray[np.uint8],
    x_px: float,
    y_px: float,
    occluded: bool,
    radius_px: int,
    label: str | None,
) -> None:
    """Draw the marker's shape in 255 on a single-channel mask (anti-aliased)."""
    centre = (_fixed_point(x_px), _fixed_point(y_px))
    line = cv2.LINE_AA
    shift = _MARKER_SHIFT_BITS
    thickness = _MARKER_THICKNESS_PX
    if occluded:
        n_dashes = max(4, int(2.0 * np.pi * radius_px // _DASH_PERIOD_PX))
        period_deg = 360.0 / n_dashes
        axes = (_fixed_point(radius_px), _fixed_point(radius_px))
        for k in range(n_dashes):
            start = k * period_deg - period_deg / 4.0  # dashes centred on 0, 90, 180 ... deg
            cv2.ellipse(
                mask,
                centre,
                axes,
                0.0,
                start,
                start + period_deg / 2.0,
                255,
                thickness,
                line,
                shift,
            )
    else:
        cv2.circle(mask, centre, _fixed_point(radius_px), 255, thickness, line, shift)
        for dx, dy in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
            inner = (
                _fixed_point(x_px + dx * _CROSSHAIR_INNER * radius_px),
                _fixed_point(y_px + dy * _CROSSHAIR_INNER * radius_px),
            )
            outer = (
                _fixed_point(x_px + dx * _CROSSHAIR_OUTER * radius_px),
                _fixed_point(y_px + dy * _CROSSHAIR_OUTER * radius_px),
            )
            cv2.line(mask, inner, outer, 255, thickness, line, shift)
    if label:
        origin = (round(x_px + radius_px + 3), round(y_px - radius_px))
        cv2.putText(mask, label, origin, _LABEL_FONT, _LABEL_SCALE, 255, thickness, line)


def draw_source_marker(
    rgb_frames: ArrayLike,
    x_px: float,
    y_px: float,
    occluded: bool,
    radius_px: int = 8,
    label: str | None = None,
) -> NDArray[np.uint8]:
    """Mark the leak source on RGB frames: solid circle and crosshair, or dashed if occluded.

    A dashed circle says "the source is here, hidden behind piping". The marker is green on a
    dark outline, anti-aliased and placed with sub-pixel precision.

    Parameters
    ----------
    rgb_frames
        (T, H, W, 3) or (H, W, 3) uint8 RGB; not modified.
    x_px, y_px
        Source position [px]: column and row, integer values at pixel centres (numpy and OpenCV
        convention); may lie outside the image (the marker is clipped).
    occluded
        True draws the dashed circle without crosshair.
    radius_px
        Circle radius [px], >= 2.
    label
        Optional short ASCII text drawn to the upper right of the marker.

    Returns
    -------
    NDArray[np.uint8]
        Marked copy, same shape as `rgb_frames`.

    Raises
    ------
    InputError
        On bad frames, a non-finite position, a radius below 2 or a non-ASCII label.
    """
    frames = np.asarray(rgb_frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or frames.shape[-1] != 3:
        raise InputError(
            f"expected (T, H, W, 3) or (H, W, 3) uint8 RGB, got shape {frames.shape} "
            f"dtype {frames.dtype}",
            "rgb_frames",
        )
    if not (np.isfinite(x_px) and np.isfinite(y_px)):
        raise InputError(f"({x_px}, {y_px}) is not a finite pixel position", "x_px")
    if isinstance(radius_px, bool) or int(radius_px) != radius_px or radius_px < 2:
        raise InputError(f"{radius_px} is not an integer radius >= 2 px", "radius_px")
    if label is not None and not (label.isascii() and label.isprintable()):
        raise InputError(f"{label!r} has non-ASCII or control characters; use ASCII text", "label")
    marked = frames.copy()
    if frames.size == 0:
        return marked
    height, width = frames.shape[-3], frames.shape[-2]
    core = np.zeros((height, width), dtype=np.uint8)
    _draw_marker_mask(core, float(x_px), float(y_px), occluded, int(radius_px), label)
    # Dark outline: the core grown by one pixel on every side.
    outline = np.asarray(cv2.dilate(core, np.ones((3, 3), dtype=np.uint8)), dtype=np.uint8)
    rows = np.flatnonzero(outline.any(axis=1))  # the outline covers the core
    cols = np.flatnonzero(outline.any(axis=0))
    if rows.size == 0:
        return marked  # marker entirely outside the image
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    alpha_outline = (outline[window] / 255.0)[..., None]
    alpha_core = (core[window] / 255.0)[..., None]
    region = marked[..., window[0], window[1], :].astype(np.float64)
    region = region * (1.0 - alpha_outline) + _MARKER_OUTLINE_RGB * alpha_outline
    region = region * (1.0 - alpha_core) + _MARKER_RGB * alpha_core
    marked[..., window[0], window[1], :] = np.rint(region).astype(np.uint8)
    return marked


def upscale_nearest(rgb_frames: ArrayLike, factor: int) -> NDArray[np.generic]:
    """Enlarge frames by an integer factor, repeating pixels (for readable 320x240 previews).

    Parameters
    ----------
    rgb_frames
        (T, H, W, 3) or (H, W, 3) RGB.
    factor
        Integer scale, >= 1.

    Returns
    -------
    NDArray
        (T, factor H, factor W, 3) (or (factor H, factor W, 3)), same dtype.

    Raises
    ------
    InputError
        On a bad shape or factor.
    """
    frames = np.asarray(rgb_frames)
    if frames.ndim not in (3, 4) or frames.shape[-1] != 3:
        raise InputError(f"shape {frames.shape} is not (T, H, W, 3) or (H, W, 3)", "rgb_frames")
    if isinstance(factor, bool) or int(factor) != factor or factor < 1:
        raise InputError(f"{factor} is not an integer factor >= 1", "factor")
    return np.repeat(np.repeat(frames, int(factor), axis=-3), int(factor), axis=-2)
