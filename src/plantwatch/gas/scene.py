"""Scene description of a simulated gas-camera clip: what is where, validated at the boundary.

A scene file (YAML) names the gas, the leak, the wind, the camera, the solid objects (pipes,
pipe racks, tanks, boxes, spheres — each with its temperature and emissivity) and optional
moving distractors. Everything is in SI units with the unit in the field name; positions are
local ENU metres (x east, y north, z up, ground at z = 0). ``docs/scene-format.md`` documents
every field; ``examples/scenes/`` has working files.

Validation happens here, once: a bad file raises ``InputError`` naming the field
(``leak.rate_g_s: must be > 0, got -1``) before anything is simulated or written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plantwatch.errors import InputError

__all__ = [
    "AtmosphereSpec",
    "BoxSpec",
    "CameraSpec",
    "DistractorSpec",
    "GroundSpec",
    "LeakSpec",
    "ObjectSpec",
    "PipeRackSpec",
    "PipeSpec",
    "SceneSpec",
    "SphereSpec",
    "TankSpec",
    "WindSpec",
    "load_scene",
    "scene_from_dict",
]

Vec3 = tuple[float, float, float]
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class _Spec(BaseModel):
    model_config = _STRICT


class CameraSpec(_Spec):
    """Gas camera: FLIR GF320-class defaults (320x240 InSb, 24x18 deg, 3.2-3.4 um, 15 mK)."""

    width_px: int = Field(320, ge=16, le=2048)
    height_px: int = Field(240, ge=16, le=2048)
    hfov_deg: float = Field(24.0, gt=0, lt=170)
    vfov_deg: float | None = Field(18.0, gt=0, lt=170)  # None: square pixels from the aspect
    band: Literal["mwir", "lwir"] = "mwir"
    netd_mk: float = Field(15.0, ge=0, le=500)  # noise-equivalent temperature difference
    fixed_pattern_mk: float = Field(4.0, ge=0, le=500)  # residual non-uniformity after NUC
    fps: float = Field(30.0, gt=0, le=240)
    position_m: Vec3 = (0.0, -10.0, 1.5)
    look_at_m: Vec3 | None = None  # aim at a point; otherwise yaw/pitch/roll
    yaw_deg: float = 0.0  # heading of the optical axis, clockwise from north
    pitch_deg: float = Field(0.0, ge=-90, le=90)  # + up
    roll_deg: float = 0.0
    vibration_px: float = Field(0.0, ge=0, le=50)  # rms image jitter (hand-held / mast sway)
    vibration_hz: float = Field(6.0, gt=0, le=100)  # dominant frequency of the jitter

    @property
    def vfov(self) -> float:
        if self.vfov_deg is not None:
            return self.vfov_deg
        half = math.radians(self.hfov_deg) / 2
        return math.degrees(2 * math.atan(math.tan(half) * self.height_px / self.width_px))


class LeakSpec(_Spec):
    """The leak: position, jet direction, exit speed, and rate (g/s or standard L/min)."""

    position_m: Vec3
    direction: Vec3 = (0.0, 0.0, 1.0)
    exit_speed_m_s: float = Field(10.0, ge=0, le=1000)
    rate_g_s: float | None = Field(None, gt=0, le=1e5)
    rate_l_min: float | None = Field(None, gt=0, le=1e7)  # at 20 degC, 1 atm
    orifice_diameter_mm: float | None = Field(None, gt=0, le=1000)

    @model_validator(mode="after")
    def _one_rate(self) -> LeakSpec:
        if (self.rate_g_s is None) == (self.rate_l_min is None):
            raise ValueError("give exactly one of rate_g_s or rate_l_min")
        if all(v == 0 for v in self.direction):
            raise ValueError("direction must be a non-zero vector")
        return self


class WindSpec(_Spec):
    speed_m_s: float = Field(1.5, ge=0, le=30)
    from_deg: float = 270.0  # meteorological: where the wind comes from, clockwise from north
    gust_intensity: float = Field(0.15, ge=0, le=1)
    gust_time_s: float = Field(3.0, gt=0, le=600)
    direction_jitter_deg: float = Field(10.0, ge=0, le=90)
    turbulence_intensity: float = Field(0.2, ge=0, le=1)
    length_scale_m: float = Field(4.0, gt=0, le=500)
    lagrangian_time_s: float = Field(2.0, gt=0, le=600)


class AtmosphereSpec(_Spec):
    air_temperature_k: float = Field(293.15, ge=200, le=340)
    sky: Literal["clear", "hazy", "overcast"] = "clear"
    sun_elevation_deg: float = Field(35.0, ge=-90, le=90)
    sun_azimuth_deg: float = 180.0  # clockwise from north
    solar_heating_k: float = Field(8.0, ge=0, le=60)  # surface warming facing the sun


class _Thermal(_Spec):
    temperature_offset_k: float = Field(0.0, ge=-90, le=700)  # relative to the air
    emissivity: float = Field(0.9, gt=0, le=1)
    texture_k: float = Field(0.5, ge=0, le=50)  # rms spatial temperature variation


class GroundSpec(_Thermal):
    enabled: bool = True
    height_m: float = 0.0
    temperature_offset_k: float = Field(3.0, ge=-90, le=700)
    emissivity: float = Field(0.95, gt=0, le=1)
    texture_k: float = Field(1.0, ge=0, le=50)


class PipeSpec(_Thermal):
    type: Literal["pipe"]
    start_m: Vec3
    end_m: Vec3
    diameter_m: float = Field(gt=0, le=20)
    emissivity: float = Field(0.85, gt=0, le=1)


class PipeRackSpec(_Thermal):
    """Parallel horizontal pipes stacked vertically (``count`` pipes, ``spacing_m`` apart)."""

    type: Literal["pipe_rack"]
    start_m: Vec3  # lowest pipe
    end_m: Vec3
    count: int = Field(3, ge=1, le=50)
    spacing_m: float = Field(0.4, gt=0, le=20)
    diameter_m: float = Field(0.2, gt=0, le=5)
    emissivity: float = Field(0.85, gt=0, le=1)


class TankSpec(_Thermal):
    type: Literal["tank"]
    base_center_m: Vec3
    diameter_m: float = Field(gt=0, le=200)
    height_m: float = Field(gt=0, le=200)


class BoxSpec(_Thermal):
    type: Literal["box"]
    center_m: Vec3
    size_m: Vec3
    yaw_deg: float = 0.0

    @field_validator("size_m")
    @classmethod
    def _positive(cls, value: Vec3) -> Vec3:
        if min(value) <= 0:
            raise ValueError("every size must be > 0")
        return value


class SphereSpec(_Thermal):
    type: Literal["sphere"]
    center_m: Vec3
    diameter_m: float = Field(gt=0, le=200)


ObjectSpec = Annotated[
    PipeSpec | PipeRackSpec | TankSpec | BoxSpec | SphereSpec, Field(discriminator="type")
]


class DistractorSpec(_Spec):
    """Moving things real gas-camera footage contains besides gas.

    * ``steam``: a warm, optically thick water-droplet plume from ``position_m`` (grey body).
    * ``person`` / ``vehicle``: a warm body moving from ``start_m`` to ``end_m``.
    * ``vegetation``: foliage around ``position_m`` whose texture sways in the wind.
    """

    type: Literal["steam", "person", "vehicle", "vegetation"]
    position_m: Vec3 | None = None
    start_m: Vec3 | None = None
    end_m: Vec3 | None = None
    speed_m_s: float = Field(1.2, ge=0, le=40)
    temperature_offset_k: float = Field(15.0, ge=-90, le=300)
    size_m: float = Field(1.0, gt=0, le=20)
    rate_g_s: float = Field(20.0, gt=0, le=1e4)  # steam only

    @model_validator(mode="after")
    def _where(self) -> DistractorSpec:
        if self.type in ("steam", "vegetation") and self.position_m is None:
            raise ValueError(f"{self.type} needs position_m")
        if self.type in ("person", "vehicle") and (self.start_m is None or self.end_m is None):
            raise ValueError(f"{self.type} needs start_m and end_m")
        return self


class SceneSpec(_Spec):
    """One clip: gas, leak, weather, camera, solid objects, distractors."""

    name: str = "scene"
    description: str = ""
    species: str = "methane"
    frames: int = Field(32, ge=2, le=2000)
    leak: LeakSpec | None = None  # None: a no-leak clip (false-alarm testing)
    wind: WindSpec = WindSpec()
    atmosphere: AtmosphereSpec = AtmosphereSpec()
    camera: CameraSpec = CameraSpec()
    ground: GroundSpec = GroundSpec()
    objects: list[ObjectSpec] = Field(default_factory=list, max_length=500)
    distractors: list[DistractorSpec] = Field(default_factory=list, max_length=50)

    @field_validator("species")
    @classmethod
    def _known_species(cls, value: str) -> str:
        from plantwatch.gas.species import SPECIES_NAMES

        name = value.strip().lower()
        if name not in SPECIES_NAMES:
            raise ValueError(f"unknown species {value!r}; valid: {', '.join(SPECIES_NAMES)}")
        return name


def _format_validation_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    detail = msg
    if got is not None and not isinstance(got, dict | list) and "got" not in msg:
        detail = f"{msg} (got {got!r})"
    return InputError(detail, field=loc or None)


def scene_from_dict(data: dict[str, Any]) -> SceneSpec:
    """Validate a scene mapping; ``InputError`` names the first bad field."""
    if not isinstance(data, dict):
        raise InputError(f"a scene must be a mapping of fields, got {type(data).__name__}")
    try:
        return SceneSpec.model_validate(data)
    except ValidationError as exc:
        raise _format_validation_error(exc) from None


def load_scene(path: str | Path) -> SceneSpec:
    """Read and validate a YAML (or JSON) scene file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"scene file {str(p)!r} not found; give a path to a .yaml scene or 'random'"
        )
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"scene file {str(p)!r} is not valid YAML{where}") from None
    if data is None:
        raise InputError(f"scene file {str(p)!r} is empty")
    return scene_from_dict(data)
