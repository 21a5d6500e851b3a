"""Tests for plantwatch.gas.video against the real readers and writers (PyAV, tifffile, OpenCV)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import tifffile
from numpy.testing import assert_array_equal

from plantwatch.errors import InputError
from plantwatch.gas.display import apply_palette
from plantwatch.gas.video import (
    DEFAULT_FPS,
    VIDEO_SUFFIXES,
    VideoClip,
    draw_source_marker,
    mp4_codec,
    read_video,
    upscale_nearest,
    write_mp4,
    write_png,
)

T, H, W = 16, 48, 64


@pytest.fixture(scope="module")
def gray() -> np.ndarray:
    """(T, H, W) uint8 smooth moving pattern (compresses well, like thermal video)."""
    yy, xx = np.mgrid[0:H, 0:W]
    t = np.arange(T)[:, None, None]
    wave = np.sin(2.0 * np.pi * (xx / W + yy / (2.0 * H) + t / T))
    return np.rint(127.5 + 100.0 * wave).astype(np.uint8)


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=-1)


def _write_av(path: Path, gray: np.ndarray, codec: str, pix_fmt: str, fmt: str | None) -> None:
    """Write a gray video with PyAV directly (independent of write_mp4)."""
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=30)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = gray.shape[2], gray.shape[1], pix_fmt
        if codec == "mpeg4":
            stream.bit_rate = 4_000_000
        for frame in gray:
            if pix_fmt == "gray":
                video_frame = av.VideoFrame.from_ndarray(frame, format="gray")
            else:
                video_frame = av.VideoFrame.from_ndarray(_rgb(frame), format="rgb24")
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize("fps", [30.0, 25.0, 9.0])
def test_write_mp4(tmp_path: Path, gray: np.ndarray, fps: float) -> None:
    path = write_mp4(tmp_path / "clip.mp4", _rgb(gray), fps)
    assert path == tmp_path / "clip.mp4"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temporary file left
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name in ("h264", "mpeg4")
        assert stream.codec_context.pix_fmt == "yuv420p"
    clip = read_video(path)
    assert isinstance(clip, VideoClip)
    assert clip.frames.shape == (T, H, W)
    assert clip.frames.dtype == np.float32
    assert clip.fps == pytest.approx(fps)
    assert clip.radiometric is False
    assert clip.source == str(path)
    assert np.abs(clip.frames - gray).mean() < 8.0


def test_write_mp4_codec() -> None:
    assert mp4_codec() in ("libx264", "mpeg4")


def test_write_mp4_odd_size_and_gray(tmp_path: Path, gray: np.ndarray) -> None:
    path = write_mp4(tmp_path / "odd.mp4", gray[:, :47, :63], 30.0)  # (T, H, W) gray accepted
    clip = read_video(path)
    assert clip.frames.shape == (T, 48, 64)  # padded to even
    assert np.abs(clip.frames[:, :47, :63] - gray[:, :47, :63]).mean() < 8.0


def test_write_mp4_overwrites(tmp_path: Path, gray: np.ndarray) -> None:
    path = tmp_path / "clip.mp4"
    write_mp4(path, _rgb(gray), 30.0)
    write_mp4(path, _rgb(gray[:4]), 30.0)
    assert read_video(path).frames.shape[0] == 4


@pytest.mark.parametrize(
    ("name", "frames", "fps"),
    [
        ("clip.mp4", np.zeros((2, 8, 8, 3), dtype=np.float32), 30.0),
        ("clip.mp4", np.zeros((2, 8, 8, 4), dtype=np.uint8), 30.0),
        ("clip.mp4", np.zeros((8, 8), dtype=np.uint8), 30.0),
        ("clip.mp4", np.zeros((0, 8, 8, 3), dtype=np.uint8), 30.0),
        ("clip.mp4", np.zeros((2, 8, 8, 3), dtype=np.uint8), 0.0),
        ("clip.mp4", np.zeros((2, 8, 8, 3), dtype=np.uint8), float("nan")),
        ("clip.avi", np.zeros((2, 8, 8, 3), dtype=np.uint8), 30.0),
        ("missing/clip.mp4", np.zeros((2, 8, 8, 3), dtype=np.uint8), 30.0),
    ],
)
def test_write_mp4_invalid(tmp_path: Path, name: str, frames: np.ndarray, fps: float) -> None:
    with pytest.raises(InputError) as info:
        write_mp4(tmp_path / name, frames, fps)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "fmt", "max_error"),
    [
        ("mpeg4.avi", "mpeg4", "yuv420p", "avi", 8.0),
        ("mjpeg.avi", "mjpeg", "yuvj420p", "avi", 8.0),
        ("h264.mkv", "libx264", "yuv420p", "matroska", 8.0),
        ("h264.mov", "libx264", "yuv420p", "mov", 8.0),
        ("ffv1-gray.mkv", "ffv1", "gray", "matroska", 0.0),  # grayscale passes straight through
    ],
)
def test_read_video_codecs(
    tmp_path: Path,
    gray: np.ndarray,
    name: str,
    codec: str,
    pix_fmt: str,
    fmt: str,
    max_error: float,
) -> None:
    path = tmp_path / name
    _write_av(path, gray, codec, pix_fmt, fmt)
    clip = read_video(path)
    assert clip.frames.shape == (T, H, W)
    assert clip.fps == pytest.approx(30.0)
    assert np.abs(clip.frames - gray).mean() <= max_error


def test_read_video_opencv_mjpg_avi(tmp_path: Path, gray: np.ndarray) -> None:
    path = tmp_path / "cv.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (W, H))
    if not writer.isOpened():
        pytest.skip("this OpenCV build has no MJPG AVI writer")
    for frame in gray:
        writer.write(_rgb(frame))
    writer.release()
    clip = read_video(path)
    assert clip.frames.shape == (T, H, W)
    assert clip.fps == pytest.approx(25.0)
    assert np.abs(clip.frames - gray).mean() < 8.0


@pytest.mark.parametrize(
    ("palette", "max_mean_error"),
    [("white-hot", 4.0), ("black-hot", 4.0), ("iron", 4.0), ("rainbow", 4.0)],
)
def test_read_video_palette(
    tmp_path: Path, gray: np.ndarray, palette: str, max_mean_error: float
) -> None:
    path = write_mp4(tmp_path / f"{palette}.mp4", apply_palette(gray, palette), 30.0)
    clip = read_video(path, palette=palette)
    assert clip.frames.shape == (T, H, W)
    error = np.abs(clip.frames - gray)
    assert error.mean() < max_mean_error
    assert np.percentile(error, 95) <= 12.0


def test_read_video_black_hot_gray_stream(tmp_path: Path, gray: np.ndarray) -> None:
    path = tmp_path / "gray.mkv"
    _write_av(path, gray, "ffv1", "gray", "matroska")
    assert_array_equal(read_video(path, palette="black-hot").frames, 255 - gray)


def test_read_video_max_frames_and_fps(tmp_path: Path, gray: np.ndarray) -> None:
    path = write_mp4(tmp_path / "clip.mp4", _rgb(gray), 30.0)
    clip = read_video(path, fps=15.0, max_frames=5)
    assert clip.frames.shape == (5, H, W)
    assert clip.fps == 15.0  # the argument overrides the stream's rate
    assert clip.duration_s == pytest.approx(5 / 15.0)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_read_video_tiff(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(4)
    counts: np.ndarray = rng.integers(0, 65535, (T, H, W)).astype(dtype)
    path = tmp_path / "stack.tiff"
    tifffile.imwrite(path, counts)
    clip = read_video(path)
    assert clip.frames.dtype == np.float32
    assert_array_equal(clip.frames, counts.astype(np.float32))
    assert clip.radiometric is True
    assert clip.fps == DEFAULT_FPS
    assert read_video(path, fps=60.0, max_frames=3).frames.shape == (3, H, W)


def test_read_video_tiff_pages(tmp_path: Path) -> None:
    pages = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tif:
        for page in pages:
            tif.write(page, contiguous=False)
    assert_array_equal(read_video(path).frames, pages)
    single = tmp_path / "single.tif"
    tifffile.imwrite(single, pages[0])
    assert read_video(single).frames.shape == (1, 4, 5)


@pytest.mark.parametrize(
    ("array", "expected_shape"),
    [
        (np.linspace(290.0, 310.0, T * H * W, dtype=np.float32).reshape(T, H, W), (T, H, W)),
        (np.linspace(290.0, 310.0, H * W, dtype=np.float32).reshape(H, W), (1, H, W)),
        (np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4), (2, 3, 4)),
    ],
)
def test_read_video_npy(tmp_path: Path, array: np.ndarray, expected_shape: tuple[int, ...]) -> None:
    path = tmp_path / "frames.npy"
    np.save(path, array)
    clip = read_video(path, fps=9.0)
    assert clip.frames.shape == expected_shape
    assert clip.frames.dtype == np.float32
    assert_array_equal(clip.frames.reshape(array.shape), array.astype(np.float32))  # exact
    assert clip.radiometric is True
    assert clip.fps == 9.0
    assert read_video(path).fps == DEFAULT_FPS


def _invalid_input(tmp_path: Path, kind: str) -> Path:
    path = (
        tmp_path
        / {
            "missing": "missing.mp4",
            "txt": "notes.txt",
            "corrupt-mp4": "corrupt.mp4",
            "empty-mp4": "empty.mp4",
            "truncated-mp4": "truncated.mp4",
            "4d-npy": "frames.npy",
            "empty-npy": "frames.npy",
            "text-npy": "frames.npy",
            "pickle-npy": "frames.npy",
            "rgb-tiff": "rgb.tif",
            "corrupt-tiff": "corrupt.tif",
            "directory": "folder.mp4",
        }[kind]
    )
    if kind == "txt":
        path.write_text("not a video\n")
    elif kind == "corrupt-mp4":
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    elif kind == "empty-mp4":
        path.write_bytes(b"")
    elif kind == "truncated-mp4":
        yy, xx = np.mgrid[0:16, 0:16]
        write_mp4(path, np.repeat((xx * yy).astype(np.uint8)[None, ..., None], 3, axis=-1), 30.0)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "4d-npy":
        np.save(path, np.zeros((2, 3, 4, 5), dtype=np.float32))
    elif kind == "empty-npy":
        np.save(path, np.zeros((0, 4, 4), dtype=np.float32))
    elif kind == "text-npy":
        np.save(path, np.array(["a", "b"]))
    elif kind == "pickle-npy":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "rgb-tiff":
        tifffile.imwrite(path, np.zeros((8, 8, 3), dtype=np.uint8), photometric="rgb")
    elif kind == "corrupt-tiff":
        path.write_bytes(b"II*\x00" + b"\xff" * 64)
    elif kind == "directory":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "does not exist"),
        ("txt", "unsupported suffix"),
        ("corrupt-mp4", "cannot be"),
        ("empty-mp4", "cannot be"),
        ("truncated-mp4", "cannot be|no video stream|no decodable"),
        ("4d-npy", "4-D"),
        ("empty-npy", "empty"),
        ("text-npy", "not numbers"),
        ("pickle-npy", "not a readable .npy"),
        ("rgb-tiff", "colour TIFF"),
        ("corrupt-tiff", "not a readable TIFF"),
        ("directory", "not a file"),
    ],
)
def test_read_video_invalid(tmp_path: Path, kind: str, expected: str) -> None:
    path = _invalid_input(tmp_path, kind)
    with pytest.raises(InputError, match=expected) as info:
        read_video(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message


@pytest.mark.parametrize(
    "kwargs",
    [{"palette": "jet"}, {"fps": 0.0}, {"fps": -5.0}, {"max_frames": 0}, {"max_frames": True}],
)
def test_read_video_invalid_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    path = tmp_path / "frames.npy"
    np.save(path, np.zeros((2, 3, 3), dtype=np.float32))
    with pytest.raises(InputError):
        read_video(path, **kwargs)  # type: ignore[arg-type]


def test_video_suffixes() -> None:
    assert VIDEO_SUFFIXES == (".mp4", ".avi", ".mov", ".mkv")


@pytest.mark.parametrize(
    "image",
    [
        np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3),
        np.arange(12 * 10, dtype=np.uint8).reshape(12, 10),
        (np.arange(12 * 10, dtype=np.uint16) * 500).reshape(12, 10),
    ],
)
def test_write_png(tmp_path: Path, image: np.ndarray) -> None:
    path = write_png(tmp_path / "picture.png", image)
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]
    read = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert read is not None
    if image.ndim == 3:
        read = cv2.cvtColor(read, cv2.COLOR_BGR2RGB)  # OpenCV reads BGR; we wrote RGB
    assert read.dtype == image.dtype
    assert_array_equal(read, image)


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("picture.png", np.zeros((4, 4), dtype=np.float32)),
        ("picture.png", np.zeros((4, 4, 2), dtype=np.uint8)),
        ("picture.png", np.zeros((0, 4), dtype=np.uint8)),
        ("picture.jpg", np.zeros((4, 4), dtype=np.uint8)),
        ("missing/picture.png", np.zeros((4, 4), dtype=np.uint8)),
    ],
)
def test_write_png_invalid(tmp_path: Path, name: str, image: np.ndarray) -> None:
    with pytest.raises(InputError):
        write_png(tmp_path / name, image)
    assert list(tmp_path.iterdir()) == []


def _on_circle(x: float, y: float, radius: float, angle_deg: float) -> tuple[int, int]:
    """(row, col) of the pixel nearest the point of the circle at angle_deg."""
    angle = np.deg2rad(angle_deg)
    return round(y + radius * np.sin(angle)), round(x + radius * np.cos(angle))


def _is_green(rgb: np.ndarray) -> bool:
    red, green, blue = (int(v) for v in rgb)
    return green > 200 and red < 60 and blue < 60


def test_draw_source_marker() -> None:
    frame = np.full((48, 64, 3), 128, dtype=np.uint8)
    solid = draw_source_marker(frame, 30.0, 22.0, occluded=False)
    dashed = draw_source_marker(frame, 30.0, 22.0, occluded=True)
    assert (frame == 128).all()  # input not modified
    for marked in (solid, dashed):
        assert marked.shape == frame.shape and marked.dtype == np.uint8
        changed = (marked != frame).any(axis=-1)
        assert changed[12:33, 20:41].sum() > 30  # drawn around the source
        assert not changed[:, 50:].any() and not changed[40:].any()  # and only there
        assert _is_green(marked[22, 38])  # on the circle at angle 0
    assert (solid != dashed).any()
    # Dashes are centred on 0, 90, 180, 270 deg; the gaps (45, 135 ...) show the frame.
    for angle in (45.0, 135.0, 225.0, 315.0):
        row, col = _on_circle(30.0, 22.0, 8.0, angle)
        assert (dashed[row, col] == 128).all()
        assert (solid[row, col] != 128).any()
    # Solid marker: crosshair ticks outside the circle; the source pixel itself stays visible.
    assert _is_green(solid[22, 30 + 12])
    assert (solid[22, 30] == 128).all()


def test_draw_source_marker_video_and_subpixel() -> None:
    frames = np.zeros((3, 40, 40, 3), dtype=np.uint8)
    frames[1] = 200
    marked = draw_source_marker(frames, 20.0, 20.0, occluded=False)
    assert marked.shape == frames.shape
    # Same marker on every frame (where the marker is opaque).
    core = (marked[0] == marked[2]).all(axis=-1) & (marked[0, ..., 1] > 200)
    assert core.sum() > 10
    assert np.abs(marked[1][core].astype(int) - marked[0][core]).max() <= 20
    shifted = draw_source_marker(frames, 20.5, 20.0, occluded=False)
    assert (shifted != marked).any()  # half a pixel moves the anti-aliased marker


def test_draw_source_marker_label() -> None:
    frame = np.full((48, 96, 3), 128, dtype=np.uint8)
    plain = draw_source_marker(frame, 20.0, 24.0, occluded=False)
    labelled = draw_source_marker(frame, 20.0, 24.0, occluded=False, label="leak 1")
    changed = (labelled != plain).any(axis=-1)
    assert changed[:, 31:].any()  # text to the right of the marker


def test_draw_source_marker_outside() -> None:
    frame = np.full((20, 20, 3), 128, dtype=np.uint8)
    assert_array_equal(draw_source_marker(frame, -100.0, -100.0, occluded=True), frame)
    partly = draw_source_marker(frame, 0.0, 0.0, occluded=False)
    assert (partly != frame).any()


@pytest.mark.parametrize(
    ("frames", "x", "radius", "label"),
    [
        (np.zeros((8, 8, 3), dtype=np.float32), 4.0, 8, None),
        (np.zeros((8, 8), dtype=np.uint8), 4.0, 8, None),
        (np.zeros((8, 8, 3), dtype=np.uint8), float("nan"), 8, None),
        (np.zeros((8, 8, 3), dtype=np.uint8), 4.0, 1, None),
        (np.zeros((8, 8, 3), dtype=np.uint8), 4.0, 8, "漏えい"),
    ],
)
def test_draw_source_marker_invalid(
    frames: np.ndarray, x: float, radius: int, label: str | None
) -> None:
    with pytest.raises(InputError):
        draw_source_marker(frames, x, 4.0, occluded=False, radius_px=radius, label=label)


@pytest.mark.parametrize(
    ("shape", "factor", "expected"),
    [((2, 3, 4, 3), 2, (2, 6, 8, 3)), ((3, 4, 3), 3, (9, 12, 3)), ((3, 4, 3), 1, (3, 4, 3))],
)
def test_upscale_nearest(shape: tuple[int, ...], factor: int, expected: tuple[int, ...]) -> None:
    frames = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    big = upscale_nearest(frames, factor)
    assert big.shape == expected
    assert big.dtype == np.uint8
    assert_array_equal(big[..., ::factor, ::factor, :], frames)
    assert_array_equal(big[..., factor - 1 :: factor, factor - 1 :: factor, :], frames)


@pytest.mark.parametrize(
    ("shape", "factor"), [((3, 4), 2), ((3, 4, 4), 2), ((3, 4, 3), 0), ((3, 4, 3), 1.5)]
)
def test_upscale_nearest_invalid(shape: tuple[int, ...], factor: float) -> None:
    with pytest.raises(InputError):
        upscale_nearest(np.zeros(shape, dtype=np.uint8), factor)  # type: ignore[arg-type]
