"""Synthetic drone photos for tests and demos: rendered JPEGs with full EXIF and DJI XMP.

Each photo is what the site looks like from the pose: the facilities are ray-cast
(:func:`~plantwatch.geometry.first_hit_depth_map`, the primitives coverage uses) and shaded by
their surface normal under a fixed sun, tank shells with weld seams every 2 m, the ground with a
5 m grid, the sky as a gradient; without a site only ground and sky. The picture is rendered at
a few hundred pixels and scaled up to the photo size, so a full-size photo costs about as much
as JPEG encoding.

Metadata, as a DJI aircraft writes it:

* EXIF (written with piexif, a development dependency imported only here): Make, Model,
  DateTimeOriginal + SubSecTimeOriginal + OffsetTimeOriginal, FocalLength,
  FocalLengthIn35mmFilm (the diagonal crop factor, rounded to whole millimetres as EXIF stores
  it), PixelX/YDimension, and the GPS IFD (latitude/longitude as degree, minute and
  micro-second rationals with N/S/E/W references, altitude above sea level with its reference).
* XMP: an APP1 segment with the ``http://ns.adobe.com/xap/1.0/`` header holding
  ``drone-dji:`` AbsoluteAltitude, RelativeAltitude, Gimbal{Roll,Yaw,Pitch}Degree and
  Flight{Roll,Yaw,Pitch}Degree, as attributes of ``rdf:Description`` (DJI's form) or as child
  elements.

:func:`write_plan_photos` writes the photos a plan folder calls for (``DJI_0001.JPG`` is shot
1), optionally skipping shots to leave gaps and jittering the positions.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from plantwatch.drone.camera import get_camera
from plantwatch.drone.model import CameraModel, Site
from plantwatch.drone.photo_exif import (
    DJI_XMP_NAMESPACE,
    FULL_FRAME_DIAGONAL_MM,
    XMP_APP1_HEADER,
    exif_names_for_preset,
)
from plantwatch.drone.photos import PhotoPose, _fold_pitch, load_plan_folder, local_frame
from plantwatch.drone.site import site_primitives
from plantwatch.errors import DependencyError, InputError
from plantwatch.fileio import atomic_write_bytes as _atomic_write
from plantwatch.geometry import (
    GroundPlane,
    PinholeCamera,
    Primitive,
    first_hit_depth_map,
    surface_normals,
)

__all__ = [
    "DEFAULT_START_TIME",
    "XMP_FORMS",
    "SynthShot",
    "dji_xmp_packet",
    "equivalent_focal_35mm",
    "render_view",
    "write_plan_photos",
    "write_synthetic_photo",
]

XmpForm = Literal["attribute", "element"]
XMP_FORMS: tuple[str, ...] = ("attribute", "element")
JST = timezone(timedelta(hours=9))
DEFAULT_START_TIME = datetime(2031, 5, 12, 9, 0, 0, tzinfo=JST)  # first shot of a plan

_RENDER_LONG_SIDE_PX = 320  # rendering resolution before scaling up to the photo size
_SUN_UNIT = np.array([-0.5, -0.5, math.sqrt(0.5)])  # from the south-west, 45 deg high
_AMBIENT = 0.35  # share of light that is not direct sun [-]
_NOISE_SIGMA = 2.0  # sensor noise added at rendering resolution [grey levels]
_SEAM_SPACING_M = 2.0  # weld seams of a tank shell (one plate course) [m]
_GRID_SPACING_M = 5.0  # paving grid on the ground [m]
_COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "fixed_roof_tank": (222, 224, 220),
    "floating_roof_tank": (210, 216, 214),
    "sphere": (236, 236, 232),
    "column": (185, 188, 196),
    "stack": (150, 150, 160),
    "pipe_rack": (60, 95, 150),
    "building": (170, 190, 205),
}
_GROUND_BGR = np.array([105.0, 112.0, 108.0])
_SKY_LOW_BGR = np.array([235.0, 210.0, 170.0])
_SKY_HIGH_BGR = np.array([205.0, 150.0, 90.0])


@dataclass(frozen=True)
class SynthShot:
    """Where and how a synthetic photo is taken (what the aircraft would record).

    Heights [m]: ``alt_rel_m`` above the take-off point; ``takeoff_alt_m`` the take-off point's
    height above sea level (AbsoluteAltitude and GPSAltitude = their sum). Angles [deg]: gimbal
    pitch 0 level / -90 down, yaw clockwise from north, roll + clockwise seen from behind.
    """

    lat_deg: float
    lon_deg: float
    alt_rel_m: float
    gimbal_pitch_deg: float
    gimbal_yaw_deg: float
    time: datetime
    gimbal_roll_deg: float = 0.0
    flight_yaw_deg: float | None = None  # aircraft yaw; the gimbal's when None
    takeoff_alt_m: float = 0.0


def _piexif() -> Any:
    try:
        import piexif
    except ImportError as exc:
        raise DependencyError(
            "synthetic photos need piexif (a development dependency); install it with: "
            "pip install -e '.[dev]'"
        ) from exc
    return piexif


def equivalent_focal_35mm(camera: CameraModel) -> int:
    """FocalLengthIn35mmFilm as a camera writes it: f x 43.27 mm / sensor diagonal, rounded."""
    diagonal_mm = math.hypot(camera.sensor_width_mm, camera.sensor_height_mm)
    return round(camera.focal_length_mm * FULL_FRAME_DIAGONAL_MM / diagonal_mm)


# -- picture -----------------------------------------------------------------------------------


def render_view(
    camera: CameraModel,
    pose: PhotoPose,
    frame: Site,
    width_px: int,
    height_px: int,
    seed: int = 0,
) -> NDArray[np.uint8]:
    """The site seen from ``pose`` as a BGR picture of ``height_px`` x ``width_px`` (see the
    module notes); deterministic for a seed."""
    scale = _RENDER_LONG_SIDE_PX / max(width_px, height_px)
    render_w = max(8, round(width_px * scale))
    render_h = max(8, round(height_px * scale))
    pinhole = PinholeCamera(
        width_px=render_w,
        height_px=render_h,
        hfov_deg=math.degrees(2 * math.atan(camera.sensor_width_mm / (2 * camera.focal_length_mm))),
        vfov_deg=math.degrees(
            2 * math.atan(camera.sensor_height_mm / (2 * camera.focal_length_mm))
        ),
        position_m=pose.position_m,
        yaw_deg=pose.yaw_deg,
        pitch_deg=pose.pitch_deg,
        roll_deg=pose.roll_deg,
    )
    primitives, owners = site_primitives(frame)
    scene: list[Primitive] = [*primitives, GroundPlane(0.0)]
    owner_type = {f.id: f.type for f in frame.facilities}
    _, index, points = first_hit_depth_map(pinhole, scene)
    image = np.empty((render_h, render_w, 3))
    # sky: brighter towards the horizon
    dirs = pinhole.pixel_ray_directions()
    up = np.clip(dirs[..., 2], 0.0, 1.0)[..., None]
    image[:] = _SKY_LOW_BGR * (1 - up) + _SKY_HIGH_BGR * up
    hit = index >= 0
    if hit.any():
        flat_points = points[hit]
        flat_index = index[hit]
        normals = surface_normals(flat_points, flat_index, scene)
        light = _AMBIENT + (1 - _AMBIENT) * np.clip(normals @ _SUN_UNIT, 0.0, 1.0)
        base = np.empty((flat_index.size, 3))
        ground = flat_index == len(scene) - 1
        base[ground] = _GROUND_BGR
        x, y, z = flat_points[:, 0], flat_points[:, 1], flat_points[:, 2]
        on_grid = (np.abs((x / _GRID_SPACING_M) % 1.0 - 0.5) > 0.47) | (
            np.abs((y / _GRID_SPACING_M) % 1.0 - 0.5) > 0.47
        )
        base[ground & on_grid] *= 0.8
        for k, owner in enumerate(owners):
            mine = flat_index == k
            if not mine.any():
                continue
            base[mine] = _COLOURS_BGR.get(owner_type[owner], (180, 180, 180))
            wall = mine & (np.abs(normals[:, 2]) < 0.5)
            seam = np.abs((z / _SEAM_SPACING_M) % 1.0 - 0.5) > 0.485
            base[wall & seam] *= 0.75
        image[hit] = base * light[:, None]
    rng = np.random.default_rng(seed)
    image += rng.normal(0.0, _NOISE_SIGMA, image.shape)
    small = np.clip(image, 0, 255).astype(np.uint8)
    return np.asarray(
        cv2.resize(small, (width_px, height_px), interpolation=cv2.INTER_LINEAR), dtype=np.uint8
    )


# -- metadata ----------------------------------------------------------------------------------


def dji_xmp_packet(fields: Mapping[str, float], form: str = "attribute") -> bytes:
    """An XMP packet with ``drone-dji:`` fields (values written as DJI does, ``+12.30``).

    ``form`` is ``"attribute"`` (fields as attributes of ``rdf:Description``, DJI firmware) or
    ``"element"`` (fields as child elements).
    """
    if form not in XMP_FORMS:
        raise InputError(f"must be one of {', '.join(XMP_FORMS)}, got {form!r}", field="xmp_form")
    values = {key: f"{value:+.2f}" for key, value in fields.items()}
    namespaces = (
        'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        f'xmlns:drone-dji="{DJI_XMP_NAMESPACE}"'
    )
    if form == "attribute":
        attributes = "".join(f'\n    drone-dji:{k}="{v}"' for k, v in values.items())
        description = (
            f'  <rdf:Description rdf:about="DJI Meta Data" {namespaces}{attributes}>\n'
            "  </rdf:Description>\n"
        )
    else:
        children = "".join(f"   <drone-dji:{k}>{v}</drone-dji:{k}>\n" for k, v in values.items())
        description = (
            f'  <rdf:Description rdf:about="DJI Meta Data" {namespaces}>\n{children}'
            "  </rdf:Description>\n"
        )
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f"{description}"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return text.encode("utf-8")


def _dms(value_deg: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """|value| as EXIF degree, minute, second rationals (seconds to 1e-6 s, 3e-11 deg)."""
    micro = round(abs(value_deg) * 3600 * 1_000_000)
    degrees, rest = divmod(micro, 3600 * 1_000_000)
    minutes, seconds = divmod(rest, 60 * 1_000_000)
    return (int(degrees), 1), (int(minutes), 1), (int(seconds), 1_000_000)


def _offset_text(when: datetime) -> str | None:
    offset = when.utcoffset()
    if offset is None:
        return None
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def _exif_bytes(
    shot: SynthShot,
    camera: CameraModel,
    make: str,
    model: str,
    focal_35mm: int | None,
    width_px: int,
    height_px: int,
    gps: bool,
) -> bytes:
    piexif = _piexif()
    stamp = shot.time.strftime("%Y:%m:%d %H:%M:%S").encode("ascii")
    zeroth = {
        piexif.ImageIFD.Make: make.encode("ascii"),
        piexif.ImageIFD.Model: model.encode("ascii"),
        piexif.ImageIFD.Orientation: 1,
        piexif.ImageIFD.Software: b"plantwatch photo_synth",
        piexif.ImageIFD.DateTime: stamp,
    }
    exif: dict[int, Any] = {
        piexif.ExifIFD.ExifVersion: b"0232",
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
        piexif.ExifIFD.SubSecTimeOriginal: f"{shot.time.microsecond // 1000:03d}".encode(),
        piexif.ExifIFD.FocalLength: (round(camera.focal_length_mm * 100), 100),
        piexif.ExifIFD.PixelXDimension: width_px,
        piexif.ExifIFD.PixelYDimension: height_px,
    }
    offset = _offset_text(shot.time)
    if offset is not None:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode("ascii")
    if focal_35mm is not None:
        exif[piexif.ExifIFD.FocalLengthIn35mmFilm] = int(focal_35mm)
    gps_ifd: dict[int, Any] = {}
    if gps:
        altitude = shot.takeoff_alt_m + shot.alt_rel_m
        gps_ifd = {
            piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
            piexif.GPSIFD.GPSLatitudeRef: b"N" if shot.lat_deg >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _dms(shot.lat_deg),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if shot.lon_deg >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _dms(shot.lon_deg),
            piexif.GPSIFD.GPSAltitudeRef: 0 if altitude >= 0 else 1,
            piexif.GPSIFD.GPSAltitude: (round(abs(altitude) * 1000), 1000),
            piexif.GPSIFD.GPSMapDatum: b"WGS-84",
        }
    return bytes(piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps_ifd, "1st": {}}))


def _insert_app1(jpeg: bytes, payload: bytes) -> bytes:
    """Insert an APP1 segment after SOI and the APP0/APP1 segments already there."""
    if len(payload) + 2 > 0xFFFF:
        raise InputError("XMP packet too large for one APP1 segment", field="xmp")
    pos = 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] in (0xE0, 0xE1):
        pos += 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:pos] + segment + jpeg[pos:]


def write_synthetic_photo(
    path: str | Path,
    shot: SynthShot,
    camera: CameraModel | str,
    *,
    site: Site | None = None,
    make: str | None = None,
    model: str | None = None,
    focal_length_35mm: int | Literal["auto"] | None = "auto",
    scale: float = 1.0,
    xmp_form: str | None = "attribute",
    gps: bool = True,
    seed: int = 0,
    quality: int = 88,
) -> Path:
    """Write one rendered JPEG with EXIF and DJI XMP for ``shot``.

    Parameters
    ----------
    path
        Output file (written atomically).
    shot
        Position, heights, attitude and time.
    camera
        A preset name or a :class:`~plantwatch.drone.model.CameraModel`.
    site
        Render the site's facilities (ground and sky only when ``None``).
    make, model
        EXIF Make/Model; default: the preset's codes from ``exif_cameras.yaml`` (required for
        a camera that is not listed there).
    focal_length_35mm
        FocalLengthIn35mmFilm [mm]; ``"auto"`` derives it from the sensor diagonal, ``None``
        leaves the tag out.
    scale
        Photo size as a fraction of the camera's pixel count (0 < scale <= 1); the EXIF size
        tags follow the pixels written.
    xmp_form
        ``"attribute"``, ``"element"`` or ``None`` (no XMP).
    gps
        Write the GPS IFD (``False`` to test photos without a position).
    seed
        Noise seed.
    quality
        JPEG quality (1-100).

    Raises
    ------
    InputError
        Bad scale, form or quality, or no Make/Model for an unlisted camera.
    DependencyError
        piexif is not installed.
    """
    piexif = _piexif()
    cam = get_camera(camera) if isinstance(camera, str) else camera
    if not (isinstance(scale, int | float) and 0.0 < scale <= 1.0):
        raise InputError(f"must lie in (0, 1], got {scale!r}", field="scale")
    if not (isinstance(quality, int) and 1 <= quality <= 100):
        raise InputError(f"must be an integer 1-100, got {quality!r}", field="quality")
    if make is None or model is None:
        names = exif_names_for_preset(cam.name)
        if names is None:
            raise InputError(
                f"camera {cam.name!r} has no EXIF Make/Model in exif_cameras.yaml; pass make= "
                "and model=",
                field="model",
            )
        make, model = make or names[0], model or names[1]
    width = max(8, round(cam.image_width_px * scale))
    height = max(8, round(cam.image_height_px * scale))
    frame = site if site is not None else local_frame(shot.lat_deg, shot.lon_deg)
    enu = frame.from_wgs84(np.array([[shot.lat_deg, shot.lon_deg, shot.alt_rel_m]]))[0]
    yaw, pitch, roll = _fold_pitch(shot.gimbal_yaw_deg, shot.gimbal_pitch_deg, shot.gimbal_roll_deg)
    pose = PhotoPose(
        (float(enu[0]), float(enu[1]), float(shot.alt_rel_m)), yaw, pitch, roll, "RelativeAltitude"
    )
    picture = render_view(cam, pose, frame, width, height, seed)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV failure
        raise InputError("OpenCV could not encode the picture", field="path")
    f35: int | None = equivalent_focal_35mm(cam) if focal_length_35mm == "auto" else None
    if isinstance(focal_length_35mm, int):
        f35 = focal_length_35mm
    exif = _exif_bytes(shot, cam, make, model, f35, width, height, gps)
    with_exif = io.BytesIO()
    piexif.insert(exif, encoded.tobytes(), with_exif)
    out = with_exif.getvalue()
    if xmp_form is not None:
        flight_yaw = shot.gimbal_yaw_deg if shot.flight_yaw_deg is None else shot.flight_yaw_deg
        fields = {
            "AbsoluteAltitude": shot.takeoff_alt_m + shot.alt_rel_m,
            "RelativeAltitude": shot.alt_rel_m,
            "GimbalRollDegree": shot.gimbal_roll_deg,
            "GimbalYawDegree": (shot.gimbal_yaw_deg + 180.0) % 360.0 - 180.0,
            "GimbalPitchDegree": shot.gimbal_pitch_deg,
            "FlightRollDegree": 0.0,
            "FlightYawDegree": (flight_yaw + 180.0) % 360.0 - 180.0,
            "FlightPitchDegree": 0.0,
        }
        out = _insert_app1(out, XMP_APP1_HEADER + dji_xmp_packet(fields, xmp_form))
    target = Path(path)
    _atomic_write(target, out)
    return target


def write_plan_photos(
    plan_dir: str | Path,
    out_dir: str | Path,
    *,
    skip: Collection[int] = (),
    camera: CameraModel | None = None,
    make: str | None = None,
    model: str | None = None,
    scale: float = 1.0,
    start_time: datetime = DEFAULT_START_TIME,
    interval_s: float = 2.0,
    position_noise_m: float = 0.0,
    render_site: bool = True,
    xmp_form: str = "attribute",
    seed: int = 0,
) -> list[Path]:
    """Write the photos a plan calls for, ``DJI_0001.JPG`` for shot 1 and so on.

    Parameters
    ----------
    plan_dir
        A folder written by ``plantwatch drone plan`` (``plan.json``; ``site.geojson`` to render
        the facilities).
    out_dir
        Where the photos go (created).
    skip
        Shot numbers (1-based, in flying order) not to take: the gaps a check should find.
    camera
        The camera; default the plan's preset (required when the plan used a custom camera).
    make, model
        EXIF Make/Model (default from ``exif_cameras.yaml``).
    scale
        Photo size as a fraction of the camera's pixel count.
    start_time, interval_s
        Time of shot 1 and the time between shots [s].
    position_noise_m
        Standard deviation of a horizontal and vertical position error added to each shot
        [m] (seeded), like a GNSS fix.
    render_site
        Draw the facilities (``False``: ground and sky only, faster).
    xmp_form
        ``"attribute"`` or ``"element"``.
    seed
        Seed of the position noise and the picture noise.

    Returns
    -------
    list of Path
        The files written, in shot order.
    """
    folder = load_plan_folder(plan_dir)
    if camera is None:
        try:
            camera = get_camera(str(folder.plan.get("camera") or ""))
        except InputError:
            raise InputError(
                f"the plan's camera {folder.plan.get('camera')!r} is not a preset; pass camera=",
                field="camera",
            ) from None
    if position_noise_m < 0 or not math.isfinite(position_noise_m):
        raise InputError(f"must be >= 0 m, got {position_noise_m!r}", field="position_noise_m")
    site = folder.site
    origin_alt = site.origin_alt_m if site is not None else 0.0
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    written: list[Path] = []
    skipped = set(skip)
    for shot in folder.shots:
        noise = rng.normal(0.0, position_noise_m, 3) if position_noise_m > 0 else np.zeros(3)
        if shot.shot in skipped:
            continue
        if shot.lat_deg is None or shot.lon_deg is None:
            raise InputError("plan.json waypoints lack lat_deg/lon_deg; re-plan", field="plan.json")
        lat, lon = shot.lat_deg, shot.lon_deg
        if site is not None and position_noise_m > 0:
            geo = site.to_wgs84(np.array([[shot.x_m + noise[0], shot.y_m + noise[1], shot.z_m]]))
            lat, lon = float(geo[0, 0]), float(geo[0, 1])
        synth = SynthShot(
            lat_deg=lat,
            lon_deg=lon,
            alt_rel_m=shot.z_m + float(noise[2]),
            gimbal_pitch_deg=shot.gimbal_pitch_deg,
            gimbal_yaw_deg=shot.heading_deg,
            time=start_time + timedelta(seconds=interval_s * (shot.shot - 1)),
            takeoff_alt_m=origin_alt,
        )
        written.append(
            write_synthetic_photo(
                out / f"DJI_{shot.shot:04d}.JPG",
                synth,
                camera,
                site=site if render_site else None,
                make=make,
                model=model,
                scale=scale,
                xmp_form=xmp_form,
                seed=seed + shot.shot,
            )
        )
    return written
