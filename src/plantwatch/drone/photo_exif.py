r"""What a drone photo says about itself: EXIF and DJI XMP metadata, and the camera behind it.

MHLW-2022 §5.4 asks that photos be recorded with where and when they were taken, so that spots
needing close inspection and blind spots can be found later (撮影箇所、日時等の情報も取得すること);
the camera's EXIF (Table 5.1: 画像ファイルに埋め込まれる撮影情報) and, on DJI aircraft, the XMP
``drone-dji`` fields carry exactly that. This module reads them; :mod:`plantwatch.drone.photos`
turns them into a pose, a GSD and a footprint.

* **EXIF** (read with exifread): GPS latitude/longitude/altitude with their reference letters,
  ``DateTimeOriginal`` (+ ``SubSecTimeOriginal``, ``OffsetTimeOriginal``), ``Make``, ``Model``,
  ``FocalLength``, ``FocalLengthIn35mmFilm``. The image size is read from the JPEG frame header
  (SOF), which is what the pixels are; EXIF ``PixelXDimension`` is only a fallback because
  resizing tools often leave it stale.
* **DJI XMP** (the APP1 segment with the ``http://ns.adobe.com/xap/1.0/`` header, parsed with
  lxml, entities and network access off): ``RelativeAltitude`` (above the take-off point),
  ``AbsoluteAltitude``, ``GimbalPitchDegree`` / ``GimbalYawDegree`` / ``GimbalRollDegree`` and
  ``FlightPitchDegree`` / ``FlightYawDegree`` / ``FlightRollDegree``, whether written as
  attributes of ``rdf:Description`` (what DJI firmware writes) or as child elements (what XMP
  editors may rewrite them to).

Camera. The GSD needs the sensor size. :func:`photo_camera` first maps EXIF Make/Model to a
preset (``data/inspection/exif_cameras.yaml``, then the preset names of ``cameras.yaml``); for
an unknown camera it derives the sensor from the 35 mm-equivalent focal length:

.. math::

    c = \frac{f_{35}}{f}, \qquad d = \frac{43.27\ \mathrm{mm}}{c}, \qquad
    w = d \frac{W}{\sqrt{W^2 + H^2}}, \qquad h = d \frac{H}{\sqrt{W^2 + H^2}}

with the crop factor :math:`c` taken as the ratio of the diagonals of the 36 x 24 mm frame
(43.27 mm) and of the sensor, and the diagonal split in the image's aspect ratio :math:`W:H`.
This is the crop-factor convention of camera makers and of most photogrammetry tools; OpenSfM
instead divides by the 36 mm width, which agrees for 3:2 sensors and gives a 4 % larger sensor
for 4:3 ones. ``FocalLengthIn35mmFilm`` is a whole number of millimetres, so the derived sensor
is uncertain by up to 0.5 mm / f35 (2 % at 24 mm) on top of the maker's own rounding.

References
----------
.. [1] MHLW-2022, "Manual for introducing drones into the periodic voluntary inspection of
   chemical equipment", §5.3 (Table 5.1, Figs 5.1-5.4) and §5.4 (recording photos).
.. [2] CIPA DC-008-2019, "Exchangeable image file format for digital still cameras: Exif 2.32"
   (GPS IFD, DateTimeOriginal, OffsetTimeOriginal, FocalLengthIn35mmFilm).
.. [3] Adobe, "XMP Specification Part 3: Storage in files" (2020), JPEG APP1 packets.
"""

from __future__ import annotations

import importlib.resources
import io
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import exifread
import yaml
from lxml import etree

from plantwatch.drone.camera import CAMERA_PRESETS, custom_camera, get_camera
from plantwatch.drone.model import CameraModel
from plantwatch.errors import DataError, InputError

__all__ = [
    "DJI_XMP_NAMESPACE",
    "FULL_FRAME_DIAGONAL_MM",
    "XMP_APP1_HEADER",
    "PhotoCamera",
    "PhotoMeta",
    "exif_names_for_preset",
    "parse_dji_xmp",
    "photo_camera",
    "read_photo",
    "sensor_from_35mm",
]

DJI_XMP_NAMESPACE = "http://www.dji.com/drone-dji/1.0/"
XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)  # 43.27 mm, diagonal of the 35 mm film frame
_RDF_NAMESPACE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_XMP_FLOAT_FIELDS = {
    "RelativeAltitude": "alt_rel_m",
    "AbsoluteAltitude": "alt_abs_m",
    "GimbalPitchDegree": "gimbal_pitch_deg",
    "GimbalYawDegree": "gimbal_yaw_deg",
    "GimbalRollDegree": "gimbal_roll_deg",
    "FlightPitchDegree": "flight_pitch_deg",
    "FlightYawDegree": "flight_yaw_deg",
    "FlightRollDegree": "flight_roll_deg",
}
_FOCAL_MATCH_TOLERANCE = 0.05  # EXIF focal within 5 % of a preset's: that lens [-]

logging.getLogger("exifread").setLevel(logging.ERROR)  # it warns on every maker note it skips


@dataclass(frozen=True)
class PhotoMeta:
    """The metadata of one photo, as written by the camera (no interpretation yet).

    Heights: ``gps_alt_m`` is EXIF GPSAltitude (DJI writes the height above mean sea level),
    ``alt_abs_m`` the XMP AbsoluteAltitude (same reference), ``alt_rel_m`` the XMP
    RelativeAltitude, the height above the take-off point [m]. Angles [deg]: pitch 0 level,
    -90 straight down; yaw clockwise from north; roll + clockwise seen from behind the camera.
    ``time`` is timezone-aware when the photo records ``OffsetTimeOriginal``, naive (camera
    clock, zone unknown) otherwise.
    """

    path: Path
    lat_deg: float
    lon_deg: float
    image_width_px: int
    image_height_px: int
    make: str = ""
    model: str = ""
    gps_alt_m: float | None = None
    alt_rel_m: float | None = None
    alt_abs_m: float | None = None
    gimbal_pitch_deg: float | None = None
    gimbal_yaw_deg: float | None = None
    gimbal_roll_deg: float | None = None
    flight_pitch_deg: float | None = None
    flight_yaw_deg: float | None = None
    flight_roll_deg: float | None = None
    time: datetime | None = None
    focal_length_mm: float | None = None
    focal_length_35mm: float | None = None
    xmp: Mapping[str, str] = field(default_factory=dict, compare=False)  # raw drone-dji fields

    @property
    def camera_label(self) -> str:
        """``"Make Model"`` as the photo names its camera (``"unknown camera"`` if neither)."""
        return " ".join(part for part in (self.make, self.model) if part) or "unknown camera"


@dataclass(frozen=True)
class PhotoCamera:
    """The camera that took a photo, sized to the photo's pixels.

    ``camera`` has the photo's pixel count and the sensor area those pixels cover;
    ``preset`` names the ``cameras.yaml`` preset used (``None`` when derived); ``source`` says
    how the sensor size was obtained (``"preset"`` or ``"35mm-equivalent"``).
    """

    camera: CameraModel
    preset: str | None
    source: str


# -- JPEG segments ---------------------------------------------------------------------------


def _jpeg_structure(data: bytes, name: str) -> tuple[tuple[int, int] | None, list[bytes]]:
    """(width, height) from the first SOF segment and the XMP packets of the APP1 segments."""
    if data[:2] != b"\xff\xd8":
        raise InputError("not a JPEG file (no SOI marker); give .jpg photos", field=name)
    size: tuple[int, int] | None = None
    packets: list[bytes] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise InputError(f"corrupt JPEG: expected a marker at byte {pos}", field=name)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE_MARKERS:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI, or SOS: the entropy-coded image follows
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise InputError(f"corrupt JPEG: segment at byte {pos} runs past the end", field=name)
        body = data[pos + 4 : pos + 2 + length]
        if marker in _SOF_MARKERS and size is None and len(body) >= 5:
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            if width and height:
                size = (width, height)
        elif marker == 0xE1 and body.startswith(XMP_APP1_HEADER):
            packets.append(body[len(XMP_APP1_HEADER) :])
        pos += 2 + length
    return size, packets


# -- XMP ---------------------------------------------------------------------------------------


def _is_dji_namespace(uri: str | None) -> bool:
    return bool(uri) and ("dji.com/drone-dji" in str(uri))


def parse_dji_xmp(packet: bytes | str, name: str = "xmp") -> dict[str, str]:
    """The ``drone-dji`` fields of an XMP packet, by local name (``"RelativeAltitude"`` …).

    Both forms of ``rdf:Description`` are read: fields as attributes
    (``drone-dji:RelativeAltitude="+99.80"``, what DJI firmware writes) and as child elements
    (``<drone-dji:RelativeAltitude>+99.80</drone-dji:RelativeAltitude>``). The namespace is
    matched by URI (any version of ``http://www.dji.com/drone-dji/``), not by prefix.

    Raises
    ------
    InputError
        The packet is not well-formed XML (``field`` is ``name``).
    """
    raw = packet.encode("utf-8") if isinstance(packet, str) else packet
    raw = raw.rstrip(b"\x00 \t\r\n")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"malformed XMP packet ({exc})", field=name) from None
    fields: dict[str, str] = {}
    for description in root.iter(f"{{{_RDF_NAMESPACE}}}Description"):
        for key, value in description.attrib.items():
            qname = etree.QName(key)
            if _is_dji_namespace(qname.namespace):
                fields[qname.localname] = str(value).strip()
        for child in description:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            qname = etree.QName(child)
            if _is_dji_namespace(qname.namespace) and child.text is not None:
                fields[qname.localname] = child.text.strip()
    return fields


# -- EXIF --------------------------------------------------------------------------------------


def _tag_values(tags: Mapping[str, Any], key: str) -> list[Any] | None:
    tag = tags.get(key)
    if tag is None:
        return None
    values = getattr(tag, "values", None)
    if isinstance(values, list | tuple):
        return list(values)
    return [values]


def _tag_text(tags: Mapping[str, Any], key: str) -> str:
    tag = tags.get(key)
    if tag is None:
        return ""
    values = getattr(tag, "values", tag)
    text = values if isinstance(values, str) else str(tag)
    return text.replace("\x00", "").strip()


def _rational(value: Any) -> float:
    """An EXIF rational (exifread ``Ratio``) or number as a float; ``nan`` for 0/0."""
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if numerator is not None and denominator is not None:
        return float(numerator) / float(denominator) if denominator else math.nan
    return float(value)


def _tag_float(tags: Mapping[str, Any], key: str) -> float | None:
    values = _tag_values(tags, key)
    if not values:
        return None
    try:
        number = _rational(values[0])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _gps_degrees(tags: Mapping[str, Any], axis: str, name: str) -> float:
    """Signed degrees from GPS{axis} (degrees, minutes, seconds rationals) and its Ref."""
    values = _tag_values(tags, f"GPS GPS{axis}")
    ref = _tag_text(tags, f"GPS GPS{axis}Ref").upper()[:1]
    if not values:
        raise InputError(
            f"no GPS position (EXIF GPS{axis} missing); the photo must be geotagged to be "
            "placed on the site",
            field=name,
        )
    try:
        parts = [_rational(v) for v in values[:3]] + [0.0, 0.0]
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError(f"unreadable EXIF GPS{axis} {values!r}", field=name) from None
    degrees = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    valid_refs = ("N", "S") if axis == "Latitude" else ("E", "W")
    if ref not in valid_refs:
        raise InputError(
            f"EXIF GPS{axis}Ref must be {' or '.join(valid_refs)}, got {ref or 'nothing'!r}",
            field=name,
        )
    limit = 90.0 if axis == "Latitude" else 180.0
    if not (math.isfinite(degrees) and 0.0 <= degrees <= limit):
        raise InputError(f"EXIF GPS{axis} {degrees!r} deg is off the globe", field=name)
    return -degrees if ref in ("S", "W") else degrees


def _gps_altitude(tags: Mapping[str, Any]) -> float | None:
    altitude = _tag_float(tags, "GPS GPSAltitude")
    if altitude is None:
        return None
    ref = _tag_values(tags, "GPS GPSAltitudeRef")
    try:
        below = (
            ref is not None and len(ref) > 0 and int(ref[0]) == 1
        )  # 0: above sea level, 1: below
    except (TypeError, ValueError):
        below = False
    return -altitude if below else altitude


_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def _original_time(tags: Mapping[str, Any], name: str) -> datetime | None:
    text = _tag_text(tags, "EXIF DateTimeOriginal") or _tag_text(tags, "Image DateTime")
    if not text:
        return None
    try:
        when = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        raise InputError(
            f"EXIF DateTimeOriginal {text!r} is not 'YYYY:MM:DD HH:MM:SS'", field=name
        ) from None
    subsec = _tag_text(tags, "EXIF SubSecTimeOriginal")
    if subsec.isdigit():
        when = when.replace(microsecond=int((subsec + "000000")[:6]))
    offset = _tag_text(tags, "EXIF OffsetTimeOriginal") or _tag_text(tags, "EXIF OffsetTime")
    match = _OFFSET.match(offset)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        when = when.replace(tzinfo=timezone(sign * delta))
    elif offset:
        raise InputError(f"EXIF OffsetTimeOriginal {offset!r} is not '+HH:MM'", field=name)
    return when


def _xmp_float(fields: Mapping[str, str], key: str, name: str) -> float | None:
    text = fields.get(key)
    if text is None or text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"XMP drone-dji:{key} {text!r} is not a number", field=name) from None
    if not math.isfinite(number):
        raise InputError(f"XMP drone-dji:{key} {text!r} is not finite", field=name)
    return number


def read_photo(path: str | Path) -> PhotoMeta:
    """Read a JPEG photo's EXIF and DJI XMP metadata.

    Parameters
    ----------
    path
        A JPEG file.

    Returns
    -------
    PhotoMeta

    Raises
    ------
    InputError
        ``field`` is the file's path and the message says what is wrong: not a JPEG, no EXIF
        at all, no GPS position (latitude/longitude with their reference letters), an
        unreadable date or offset, a malformed XMP packet or a non-numeric drone-dji field.
    """
    file = Path(path)
    name = str(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the photo ({exc.strerror or exc})", field=name) from None
    size, packets = _jpeg_structure(data, name)
    tags: Mapping[str, Any] = exifread.process_file(io.BytesIO(data), details=False)
    if not tags:
        raise InputError(
            "no EXIF metadata (the camera's GPS position, time and lens are needed); "
            "use the original file from the drone, not an exported copy",
            field=name,
        )
    lat = _gps_degrees(tags, "Latitude", name)
    lon = _gps_degrees(tags, "Longitude", name)
    if size is None:
        width = _tag_values(tags, "EXIF ExifImageWidth")
        height = _tag_values(tags, "EXIF ExifImageLength")
        if not width or not height:
            raise InputError("no image size (no JPEG frame header, no EXIF size)", field=name)
        size = (int(width[0]), int(height[0]))
    xmp: dict[str, str] = {}
    for packet in packets:
        xmp.update(parse_dji_xmp(packet, name))
    xmp_values = {attr: _xmp_float(xmp, key, name) for key, attr in _XMP_FLOAT_FIELDS.items()}
    focal = _tag_float(tags, "EXIF FocalLength")
    focal35 = _tag_float(tags, "EXIF FocalLengthIn35mmFilm")
    return PhotoMeta(
        path=file,
        lat_deg=lat,
        lon_deg=lon,
        image_width_px=size[0],
        image_height_px=size[1],
        make=_tag_text(tags, "Image Make"),
        model=_tag_text(tags, "Image Model"),
        gps_alt_m=_gps_altitude(tags),
        time=_original_time(tags, name),
        focal_length_mm=focal if focal and focal > 0 else None,
        focal_length_35mm=focal35 if focal35 and focal35 > 0 else None,
        xmp=xmp,
        **xmp_values,
    )


# -- camera ------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


@lru_cache(maxsize=1)
def _exif_table() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(make, model codes, preset names) rows of data/inspection/exif_cameras.yaml."""
    resource = importlib.resources.files("plantwatch").joinpath(
        "data", "inspection", "exif_cameras.yaml"
    )
    try:
        document: Any = yaml.safe_load(resource.read_text(encoding="utf-8"))
        rows = tuple(
            (
                str(entry["make"]),
                tuple(str(m) for m in entry["models"]),
                tuple(str(p) for p in entry["presets"]),
            )
            for entry in document["models"]
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:  # pragma: no cover
        raise DataError(f"cannot read data/inspection/exif_cameras.yaml: {exc}") from exc
    unknown = [p for _, _, presets in rows for p in presets if p not in CAMERA_PRESETS]
    if unknown:  # pragma: no cover - packaging fault
        raise DataError(f"exif_cameras.yaml names unknown presets {unknown}")
    return rows


def _exif_models() -> dict[tuple[str, str], tuple[str, ...]]:
    """(normalised make, normalised model) -> preset names."""
    return {
        (_normalise(make), _normalise(model)): presets
        for make, models, presets in _exif_table()
        for model in models
    }


def exif_names_for_preset(preset: str) -> tuple[str, str] | None:
    """The EXIF (Make, Model) a preset camera writes (first listed), or ``None`` if unlisted."""
    for make, models, presets in _exif_table():
        if preset in presets:
            return make, models[0]
    return None


def sensor_from_35mm(
    focal_length_mm: float, focal_length_35mm: float, image_width_px: int, image_height_px: int
) -> tuple[float, float]:
    r"""Sensor width and height [mm] from the real and the 35 mm-equivalent focal length.

    .. math:: d = 43.27\,\mathrm{mm} \cdot \frac{f}{f_{35}}, \quad
              (w, h) = d \cdot \frac{(W, H)}{\sqrt{W^2 + H^2}}

    (crop factor as the ratio of the diagonals; the image's aspect ratio splits the diagonal).

    Raises
    ------
    InputError
        A value is not positive and finite.

    Examples
    --------
    >>> w, h = sensor_from_35mm(8.8, 24.0, 5472, 3648)  # Phantom 4 RTK: 13.2 x 8.8 mm
    >>> round(w, 2), round(h, 2)
    (13.2, 8.8)
    """
    for value, name in (
        (focal_length_mm, "FocalLength"),
        (focal_length_35mm, "FocalLengthIn35mmFilm"),
        (image_width_px, "image_width_px"),
        (image_height_px, "image_height_px"),
    ):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise InputError(f"must be a positive number, got {value!r}", field=name)
    diagonal_mm = FULL_FRAME_DIAGONAL_MM * focal_length_mm / focal_length_35mm
    diagonal_px = math.hypot(image_width_px, image_height_px)
    return diagonal_mm * image_width_px / diagonal_px, diagonal_mm * image_height_px / diagonal_px


def _presets_for(meta: PhotoMeta) -> tuple[str, ...]:
    key = (_normalise(meta.make), _normalise(meta.model))
    presets = _exif_models().get(key)
    if presets:
        return presets
    for candidate in (meta.model, f"{meta.make} {meta.model}"):
        if not _normalise(candidate):
            continue
        try:
            return (get_camera(candidate).name,)
        except InputError:
            continue
    return ()


def _crop_to_aspect(camera: CameraModel, width_px: int, height_px: int) -> tuple[float, float]:
    """Sensor area [mm] behind a photo of ``width_px`` x ``height_px`` from ``camera``.

    The largest centred rectangle of the photo's aspect ratio on the preset's sensor: the whole
    sensor for a photo of the preset's aspect (full size or downscaled), the native-pitch crop for
    the 4:3 or 16:9 modes of a 3:2 camera (and vice versa).
    """
    aspect = width_px / height_px
    sensor_aspect = camera.sensor_width_mm / camera.sensor_height_mm
    if aspect >= sensor_aspect:
        return camera.sensor_width_mm, camera.sensor_width_mm / aspect
    return camera.sensor_height_mm * aspect, camera.sensor_height_mm


def photo_camera(meta: PhotoMeta) -> PhotoCamera:
    """The camera model behind a photo, sized to its pixels (see the module notes).

    A preset is used when the EXIF Make/Model maps to one; where several presets share the
    code (a payload's lenses or zoom and wide cameras) the one whose focal length is nearest
    the EXIF FocalLength is chosen, and the EXIF FocalLength replaces the preset's when they
    differ by more than 5 % (a zoomed-in photo). Otherwise the sensor size is derived from
    ``FocalLengthIn35mmFilm`` (:func:`sensor_from_35mm`).

    Raises
    ------
    InputError
        An unknown camera without FocalLength and FocalLengthIn35mmFilm (``field`` is the file).
    """
    name = str(meta.path)
    width, height = meta.image_width_px, meta.image_height_px
    presets = _presets_for(meta)
    if presets:
        focal = meta.focal_length_mm
        chosen = min(
            (CAMERA_PRESETS[p] for p in presets),
            key=lambda cam: abs(math.log(cam.focal_length_mm / focal)) if focal else 0.0,
        )
        focal_mm = chosen.focal_length_mm
        if focal and abs(focal / focal_mm - 1.0) > _FOCAL_MATCH_TOLERANCE:
            focal_mm = focal
        sensor_w, sensor_h = _crop_to_aspect(chosen, width, height)
        camera = custom_camera(
            chosen.name, sensor_w, sensor_h, width, height, focal_mm, source=chosen.source
        )
        return PhotoCamera(camera, chosen.name, "preset")
    if meta.focal_length_mm is None or meta.focal_length_35mm is None:
        missing = [
            tag
            for tag, value in (
                ("FocalLength", meta.focal_length_mm),
                ("FocalLengthIn35mmFilm", meta.focal_length_35mm),
            )
            if value is None
        ]
        raise InputError(
            f"camera {meta.camera_label!r} is not a preset and EXIF {' and '.join(missing)} "
            "is missing, so its sensor size is unknown; add it to "
            "data/inspection/exif_cameras.yaml",
            field=name,
        )
    sensor_w, sensor_h = sensor_from_35mm(
        meta.focal_length_mm, meta.focal_length_35mm, width, height
    )
    camera = custom_camera(
        meta.camera_label,
        sensor_w,
        sensor_h,
        width,
        height,
        meta.focal_length_mm,
        source=(
            f"derived from EXIF FocalLength {meta.focal_length_mm:g} mm and "
            f"FocalLengthIn35mmFilm {meta.focal_length_35mm:g} mm (diagonal crop factor)"
        ),
    )
    return PhotoCamera(camera, None, "35mm-equivalent")
