"""Pinhole camera: intrinsics, attitude, projection and per-pixel rays.

Frames (fixed for all of plantwatch):

* **World**: local ENU [m] — x east, y north, z up.
* **Camera**: OpenCV — x right, y down, z forward along the optical axis [m].
* **Pixels**: ``u`` = column, ``v`` = row, pixel centres at integers, principal point at
  ``((W - 1) / 2, (H - 1) / 2)`` [px]; the outer pixel *edges* (``u = -0.5`` and ``u = W - 0.5``)
  lie at ``-/+ HFOV / 2``.

Attitude: ``yaw_deg`` is the heading of the optical axis clockwise from north (0 looks north, 90
looks east), ``pitch_deg`` its elevation (+ up), ``roll_deg`` a rotation about the optical axis,
+ clockwise as seen from behind the camera (the image content then turns counter-clockwise). At
yaw = pitch = roll = 0 camera x = world +x, camera y = world -z and camera z = world +y.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from plantwatch.errors import InputError

__all__ = ["PinholeCamera"]

Vector3 = tuple[float, float, float]


def _finite_float(value: object, field: str) -> float:
    """``value`` as a finite float, else :class:`InputError` naming ``field``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"must be a finite number, got {value!r}", field=field) from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InputError(f"must be a finite number, got {value!r}", field=field)
    return number


def _finite_vector3(value: object, field: str) -> Vector3:
    """``value`` as a tuple of three finite floats, else :class:`InputError` naming ``field``."""
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:
        raise InputError(f"must be three finite numbers (x, y, z), got {value!r}", field) from None
    if len(items) != 3:
        raise InputError(f"must be three finite numbers (x, y, z), got {value!r}", field=field)
    x, y, z = (_finite_float(item, field) for item in items)
    return (x, y, z)


def _cos_sin_deg(angle_deg: float) -> tuple[float, float]:
    """``(cos, sin)`` of an angle [deg], exact at multiples of 90 deg (no 6e-17 residues)."""
    quarter, remainder = divmod(angle_deg, 90.0)
    if remainder == 0.0:
        return ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[int(quarter) % 4]
    angle = math.radians(angle_deg)
    return math.cos(angle), math.sin(angle)


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"must be an integer >= 1, got {value!r}", field=field)
    return int(value)


def _fov_deg(value: object, field: str) -> float:
    number = _finite_float(value, field)
    if not 0.0 < number < 180.0:
        raise InputError(f"must lie in the open interval (0, 180) deg, got {value!r}", field)
    return number


@dataclass(frozen=True)
class PinholeCamera:
    r"""An ideal pinhole camera placed and oriented in the world (ENU) frame.

    Parameters
    ----------
    width_px, height_px
        Image size [px], ``W`` and ``H``.
    hfov_deg, vfov_deg
        Full horizontal and vertical field of view [deg], in (0, 180).
    position_m
        Optical centre in the world frame [m].
    yaw_deg
        Heading of the optical axis, clockwise from north [deg].
    pitch_deg
        Elevation of the optical axis, + up [deg], in [-90, 90].
    roll_deg
        Rotation about the optical axis, + clockwise seen from behind the camera [deg].

    Notes
    -----
    Intrinsics:

    .. math::

        f_x = \frac{W / 2}{\tan(\mathrm{HFOV} / 2)}, \quad
        f_y = \frac{H / 2}{\tan(\mathrm{VFOV} / 2)}, \quad
        c_x = \frac{W - 1}{2}, \quad c_y = \frac{H - 1}{2}

    With yaw :math:`\psi`, pitch :math:`\theta` and roll :math:`\varphi`, the camera axes in
    the world frame are

    .. math::

        \hat f &= (\cos\theta \sin\psi,\ \cos\theta \cos\psi,\ \sin\theta) \\
        \hat r_0 &= (\cos\psi,\ -\sin\psi,\ 0), \quad \hat d_0 = \hat f \times \hat r_0 \\
        \hat r &= \cos\varphi\, \hat r_0 + \sin\varphi\, \hat d_0, \quad
        \hat d = -\sin\varphi\, \hat r_0 + \cos\varphi\, \hat d_0

    and :math:`R = [\hat r; \hat d; \hat f]` (rows) maps world offsets to camera coordinates,
    :math:`p_c = R (p_w - C)`.

    Examples
    --------
    >>> cam = PinholeCamera()
    >>> round(cam.fx_px, 2)
    752.74
    >>> u, v, depth = cam.project([0.0, 10.0, 1.5])
    >>> float(u), float(v), float(depth)
    (159.5, 119.5, 10.0)
    """

    width_px: int = 320  # image columns W [px]
    height_px: int = 240  # image rows H [px]
    hfov_deg: float = 24.0  # full horizontal field of view [deg]
    vfov_deg: float = 18.0  # full vertical field of view [deg]
    position_m: Vector3 = (0.0, 0.0, 1.5)  # optical centre, world ENU [m]
    yaw_deg: float = 0.0  # heading of the optical axis, clockwise from north [deg]
    pitch_deg: float = 0.0  # elevation of the optical axis, + up [deg]
    roll_deg: float = 0.0  # about the optical axis, + clockwise seen from behind [deg]

    def __post_init__(self) -> None:
        pitch = _finite_float(self.pitch_deg, "pitch_deg")
        if not -90.0 <= pitch <= 90.0:
            raise InputError(f"must lie in [-90, 90] deg, got {self.pitch_deg!r}", "pitch_deg")
        normalised = {
            "width_px": _positive_int(self.width_px, "width_px"),
            "height_px": _positive_int(self.height_px, "height_px"),
            "hfov_deg": _fov_deg(self.hfov_deg, "hfov_deg"),
            "vfov_deg": _fov_deg(self.vfov_deg, "vfov_deg"),
            "position_m": _finite_vector3(self.position_m, "position_m"),
            "yaw_deg": _finite_float(self.yaw_deg, "yaw_deg"),
            "pitch_deg": pitch,
            "roll_deg": _finite_float(self.roll_deg, "roll_deg"),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    # -- intrinsics -------------------------------------------------------------------------

    @property
    def fx_px(self) -> float:
        """Horizontal focal length ``(W / 2) / tan(HFOV / 2)`` [px]."""
        return (self.width_px / 2.0) / math.tan(math.radians(self.hfov_deg) / 2.0)

    @property
    def fy_px(self) -> float:
        """Vertical focal length ``(H / 2) / tan(VFOV / 2)`` [px]."""
        return (self.height_px / 2.0) / math.tan(math.radians(self.vfov_deg) / 2.0)

    @property
    def cx_px(self) -> float:
        """Principal point column ``(W - 1) / 2`` [px]."""
        return (self.width_px - 1) / 2.0

    @property
    def cy_px(self) -> float:
        """Principal point row ``(H - 1) / 2`` [px]."""
        return (self.height_px - 1) / 2.0

    @property
    def intrinsic_matrix(self) -> NDArray[np.float64]:
        """``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` [px], shape (3, 3)."""
        return np.array(
            [[self.fx_px, 0.0, self.cx_px], [0.0, self.fy_px, self.cy_px], [0.0, 0.0, 1.0]]
        )

    # -- extrinsics -------------------------------------------------------------------------

    @property
    def rotation_world_to_camera(self) -> NDArray[np.float64]:
        """``R``, shape (3, 3): rows are the camera x (right), y (down), z (forward) axes in
        the world frame, so ``p_cam = R @ (p_world - position)``."""
        cos_yaw, sin_yaw = _cos_sin_deg(self.yaw_deg)
        cos_pitch, sin_pitch = _cos_sin_deg(self.pitch_deg)
        cos_roll, sin_roll = _cos_sin_deg(self.roll_deg)
        forward = np.array([cos_pitch * sin_yaw, cos_pitch * cos_yaw, sin_pitch])
        right0 = np.array([cos_yaw, -sin_yaw, 0.0])
        down0 = np.cross(forward, right0)
        right = cos_roll * right0 + sin_roll * down0
        down = -sin_roll * right0 + cos_roll * down0
        return np.stack([right, down, forward])

    @property
    def forward_unit(self) -> NDArray[np.float64]:
        """Optical axis (camera +z) in the world frame [-], shape (3,)."""
        return self.rotation_world_to_camera[2]

    @property
    def right_unit(self) -> NDArray[np.float64]:
        """Image right (camera +x) in the world frame [-], shape (3,)."""
        return self.rotation_world_to_camera[0]

    @property
    def down_unit(self) -> NDArray[np.float64]:
        """Image down (camera +y) in the world frame [-], shape (3,)."""
        return self.rotation_world_to_camera[1]

    # -- transforms -------------------------------------------------------------------------

    def world_to_camera(self, points_m: ArrayLike) -> NDArray[np.float64]:
        r"""World points [m], shape (..., 3) -> camera-frame points [m], shape (..., 3).

        .. math:: p_c = R\,(p_w - C)
        """
        points = _as_xyz_array(points_m, "points_m")
        offset = points - np.asarray(self.position_m)
        return offset @ self.rotation_world_to_camera.T

    def camera_to_world(self, points_cam_m: ArrayLike) -> NDArray[np.float64]:
        r"""Camera-frame points [m], shape (..., 3) -> world points [m], shape (..., 3).

        .. math:: p_w = R^\top p_c + C
        """
        points = _as_xyz_array(points_cam_m, "points_cam_m")
        return points @ self.rotation_world_to_camera + np.asarray(self.position_m)

    def project(
        self, points_m: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        r"""Project world points onto the image.

        Parameters
        ----------
        points_m
            World points [m], shape (..., 3).

        Returns
        -------
        u_px, v_px
            Column and row [px], shape (...); ``nan`` for points with ``depth_m <= 0``. Points
            outside the image are projected all the same (no clipping).
        depth_m
            Depth along the optical axis, camera z [m], shape (...); ``<= 0`` behind the camera.

        Notes
        -----
        .. math:: u = f_x\, x_c / z_c + c_x, \quad v = f_y\, y_c / z_c + c_y
        """
        cam = self.world_to_camera(points_m)
        depth = cam[..., 2]
        in_front = depth > 0.0
        safe_depth = np.where(in_front, depth, 1.0)
        u = np.where(in_front, self.fx_px * cam[..., 0] / safe_depth + self.cx_px, np.nan)
        v = np.where(in_front, self.fy_px * cam[..., 1] / safe_depth + self.cy_px, np.nan)
        return u, v, depth

    # -- per-pixel rays ---------------------------------------------------------------------

    def _pixel_rays_camera(self) -> NDArray[np.float64]:
        """Unnormalised camera-frame rays ``((u - cx)/fx, (v - cy)/fy, 1)``, shape (H, W, 3)."""
        height, width = self.height_px, self.width_px
        x = (np.arange(width, dtype=np.float64) - self.cx_px) / self.fx_px
        y = (np.arange(height, dtype=np.float64) - self.cy_px) / self.fy_px
        rays = np.empty((height, width, 3))
        rays[..., 0] = x[None, :]
        rays[..., 1] = y[:, None]
        rays[..., 2] = 1.0
        return rays

    def pixel_depth_factor(self) -> NDArray[np.float64]:
        r"""Cosine of the angle between each pixel ray and the optical axis [-], shape (H, W).

        A hit at distance ``t_m`` along the pixel ray has depth ``t_m * factor`` along the axis.

        .. math:: \cos\alpha = 1 / \sqrt{1 + ((u - c_x)/f_x)^2 + ((v - c_y)/f_y)^2}
        """
        x = (np.arange(self.width_px, dtype=np.float64) - self.cx_px) / self.fx_px
        y = (np.arange(self.height_px, dtype=np.float64) - self.cy_px) / self.fy_px
        return 1.0 / np.sqrt(1.0 + x[None, :] ** 2 + y[:, None] ** 2)

    def pixel_ray_directions(self, dtype: DTypeLike = np.float64) -> NDArray[Any]:
        r"""Unit world directions through the pixel centres [-], shape (H, W, 3).

        ``directions[v, u]`` is the ray through column ``u``, row ``v``, computed in float64 and
        returned as ``dtype``.

        .. math:: \hat d_w = R^\top \frac{(x, y, 1)}{\lVert (x, y, 1) \rVert}, \quad
            x = (u - c_x)/f_x, \ y = (v - c_y)/f_y
        """
        rays_cam = self._pixel_rays_camera() * self.pixel_depth_factor()[..., None]
        return (rays_cam @ self.rotation_world_to_camera).astype(dtype, copy=False)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def look_at(
        cls,
        position_m: ArrayLike,
        target_m: ArrayLike,
        roll_deg: float = 0.0,
        **kwargs: Any,
    ) -> PinholeCamera:
        r"""A camera at ``position_m`` whose optical axis passes through ``target_m``.

        Parameters
        ----------
        position_m, target_m
            Optical centre and the point to centre in the image, world frame [m].
        roll_deg
            Roll about the optical axis [deg].
        **kwargs
            Other fields (``width_px``, ``hfov_deg`` …); not ``yaw_deg`` or ``pitch_deg``.

        Raises
        ------
        InputError
            If the target coincides with the position, or yaw/pitch are given.

        Notes
        -----
        With :math:`\hat f = (t - p) / \lVert t - p \rVert`:
        :math:`\psi = \operatorname{atan2}(\hat f_x, \hat f_y)`,
        :math:`\theta = \arcsin \hat f_z`. Looking straight up or down, yaw is 0.
        """
        for name in ("yaw_deg", "pitch_deg", "position_m"):
            if name in kwargs:
                raise InputError("is set by look_at from position_m and target_m", field=name)
        position = np.array(_finite_vector3(position_m, "position_m"))
        target = np.array(_finite_vector3(target_m, "target_m"))
        offset = target - position
        distance = float(np.linalg.norm(offset))
        if distance == 0.0:
            raise InputError("must differ from position_m", field="target_m")
        forward = offset / distance
        horizontal = math.hypot(forward[0], forward[1])
        yaw = math.degrees(math.atan2(forward[0], forward[1])) if horizontal > 0.0 else 0.0
        pitch = math.degrees(math.atan2(forward[2], horizontal))
        return cls(
            position_m=_finite_vector3(position, "position_m"),
            yaw_deg=yaw,
            pitch_deg=pitch,
            roll_deg=roll_deg,
            **kwargs,
        )

    def with_pose(
        self,
        position_m: ArrayLike | None = None,
        yaw_deg: float | None = None,
        pitch_deg: float | None = None,
        roll_deg: float | None = None,
    ) -> PinholeCamera:
        """A copy with the given pose fields replaced (``None`` keeps the current value)."""
        changes: dict[str, Any] = {}
        if position_m is not None:
            changes["position_m"] = _finite_vector3(position_m, "position_m")
        for name, value in (("yaw_deg", yaw_deg), ("pitch_deg", pitch_deg), ("roll_deg", roll_deg)):
            if value is not None:
                changes[name] = value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus the derived ``fx_px``, ``fy_px``, ``cx_px``, ``cy_px``."""
        data: dict[str, Any] = dataclasses.asdict(self)
        data["position_m"] = list(self.position_m)
        data.update(fx_px=self.fx_px, fy_px=self.fy_px, cx_px=self.cx_px, cy_px=self.cy_px)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PinholeCamera:
        """Inverse of :meth:`to_dict`; derived keys (``fx_px`` …) are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = set(data) - names - {"fx_px", "fy_px", "cx_px", "cy_px"}
        if unknown:
            raise InputError(
                f"unknown keys {sorted(unknown)}; allowed: {sorted(names)}", field="camera"
            )
        return cls(**{key: value for key, value in data.items() if key in names})


def _as_xyz_array(values: ArrayLike, field: str) -> NDArray[np.float64]:
    """``values`` as a float64 array of shape (..., 3), else :class:`InputError`."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0 or array.shape[-1] != 3:
        raise InputError(f"must have shape (..., 3), got {array.shape}", field=field)
    return array
