"""Airspace layers the user supplies as GeoJSON: DIDs, airport surfaces, protected sites, ports.

The compliance engine needs to know whether the route enters airspace that the Aviation Act,
the Small Unmanned Aircraft Prohibition Act or the port and maritime acts restrict. Those maps
are published by the government (GSI's densely inhabited districts from the census, MLIT's
airport-surface maps, the National Police Agency's lists of protected sites, port limits); the
engine must work offline, so the user exports the relevant parts as GeoJSON into one folder:

==========================  =======================================================  ==========
file                        features                                                 needed
==========================  =======================================================  ==========
``did.geojson``             densely inhabited districts (人口集中地区)               yes
``airport_surfaces.geojson`` airport surfaces; ``floor_m`` (or ``height_m``): height  yes
                            above the site's ground above which flight is restricted,
                            optional ``ceiling_m``
``small_uav_act.geojson``   protected sites (対象施設) of the Small UAV Act; the     yes
                            engine adds the ~300 m surrounding zone
                            (:data:`SMALL_UAV_ACT_ZONE_M`)
``port.geojson``            port limits and fairways (港則法, 海上交通安全法)         yes
``emergency.geojson``       emergency-use airspace (緊急用務空域) declared for a      no
                            disaster; usually declared on the day, so the operation
                            file's ``emergency_airspace`` or a person answers instead
==========================  =======================================================  ==========

Each file is a FeatureCollection (WGS84, RFC 7946) of ``Polygon``/``MultiPolygon`` features
with optional ``properties.id`` and ``properties.name``. A layer that is missing from the folder
is *unknown*: the rules that need it become questions for a person, never a silent "ok".

:func:`load_airspace` converts every polygon to the site's local ENU frame (``Site.from_wgs84``)
and raises :class:`~plantwatch.errors.InputError` naming the file, the feature and the field
when a layer is malformed. :func:`resolve_airspace` decides which folder to use
(``--airspace``, the operation file's ``airspace``, ``PLAN_DIR/airspace/``, a packaged sample set
made for the site, or none) and says which.

A sample layer set ships for the example site (``plantwatch/data/airspace/``; an index in
``sets.yaml``): ``tank_farm`` (the layers around the example Tokyo Bay tank farm, illustrative)
and ``did_over_site`` (the same with a DID that reaches over the west of the plant).

References
----------
.. [1] Aviation Act (航空法) Art. 132 (1) (i) (airport surfaces), (ii) (DIDs), Art. 132-85.
.. [2] Act on the Prohibition of Flights of Small Unmanned Aircraft over the Premises of
   Important Facilities (小型無人機等飛行禁止法) Art. 10; its designated areas are the premises
   plus about 300 m around them (MHLW-2022 §2.2.1).
.. [3] Port Regulations Act (港則法) Art. 31, 32; Maritime Traffic Safety Act (海上交通安全法)
   Art. 40, 41 (MHLW-2022 §2.2.2, §2.2.3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from plantwatch.drone.model import Site
from plantwatch.errors import InputError

if TYPE_CHECKING:
    from plantwatch.drone.operation import Operation

__all__ = [
    "LAYERS",
    "REQUIRED_LAYERS",
    "SMALL_UAV_ACT_ZONE_M",
    "Airspace",
    "AirspaceArea",
    "load_airspace",
    "packaged_airspace_dir",
    "packaged_airspace_sets",
    "resolve_airspace",
]

LAYERS: tuple[str, ...] = ("did", "airport_surfaces", "small_uav_act", "port", "emergency")
"""Layer names; the file of layer ``name`` is ``<name>.geojson``."""

REQUIRED_LAYERS: tuple[str, ...] = ("did", "airport_surfaces", "small_uav_act", "port")
"""Layers whose absence leaves a fact unknown (its rule becomes a question)."""

SMALL_UAV_ACT_ZONE_M = 300.0
"""Width of the surrounding zone of a Small UAV Act protected site [m] (Act Art. 10: "about
300 m" around the designated premises; MHLW-2022 §2.2.1)."""


@dataclass(frozen=True)
class AirspaceArea:
    """One restricted area of a layer, in the site's ENU frame.

    ``polygon`` is the restricted footprint (for ``small_uav_act``: the premises grown by
    :data:`SMALL_UAV_ACT_ZONE_M`; ``premises`` keeps the original). Flight is restricted between
    ``floor_m`` and ``ceiling_m`` above the site's ground (0 and inf unless the layer says).
    """

    layer: str
    id: str
    name: str
    polygon: BaseGeometry
    floor_m: float = 0.0
    ceiling_m: float = math.inf
    premises: BaseGeometry | None = None
    properties: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Airspace:
    """The airspace layers around one site.

    ``layers`` names the layers that were supplied (an empty layer file is supplied and empty);
    ``source`` says where they came from, for the report.
    """

    areas: tuple[AirspaceArea, ...]
    layers: tuple[str, ...]
    source: str = ""

    def has(self, layer: str) -> bool:
        """Whether layer ``layer`` was supplied."""
        return layer in self.layers

    def of(self, layer: str) -> tuple[AirspaceArea, ...]:
        """The areas of one layer."""
        return tuple(a for a in self.areas if a.layer == layer)


def _feature_error(
    file: str, index: int, feature_id: str | None, field: str, msg: str
) -> InputError:
    named = f" (id {feature_id!r})" if feature_id else ""
    return InputError(msg, field=f"{file} features[{index}]{named}.{field}")


def _ring_lonlat(file: str, index: int, fid: str | None, ring: object, where: str) -> np.ndarray:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _feature_error(file, index, fid, where, "a linear ring needs >= 4 positions")
    try:
        coords = np.array([[float(p[0]), float(p[1])] for p in ring], dtype=np.float64)
    except (TypeError, ValueError, IndexError):
        raise _feature_error(
            file, index, fid, where, "positions must be [lon, lat] number pairs"
        ) from None
    if not np.isfinite(coords).all():
        raise _feature_error(file, index, fid, where, "positions must be finite numbers")
    if np.any(np.abs(coords[:, 0]) > 180.0) or np.any(np.abs(coords[:, 1]) > 90.0):
        raise _feature_error(
            file,
            index,
            fid,
            where,
            "positions are [lon, lat] in degrees (|lon| <= 180, |lat| <= 90)",
        )
    if not np.allclose(coords[0], coords[-1]):
        raise _feature_error(file, index, fid, where, "a linear ring must end where it starts")
    return coords


def _polygon_enu(
    site: Site, file: str, index: int, fid: str | None, rings: object, where: str
) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _feature_error(file, index, fid, where, "a Polygon needs a list of linear rings")
    converted = []
    for ring_index, ring in enumerate(rings):
        lonlat = _ring_lonlat(file, index, fid, ring, f"{where}[{ring_index}]")
        lat_lon_h = np.column_stack([lonlat[:, 1], lonlat[:, 0], np.zeros(len(lonlat))])
        converted.append(site.from_wgs84(lat_lon_h)[:, :2])
    polygon = Polygon(converted[0], converted[1:])
    if not polygon.is_valid:
        raise _feature_error(
            file, index, fid, where, f"invalid polygon: {explain_validity(polygon)}"
        )
    return polygon


def _height(
    file: str, index: int, fid: str | None, props: Mapping[str, Any], key: str
) -> float | None:
    value = props.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _feature_error(
            file, index, fid, f"properties.{key}", f"must be a finite number [m], got {value!r}"
        )
    return float(value)


def _read_layer(path: Path, layer: str, site: Site) -> list[AirspaceArea]:
    file = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", field=file) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field=file
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InputError('must be a GeoJSON FeatureCollection ("type": "FeatureCollection")', file)
    features = data.get("features")
    if not isinstance(features, list):
        raise InputError("features must be a list of GeoJSON Features", field=file)
    areas: list[AirspaceArea] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _feature_error(file, index, None, "type", 'must be a GeoJSON "Feature"')
        raw_props = feature.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        raw_id = props.get("id", feature.get("id"))
        fid = str(raw_id) if raw_id is not None else None
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            got = geometry.get("type") if isinstance(geometry, dict) else geometry
            raise _feature_error(
                file, index, fid, "geometry", f"must be a Polygon or MultiPolygon, got {got!r}"
            )
        coordinates = geometry.get("coordinates")
        if geometry["type"] == "Polygon":
            shape: BaseGeometry = _polygon_enu(
                site, file, index, fid, coordinates, "geometry.coordinates"
            )
        else:
            if not isinstance(coordinates, list) or not coordinates:
                raise _feature_error(
                    file, index, fid, "geometry.coordinates", "a MultiPolygon needs polygons"
                )
            parts = [
                _polygon_enu(site, file, index, fid, rings, f"geometry.coordinates[{i}]")
                for i, rings in enumerate(coordinates)
            ]
            shape = MultiPolygon(parts)
            if not shape.is_valid:
                raise _feature_error(
                    file, index, fid, "geometry", f"invalid: {explain_validity(shape)}"
                )
        floor = _height(file, index, fid, props, "floor_m")
        if floor is None:
            floor = _height(file, index, fid, props, "height_m")
        ceiling = _height(file, index, fid, props, "ceiling_m")
        floor = 0.0 if floor is None else floor
        ceiling = math.inf if ceiling is None else ceiling
        if ceiling <= floor:
            raise _feature_error(
                file, index, fid, "properties.ceiling_m", f"must be above floor_m ({floor:g} m)"
            )
        premises = None
        if layer == "small_uav_act":
            premises = shape
            shape = shapely.buffer(shape, SMALL_UAV_ACT_ZONE_M, quad_segs=16)
        areas.append(
            AirspaceArea(
                layer=layer,
                id=fid or f"{layer}-{index}",
                name=str(props.get("name") or fid or f"{layer} feature {index}"),
                polygon=shape,
                floor_m=floor,
                ceiling_m=ceiling,
                premises=premises,
                properties=dict(props),
            )
        )
    return areas


def load_airspace(directory: str | Path, site: Site, *, source: str | None = None) -> Airspace:
    """Read the airspace layers of a folder into the site's ENU frame.

    Parameters
    ----------
    directory
        Folder with ``<layer>.geojson`` files (see the module docstring); other files and
        sub-folders are ignored, but a ``*.geojson`` that is not a known layer is an error
        (a misspelt layer would otherwise be silently missing).
    site
        The site whose ENU frame the polygons are converted to.
    source
        How the folder was chosen (for the report); default: its path.

    Returns
    -------
    airspace
        Areas of every supplied layer.

    Raises
    ------
    InputError
        The folder is missing, a file is not a layer, is not JSON or not a FeatureCollection,
        or a feature is not a valid (Multi)Polygon in lon/lat, or has a bad ``floor_m``/
        ``height_m``/``ceiling_m`` (file, feature index and id, field named).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"no such folder: {str(folder)!r}", field="--airspace")
    areas: list[AirspaceArea] = []
    layers: list[str] = []
    for path in sorted(folder.glob("*.geojson")):
        layer = path.stem
        if layer not in LAYERS:
            raise InputError(
                f"not an airspace layer; layer files are "
                f"{', '.join(name + '.geojson' for name in LAYERS)}",
                field=path.name,
            )
        areas.extend(_read_layer(path, layer, site))
        layers.append(layer)
    return Airspace(areas=tuple(areas), layers=tuple(layers), source=source or str(folder))


# -- which folder -----------------------------------------------------------------------------


def packaged_airspace_dir() -> Path:
    """Folder of the packaged sample layer sets (``plantwatch/data/airspace``)."""
    return Path(str(resources.files("plantwatch") / "data" / "airspace"))


def packaged_airspace_sets() -> dict[str, dict[str, Any]]:
    """The packaged sample sets from ``sets.yaml``: name -> {site, default, description}."""
    from plantwatch.drone.regdata import read_yaml
    from plantwatch.errors import DataError

    index = packaged_airspace_dir() / "sets.yaml"
    if not index.is_file():
        return {}
    raw = read_yaml(index, error=DataError)
    if not isinstance(raw, dict):
        raise DataError("data/airspace/sets.yaml: must map set names to {site, default, …}")
    return {str(name): dict(entry) for name, entry in raw.items() if isinstance(entry, dict)}


def resolve_airspace(
    explicit: str | Path | None,
    operation: Operation | None,
    plan_dir: str | Path,
    site: Site,
) -> tuple[Path | None, str]:
    """Choose the airspace folder for a check, and say why.

    In this order:

    1. ``explicit`` (``--airspace DIR``);
    2. the operation file's ``airspace``: a folder relative to the operation file (or
       absolute) if one exists, else the name of a packaged sample set;
    3. ``PLAN_DIR/airspace/`` (next to the plan's ``site.geojson``);
    4. the packaged sample set marked ``default: true`` for a site of this name;
    5. none: the airspace rules become questions for a person.

    Returns
    -------
    folder, description
        The folder (``None`` for none) and one line saying which was chosen and why.

    Raises
    ------
    InputError
        ``explicit`` is not a folder, or the operation's ``airspace`` is neither a folder nor
        a packaged set.
    """
    if explicit is not None:
        folder = Path(explicit)
        if not folder.is_dir():
            raise InputError(f"no such folder: {str(folder)!r}", field="--airspace")
        return folder, f"airspace layers from --airspace {folder}"
    sets = packaged_airspace_sets()
    if operation is not None and operation.airspace:
        name = operation.airspace
        base = operation.source_path.parent if operation.source_path else Path.cwd()
        candidate = Path(name) if Path(name).is_absolute() else base / name
        if candidate.is_dir():
            return candidate, f"airspace layers from the operation file: {candidate}"
        if name in sets:
            folder = packaged_airspace_dir() / name
            return folder, f"packaged sample airspace set {name!r} named by the operation file"
        raise InputError(
            f"{name!r} is neither a folder (relative to the operation file) nor a packaged "
            f"sample set ({', '.join(sets) or 'none'})",
            field="airspace",
        )
    beside = Path(plan_dir) / "airspace"
    if beside.is_dir():
        return beside, f"airspace layers next to the plan: {beside}"
    for name, entry in sets.items():
        if entry.get("default") is True and entry.get("site") == site.name:
            folder = packaged_airspace_dir() / name
            return folder, (
                f"packaged sample airspace set {name!r} (made for the example site "
                f"{site.name!r}; illustrative, not official data)"
            )
    return None, (
        "no airspace layers (give --airspace DIR): DID, airport-surface, Small-UAV-Act and "
        "port rules need a person's answer"
    )
