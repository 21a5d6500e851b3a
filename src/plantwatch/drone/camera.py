"""Drone camera presets and pinhole camera geometry: GSD, footprint, standoff, field of view.

The manual this project follows asks inspectors to choose the camera by sensor size, pixel count
and focal length for the detail they need at the distance they can fly (MHLW-2022 Table 5.2,
Section 5.3): the area one photo covers is set by the distance to the subject, the focal length and
the sensor size (Fig. 5.1, with the qualitative rules of Table 5.3: farther -> wider, longer focal
length -> narrower, larger sensor -> wider); the same lens covers more when flown farther away but
resolves less (Fig. 5.2); sensor formats differ in size (Fig. 5.3); and a shorter focal length
gives a wider angle of view (Fig. 5.4). The functions below are those relations in numbers, for an
ideal pinhole camera looking square-on at a flat surface.

Units: sensor and focal length in [mm], pixels in [px], distances and footprints in [m], ground
sample distance (GSD) in [mm px-1] (the project's ``gsd_mm``), angles in [deg].

Presets live in ``plantwatch/data/cameras.yaml`` (maker's figures with their source, derived
figures marked as such). Look one up with :func:`get_camera`; make another with
:func:`custom_camera`.

References
----------
.. [1] Ministry of Health, Labour and Welfare (MHLW), "Manual for introducing drones into the
   periodic voluntary inspection of chemical equipment" (April 2022), Section 5.3, Table 5.2,
   Table 5.3 and Figs 5.1-5.4 (seed ``004_a47552635a8b6365.txt`` lines 1176-1330).
"""

from __future__ import annotations

import importlib.resources
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, overload

import numpy as np
import yaml
from numpy.typing import NDArray

from plantwatch.drone.model import CameraModel
from plantwatch.errors import DataError, InputError

__all__ = [
    "AXES",
    "CAMERA_LABELS",
    "CAMERA_NAMES",
    "CAMERA_PRESETS",
    "DEFAULT_CAMERA",
    "custom_camera",
    "footprint_m",
    "fov_deg",
    "get_camera",
    "gsd_mm",
    "photo_spacing_m",
    "pixel_pitch_mm",
    "standoff_for_gsd_m",
]

Axis = Literal["horizontal", "vertical"]
AXES: tuple[str, ...] = ("horizontal", "vertical")  # image width / image height direction

# The 1-inch 20 MP camera of the Phantom 4 RTK / Phantom 4 Pro: the most common inspection and
# survey camera of the last years, and the brief's GSD check camera (13.2 mm, 8.8 mm, 5472 px).
DEFAULT_CAMERA = "dji-phantom4-rtk"

_MM_PER_M = 1000.0
# Largest ratio of horizontal to vertical pixel pitch accepted. Photo sensors have square pixels;
# a larger mismatch almost always means width and height were swapped or mistyped.
_MAX_PITCH_RATIO = 1.2

_DATA_FILE = ("data", "cameras.yaml")
_CAMERA_FIELDS = (
    "sensor_width_mm",
    "sensor_height_mm",
    "image_width_px",
    "image_height_px",
    "focal_length_mm",
    "source",
)


def _normalise(name: str) -> str:
    """Lookup key: lower case, letters and digits only ("DJI Phantom 4 RTK" -> "djiphantom4rtk")."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _positive_float(value: object, field: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"must be a positive number, got {value!r}", field=field)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"must be a positive number, got {value!r}", field=field) from None
    if not math.isfinite(number) or number <= 0.0:
        raise InputError(f"must be a positive finite number, got {value!r}", field=field)
    return number


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(f"must be a positive whole number of pixels, got {value!r}", field)
    if int(value) < 1:
        raise InputError(f"must be a positive whole number of pixels, got {value!r}", field=field)
    return int(value)


def custom_camera(
    name: str,
    sensor_width_mm: float,
    sensor_height_mm: float,
    image_width_px: int,
    image_height_px: int,
    focal_length_mm: float,
    source: str = "custom camera (user-supplied figures)",
) -> CameraModel:
    """A camera from your own figures, validated like the presets.

    Parameters
    ----------
    name
        A name for reports (any non-empty text).
    sensor_width_mm, sensor_height_mm
        Active image area of the still-photo mode [mm], along the image width and height.
    image_width_px, image_height_px
        Photo size [px] in that mode.
    focal_length_mm
        Real focal length of the lens [mm] (not the 35 mm equivalent: divide that by the crop
        factor 43.27 mm / sensor diagonal).
    source
        Where the figures come from.

    Returns
    -------
    CameraModel

    Raises
    ------
    InputError
        A figure is missing, not positive, not finite, or width and height disagree: the pixel
        pitch along the width and along the height must agree within 20 % (photo sensors have
        square pixels), which catches a swapped sensor or image size.

    Examples
    --------
    >>> cam = custom_camera("P4 RTK", 13.2, 8.8, 5472, 3648, 8.8)
    >>> round(gsd_mm(cam, 100.0), 2)
    27.41
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"must be a non-empty name, got {name!r}", field="name")
    width_mm = _positive_float(sensor_width_mm, "sensor_width_mm")
    height_mm = _positive_float(sensor_height_mm, "sensor_height_mm")
    width_px = _positive_int(image_width_px, "image_width_px")
    height_px = _positive_int(image_height_px, "image_height_px")
    focal_mm = _positive_float(focal_length_mm, "focal_length_mm")
    pitch_ratio = (width_mm / width_px) / (height_mm / height_px)
    if not 1.0 / _MAX_PITCH_RATIO <= pitch_ratio <= _MAX_PITCH_RATIO:
        raise InputError(
            f"sensor {width_mm:g} x {height_mm:g} mm and image {width_px} x {height_px} px give "
            f"pixels {pitch_ratio:.2f} times wider than tall; photo sensors have square pixels "
            "(check that width and height are not swapped)",
            field="sensor_width_mm",
        )
    return CameraModel(
        name=name.strip(),
        sensor_width_mm=width_mm,
        sensor_height_mm=height_mm,
        image_width_px=width_px,
        image_height_px=height_px,
        focal_length_mm=focal_mm,
        source=str(source),
    )


def _load_presets() -> tuple[dict[str, CameraModel], dict[str, str], dict[str, str]]:
    """Read ``data/cameras.yaml`` -> (presets by name, labels by name, name by lookup key)."""
    resource = importlib.resources.files("plantwatch").joinpath(*_DATA_FILE)
    try:
        document: Any = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:  # pragma: no cover - packaging fault
        raise DataError(f"cannot read camera presets {'/'.join(_DATA_FILE)}: {exc}") from exc
    entries = document.get("cameras") if isinstance(document, dict) else None
    if not isinstance(entries, dict) or not entries:  # pragma: no cover - packaging fault
        raise DataError(f"{'/'.join(_DATA_FILE)} has no 'cameras' mapping")
    presets: dict[str, CameraModel] = {}
    labels: dict[str, str] = {}
    lookup: dict[str, str] = {}
    for name, entry in entries.items():
        try:
            missing = [f for f in _CAMERA_FIELDS if f not in entry]
            if missing or not str(entry["source"]).strip():
                raise InputError(f"missing {missing or ['source']}", field=str(name))
            presets[name] = custom_camera(
                name,
                **{f: entry[f] for f in _CAMERA_FIELDS if f != "source"},
                source=" ".join(str(entry["source"]).split()),
            )
        except (InputError, TypeError) as exc:  # pragma: no cover - packaging fault
            raise DataError(f"bad camera preset {name!r} in {'/'.join(_DATA_FILE)}: {exc}") from exc
        labels[name] = str(entry.get("label", name))
        for key in (name, *entry.get("aliases", ())):
            normalised = _normalise(str(key))
            if normalised in lookup:  # pragma: no cover - packaging fault
                raise DataError(f"camera name {key!r} is used twice in {'/'.join(_DATA_FILE)}")
            lookup[normalised] = name
    return presets, labels, lookup


_PRESETS, _LABELS, _LOOKUP = _load_presets()

CAMERA_PRESETS: Mapping[str, CameraModel] = MappingProxyType(_PRESETS)
CAMERA_LABELS: Mapping[str, str] = MappingProxyType(_LABELS)
CAMERA_NAMES: tuple[str, ...] = tuple(_PRESETS)


def get_camera(name: str) -> CameraModel:
    """The preset camera called ``name``.

    Matching ignores case and every character that is not a letter or a digit, and accepts the
    aliases listed in ``cameras.yaml`` (``"DJI Phantom 4 RTK"``, ``"p4rtk"`` and
    ``"dji-phantom4-rtk"`` are the same camera).

    Raises
    ------
    InputError
        No preset has that name; the message lists the preset names.

    Examples
    --------
    >>> get_camera("DJI-Phantom4-RTK").image_width_px
    5472
    """
    key = _normalise(name) if isinstance(name, str) else ""
    if key not in _LOOKUP:
        raise InputError(
            f"unknown camera {name!r}; presets are: {', '.join(CAMERA_NAMES)} "
            "(or describe your own with custom_camera)",
            field="camera",
        )
    return _PRESETS[_LOOKUP[key]]


def _checked(camera: CameraModel) -> CameraModel:
    """``camera`` if its figures are valid, else :class:`InputError` (cameras built by hand)."""
    if not isinstance(camera, CameraModel):
        raise InputError(f"must be a CameraModel, got {type(camera).__name__}", field="camera")
    custom_camera(
        camera.name or "camera",
        camera.sensor_width_mm,
        camera.sensor_height_mm,
        camera.image_width_px,
        camera.image_height_px,
        camera.focal_length_mm,
    )
    return camera


def _positive_array(value: Any, field: str) -> NDArray[np.float64]:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"must be positive numbers, got {value!r}", field=field) from None
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0.0):
        raise InputError(f"must be positive finite numbers, got {value!r}", field=field)
    return array


def _scalar_or_array(array: NDArray[np.float64]) -> Any:
    return float(array) if array.ndim == 0 else array


def pixel_pitch_mm(camera: CameraModel) -> tuple[float, float]:
    """Pixel pitch on the sensor along the image width and height [mm px-1].

    .. math:: p_x = w_s / W, \\qquad p_y = h_s / H

    with sensor width and height :math:`w_s, h_s` [mm] and image size :math:`W, H` [px].
    """
    camera = _checked(camera)
    return (
        camera.sensor_width_mm / camera.image_width_px,
        camera.sensor_height_mm / camera.image_height_px,
    )


@overload
def gsd_mm(camera: CameraModel, distance_m: float) -> float: ...
@overload
def gsd_mm(camera: CameraModel, distance_m: NDArray[Any]) -> NDArray[np.float64]: ...
def gsd_mm(camera: CameraModel, distance_m: float | NDArray[Any]) -> float | NDArray[np.float64]:
    """Ground sample distance: the size of one pixel on a surface ``distance_m`` away [mm px-1].

    .. math:: \\mathrm{GSD} = \\max(p_x, p_y) \\, \\frac{D}{f}

    pixel pitch :math:`p` [mm px-1] (:func:`pixel_pitch_mm`) times the distance :math:`D` [mm]
    over the focal length :math:`f` [mm] (pinhole projection: similar triangles through the
    lens centre, Fig. 5.1 of [1]_). The coarser of the two axes is returned, so the figure holds
    for both.
    It holds at the image centre for a surface square to the optical axis; towards the image
    edges, and on an oblique surface, a pixel covers more (by 1 / cos of the off-axis or
    incidence angle). Focus at a finite distance moves the image plane by about f^2 / D, a
    relative error f / D (0.2 % for 8.8 mm at 5 m), neglected.

    Parameters
    ----------
    camera
        The camera.
    distance_m
        Camera-to-surface distance along the optical axis [m], scalar or array.

    Returns
    -------
    float or numpy.ndarray
        GSD [mm px-1], the shape of ``distance_m``.

    Raises
    ------
    InputError
        A distance is not positive and finite.

    Examples
    --------
    The brief's check, 13.2 mm sensor, 8.8 mm lens, 5472 px, 100 m:

    >>> round(gsd_mm(get_camera("dji-phantom4-rtk"), 100.0) / 10, 2)  # cm px-1
    2.74
    """
    pitch_mm = max(pixel_pitch_mm(camera))
    distance = _positive_array(distance_m, "distance_m")
    gsd = pitch_mm * distance * _MM_PER_M / camera.focal_length_mm
    return _scalar_or_array(gsd)


@overload
def standoff_for_gsd_m(camera: CameraModel, gsd_mm: float) -> float: ...
@overload
def standoff_for_gsd_m(camera: CameraModel, gsd_mm: NDArray[Any]) -> NDArray[np.float64]: ...
def standoff_for_gsd_m(
    camera: CameraModel, gsd_mm: float | NDArray[Any]
) -> float | NDArray[np.float64]:
    """Largest camera-to-surface distance that still gives ``gsd_mm`` or finer [m].

    The inverse of :func:`gsd_mm`, on the limiting (coarser-pitch) axis:

    .. math:: D = \\frac{\\mathrm{GSD} \\, f}{\\max(p_x, p_y)}

    Parameters
    ----------
    camera
        The camera.
    gsd_mm
        Required ground sample distance [mm px-1], scalar or array.

    Returns
    -------
    float or numpy.ndarray
        Standoff distance [m].

    Raises
    ------
    InputError
        A GSD is not positive and finite.

    Examples
    --------
    >>> round(standoff_for_gsd_m(get_camera("dji-phantom4-rtk"), 2.0), 2)
    7.3
    """
    pitch_mm = max(pixel_pitch_mm(camera))
    gsd = _positive_array(gsd_mm, "gsd_mm")
    distance_m = gsd * camera.focal_length_mm / pitch_mm / _MM_PER_M
    return _scalar_or_array(distance_m)


@overload
def footprint_m(camera: CameraModel, distance_m: float) -> tuple[float, float]: ...
@overload
def footprint_m(
    camera: CameraModel, distance_m: NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def footprint_m(camera: CameraModel, distance_m: float | NDArray[Any]) -> tuple[Any, Any]:
    """Width and height of the area one photo covers on a surface ``distance_m`` away [m].

    .. math:: W_g = w_s \\frac{D}{f}, \\qquad H_g = h_s \\frac{D}{f}

    (similar triangles through the lens centre, Fig. 5.1 of [1]_). It grows with the distance
    and the sensor size and shrinks with the focal length, the rules of Table 5.3 of [1]_.
    Square-on, flat surface, as for :func:`gsd_mm`.

    Parameters
    ----------
    camera
        The camera.
    distance_m
        Camera-to-surface distance [m], scalar or array.

    Returns
    -------
    (width_m, height_m)
        Along the image width and height [m], each the shape of ``distance_m``.

    Examples
    --------
    >>> w, h = footprint_m(get_camera("dji-phantom4-rtk"), 10.0)
    >>> round(w, 2), round(h, 2)
    (15.0, 10.0)
    """
    camera = _checked(camera)
    distance = _positive_array(distance_m, "distance_m")
    scale = distance / camera.focal_length_mm  # [m per mm on the sensor]
    width = _scalar_or_array(camera.sensor_width_mm * scale)
    height = _scalar_or_array(camera.sensor_height_mm * scale)
    return width, height


def fov_deg(camera: CameraModel) -> tuple[float, float]:
    """Horizontal and vertical angle of view [deg].

    .. math:: \\mathrm{FOV}_h = 2 \\arctan\\frac{w_s}{2 f}, \\qquad
              \\mathrm{FOV}_v = 2 \\arctan\\frac{h_s}{2 f}

    The shorter the focal length, the wider the angle (Fig. 5.4 of [1]_).

    Examples
    --------
    >>> h, v = fov_deg(get_camera("dji-phantom4-rtk"))
    >>> round(h, 1), round(v, 1)
    (73.7, 53.1)
    """
    camera = _checked(camera)
    half_width = camera.sensor_width_mm / (2.0 * camera.focal_length_mm)
    half_height = camera.sensor_height_mm / (2.0 * camera.focal_length_mm)
    return math.degrees(2.0 * math.atan(half_width)), math.degrees(2.0 * math.atan(half_height))


@overload
def photo_spacing_m(
    camera: CameraModel, distance_m: float, overlap: float, axis: Axis
) -> float: ...
@overload
def photo_spacing_m(
    camera: CameraModel, distance_m: NDArray[Any], overlap: float, axis: Axis
) -> NDArray[np.float64]: ...
def photo_spacing_m(
    camera: CameraModel, distance_m: float | NDArray[Any], overlap: float, axis: Axis
) -> float | NDArray[np.float64]:
    """Distance between neighbouring camera positions for a given overlap [m].

    .. math:: s = (1 - o) \\, F

    with the overlap fraction :math:`o` and the footprint :math:`F` along ``axis``
    (:func:`footprint_m`): photos taken side by side along the image width use
    ``axis="horizontal"``, photos stacked along the image height (layers of an orbit, passes of
    a roof scan) use ``axis="vertical"``. Measured on the surface, square-on; on a curved surface
    (a tank shell) the planner converts it to an angle about the centre.

    Parameters
    ----------
    camera
        The camera.
    distance_m
        Camera-to-surface distance [m], scalar or array.
    overlap
        Fraction of a photo that the next one repeats, 0 <= overlap < 1 [-] (e.g. 0.7).
    axis
        ``"horizontal"`` (image width) or ``"vertical"`` (image height).

    Returns
    -------
    float or numpy.ndarray
        Spacing [m].

    Raises
    ------
    InputError
        ``overlap`` outside [0, 1), ``axis`` not one of :data:`AXES`, or a bad distance.

    Examples
    --------
    >>> round(photo_spacing_m(get_camera("dji-phantom4-rtk"), 10.0, 0.7, "horizontal"), 2)
    4.5
    """
    if axis not in AXES:
        raise InputError(f"must be one of {', '.join(AXES)}, got {axis!r}", field="axis")
    if isinstance(overlap, bool) or not isinstance(overlap, int | float | np.floating):
        raise InputError(f"must be a number in [0, 1), got {overlap!r}", field="overlap")
    if not 0.0 <= float(overlap) < 1.0:
        raise InputError(f"must be in [0, 1), got {overlap!r}", field="overlap")
    width, height = footprint_m(camera, distance_m)
    along = width if axis == "horizontal" else height
    return (1.0 - float(overlap)) * along
