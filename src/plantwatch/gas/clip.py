"""One simulated gas-camera clip: scene -> plume -> column density -> radiance -> camera frames.

The chain, per pixel and frame:

1. ray-cast the static scene: depth, object, surface temperature and emissivity (``geometry``);
2. background radiance: ``eps B(T_s) + (1 - eps) L_down`` or the sky (``background``);
3. plume puffs (``plume``) -> visible column density ``N`` [ppm·m] in front of the first
   surface (``render``);
4. band transmittance ``t(N)`` from the species' curve of growth, and
   ``L = t L_b + (1 - t) B(T_gas)`` (``radiometry``);
5. apparent (brightness) temperature, NETD noise, fixed-pattern noise, camera vibration.

Labels (``Clip.labels``) carry the ground truth a model is trained on; see
``docs/labels.md`` for their definitions, in particular **Z**, the depth-direction flow speed in
pixels per second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from plantwatch import __version__
from plantwatch.errors import InputError
from plantwatch.gas import background as bg
from plantwatch.gas.plume import LeakSource, PlumeConfig, PlumeFrames, WindConfig, simulate_plume
from plantwatch.gas.radiometry import curve_of_growth, radiance_table
from plantwatch.gas.render import column_density_frames, ground_image_puffs, ppm_m3_from_kg
from plantwatch.gas.scene import (
    BoxSpec,
    DistractorSpec,
    PipeRackSpec,
    PipeSpec,
    SceneSpec,
    SphereSpec,
    TankSpec,
)
from plantwatch.gas.species import get_species
from plantwatch.gas.visibility import (
    count_detectable_px,
    min_detectable_px,
    signal_from_transmittance,
)
from plantwatch.geometry import (
    Box,
    Cylinder,
    GroundPlane,
    PinholeCamera,
    Primitive,
    Sphere,
    cast_rays,
    first_hit_depth_map,
    is_occluded,
    surface_normals,
)
from plantwatch.units import leak_rate_g_s_from_l_min, leak_rate_l_min_from_g_s

__all__ = ["Z_DEFINITION", "Clip", "build_camera", "build_primitives", "simulate_clip"]

Z_DEFINITION = (
    "Z [px/s] = mean velocity component along the camera's optical axis (+ away from the camera) "
    "of the gas within 0.5 m of the leak source, mass-weighted over puffs and averaged over the "
    "clip's frames [m/s], times the focal length f_px = (W/2)/tan(HFOV/2) [px], divided by the "
    "source depth along the optical axis [m]."
)
Z_RADIUS_M = 0.5
OCCLUSION_TOLERANCE_M = 0.02  # a source on the visible face of its own pipe is not hidden
STEAM_EXTINCTION_PER_PPM_M = 1.0 / 4000.0  # grey optical depth of condensed steam per ppm·m
WATER_MOLAR_MASS_KG_MOL = 0.018015
SURFACE_TEMPERATURE_RANGE_K = (120.0, 1150.0)
COG_REFERENCE_TEMPERATURE_K = 296.0  # temperature of the HITRAN line strengths


@dataclass
class Clip:
    """A simulated clip and its ground truth."""

    frames_k: NDArray[np.float32]  # (T, H, W) apparent (brightness) temperature [K]
    column_ppm_m: NDArray[np.float32]  # (T, H, W) visible gas column density [ppm·m]
    labels: dict[str, Any]
    depth_m: NDArray[np.float64]  # (H, W) first-surface depth along the optical axis, inf = sky
    fps: float


def build_camera(scene: SceneSpec) -> PinholeCamera:
    """Pinhole camera of the scene (look-at wins over yaw/pitch when given)."""
    c = scene.camera
    common: dict[str, Any] = dict(
        width_px=c.width_px, height_px=c.height_px, hfov_deg=c.hfov_deg, vfov_deg=c.vfov
    )
    try:
        if c.look_at_m is not None:
            return PinholeCamera.look_at(c.position_m, c.look_at_m, roll_deg=c.roll_deg, **common)
        return PinholeCamera(
            position_m=c.position_m,
            yaw_deg=c.yaw_deg,
            pitch_deg=c.pitch_deg,
            roll_deg=c.roll_deg,
            **common,
        )
    except InputError as exc:
        raise InputError(str(exc), field="camera") from None


def build_primitives(scene: SceneSpec) -> tuple[list[Primitive], list[Any]]:
    """Solid primitives of the scene's objects and, for each, the spec that made it."""
    prims: list[Primitive] = []
    owners: list[Any] = []
    for i, obj in enumerate(scene.objects):
        try:
            if isinstance(obj, PipeSpec):
                prims.append(Cylinder(obj.start_m, obj.end_m, obj.diameter_m / 2))
                owners.append(obj)
            elif isinstance(obj, PipeRackSpec):
                for k in range(obj.count):
                    dz = k * obj.spacing_m
                    start = (obj.start_m[0], obj.start_m[1], obj.start_m[2] + dz)
                    end = (obj.end_m[0], obj.end_m[1], obj.end_m[2] + dz)
                    prims.append(Cylinder(start, end, obj.diameter_m / 2))
                    owners.append(obj)
            elif isinstance(obj, TankSpec):
                x, y, z = obj.base_center_m
                prims.append(Cylinder((x, y, z), (x, y, z + obj.height_m), obj.diameter_m / 2))
                owners.append(obj)
            elif isinstance(obj, BoxSpec):
                prims.append(Box(obj.center_m, obj.size_m, obj.yaw_deg))
                owners.append(obj)
            elif isinstance(obj, SphereSpec):
                prims.append(Sphere(obj.center_m, obj.diameter_m / 2))
                owners.append(obj)
        except InputError as exc:
            raise InputError(str(exc), field=f"objects.{i}") from None
    return prims, owners


def _leak_source(scene: SceneSpec) -> LeakSource | None:
    leak = scene.leak
    if leak is None:
        return None
    species = get_species(scene.species)
    air_t = scene.atmosphere.air_temperature_k
    rate_g_s = (
        leak.rate_g_s
        if leak.rate_g_s is not None
        else leak_rate_g_s_from_l_min(float(leak.rate_l_min or 0.0), species.molar_mass_kg_mol)
    )
    return LeakSource(
        position_m=leak.position_m,
        direction=leak.direction,
        exit_speed_m_s=leak.exit_speed_m_s,
        rate_kg_s=rate_g_s * 1e-3,
        molar_mass_kg_mol=species.molar_mass_kg_mol,
        air_temperature_k=air_t,
        orifice_diameter_m=None
        if leak.orifice_diameter_mm is None
        else leak.orifice_diameter_mm * 1e-3,
        sound_speed_m_s=species.sound_speed_m_s(air_t),
    )


def _wind(scene: SceneSpec) -> WindConfig:
    w = scene.wind
    return WindConfig(
        speed_m_s=w.speed_m_s,
        from_deg=w.from_deg,
        gust_intensity=w.gust_intensity,
        gust_time_s=w.gust_time_s,
        direction_jitter_deg=w.direction_jitter_deg,
        turbulence_intensity=w.turbulence_intensity,
        length_scale_m=w.length_scale_m,
        lagrangian_time_s=w.lagrangian_time_s,
    )


def _in_view(camera: PinholeCamera):
    rot = camera.rotation_world_to_camera
    pos = np.asarray(camera.position_m)
    fx, fy, cx, cy = camera.fx_px, camera.fy_px, camera.cx_px, camera.cy_px
    w, h = camera.width_px, camera.height_px

    def keep(points: NDArray[np.float64], sigma: NDArray[np.float64]) -> NDArray[np.bool_]:
        pc = (points - pos) @ rot.T
        z = pc[:, 2]
        ok = z > 0.05 + sigma
        zs = np.where(ok, z, 1.0)
        reach = 3.5 * fx * sigma / zs + 1.0
        u = fx * pc[:, 0] / zs + cx
        v = fy * pc[:, 1] / zs + cy
        return ok & (u > -reach) & (u < w + reach) & (v > -reach) & (v < h + reach)

    return keep


def _z_label(plume: PlumeFrames, camera: PinholeCamera, source_depth_m: float):
    """Depth-direction flow speed per frame [px/s] (see Z_DEFINITION)."""
    forward = camera.forward_unit
    src = np.asarray(plume.source.position_m)
    per_frame: list[float | None] = []  # one entry per frame; None: no gas near the source
    speeds_m_s: list[float] = []
    for f in range(plume.n_frames):
        pos, _sig, mass, vel = plume.frame(f)
        near = np.linalg.norm(pos - src, axis=1) <= Z_RADIUS_M
        if not np.any(near) or mass[near].sum() <= 0:
            per_frame.append(None)
            continue
        v_axis = float(np.average(vel[near] @ forward, weights=mass[near]))
        speeds_m_s.append(v_axis)
        per_frame.append(v_axis * camera.fx_px / source_depth_m)
    mean_m_s = float(np.mean(speeds_m_s)) if speeds_m_s else 0.0
    return mean_m_s * camera.fx_px / source_depth_m, mean_m_s, per_frame


def _object_temperatures(
    scene: SceneSpec,
    index: NDArray[np.integer],
    owners: list[Any],
    normals: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-pixel surface temperature, emissivity and texture amplitude for solid hits."""
    air = scene.atmosphere.air_temperature_k
    h, w = index.shape
    temp = np.full((h, w), air, dtype=np.float64)
    emis = np.ones((h, w))
    tex = np.zeros((h, w))
    ground_idx = len(owners)  # the ground plane is appended last
    for k, owner in enumerate([*owners, scene.ground]):
        mask = index == (ground_idx if k == ground_idx else k)
        if not np.any(mask):
            continue
        temp[mask] = air + owner.temperature_offset_k
        emis[mask] = owner.emissivity
        tex[mask] = owner.texture_k
    atm = scene.atmosphere
    if atm.solar_heating_k > 0 and atm.sun_elevation_deg > 0:
        sun = bg.sun_unit_vector(atm.sun_elevation_deg, atm.sun_azimuth_deg)
        lit = np.clip(np.nan_to_num(normals @ sun), 0.0, 1.0)
        temp += atm.solar_heating_k * lit * (index >= 0)
    coarse = bg.smooth_noise((h, w), max(h, w) / 12.0, rng)
    fine = bg.smooth_noise((h, w), 1.5, rng)
    temp += tex * (0.8 * coarse + 0.45 * fine)
    # keep within the band-radiance table (100-1200 K); real scenes are far inside this
    return np.clip(temp, SURFACE_TEMPERATURE_RANGE_K[0], SURFACE_TEMPERATURE_RANGE_K[1]), emis, tex


def _moving_body(d: DistractorSpec, t_s: float) -> Primitive:
    start = np.asarray(d.start_m, dtype=float)
    end = np.asarray(d.end_m, dtype=float)
    length = float(np.linalg.norm(end - start)) or 1e-6
    travelled = (d.speed_m_s * t_s) % (2 * length)
    frac = travelled / length if travelled <= length else 2 - travelled / length
    p = start + frac * (end - start)
    if d.type == "person":
        return Cylinder((p[0], p[1], p[2]), (p[0], p[1], p[2] + 1.75 * d.size_m), 0.25 * d.size_m)
    heading = math.degrees(math.atan2(end[0] - start[0], end[1] - start[1]))
    size = (1.8 * d.size_m, 4.5 * d.size_m, 1.5 * d.size_m)
    return Box((p[0], p[1], p[2] + size[2] / 2), size, heading)


def simulate_clip(scene: SceneSpec, seed: int, plume_config: PlumeConfig | None = None) -> Clip:
    """Simulate one labelled clip of ``scene``; the same (scene, seed) gives the same clip.

    Raises ``InputError`` for physically impossible set-ups (camera inside an object, leak
    behind the camera) before any expensive work.
    """
    if seed < 0:
        raise InputError(f"must be >= 0, got {seed}", field="seed")
    streams = np.random.SeedSequence(seed).spawn(6)
    plume_rng, texture_rng, noise_rng, vib_rng, steam_rng, veg_rng = (
        np.random.default_rng(s) for s in streams
    )
    camera = build_camera(scene)
    prims, owners = build_primitives(scene)
    cam_pos = np.asarray(camera.position_m)
    for i, prim in enumerate(prims):
        if bool(prim.contains(cam_pos[None, :])[0]):
            raise InputError(
                f"camera at {tuple(camera.position_m)} is inside "
                f"objects[{scene.objects.index(owners[i])}] "
                f"({owners[i].type}); move the camera or the object",
                field="camera.position_m",
            )
    ground_h = scene.ground.height_m
    if scene.ground.enabled and cam_pos[2] <= ground_h:
        raise InputError(
            f"camera height {cam_pos[2]} m is at or below the ground ({ground_h} m)",
            field="camera.position_m",
        )
    solids = [*prims, GroundPlane(ground_h)] if scene.ground.enabled else list(prims)
    n_frames, fps = scene.frames, scene.camera.fps
    h, w = camera.height_px, camera.width_px

    # 1. static scene by ray casting
    depth, index, hits = first_hit_depth_map(camera, solids)
    normals = surface_normals(hits.reshape(-1, 3), index.ravel(), solids).reshape(h, w, 3)
    dirs = camera.pixel_ray_directions()

    # 2. background radiance
    band = scene.camera.band
    table = radiance_table(band)
    air_t = scene.atmosphere.air_temperature_k
    b_air = float(table.radiance(np.array([air_t], dtype=np.float32))[0])
    eps_zenith = bg.SKY_ZENITH_EMISSIVITY[band][scene.atmosphere.sky]
    sky_rad = bg.sky_emissivity(dirs[..., 2], eps_zenith) * b_air
    down = float(bg.sky_emissivity(np.array([math.cos(math.radians(50.0))]), eps_zenith)[0]) * b_air
    temp_s, emis_s, _tex = _object_temperatures(scene, index, owners, normals, texture_rng)
    background = bg.surface_radiance(temp_s, emis_s, down, table.radiance)
    background = np.where(index >= 0, background, sky_rad).astype(np.float32)

    # 3. plume and column density
    source = _leak_source(scene)
    labels: dict[str, Any] = {
        "version": __version__,
        "seed": int(seed),
        "scene_name": scene.name,
        "species": scene.species,
        "leak": source is not None,
        "frames": n_frames,
        "fps": fps,
        "camera": {
            **camera.to_dict(),
            "band": band,
            "netd_mk": scene.camera.netd_mk,
            "fps": fps,
            "vibration_px": scene.camera.vibration_px,
            "vibration_hz": scene.camera.vibration_hz,
            "fixed_pattern_mk": scene.camera.fixed_pattern_mk,
        },
        "wind": scene.wind.model_dump(),
        "atmosphere": scene.atmosphere.model_dump(),
        "z_definition": Z_DEFINITION,
    }
    column = np.zeros((n_frames, h, w), dtype=np.float32)
    if source is not None:
        depth_src_m = float(camera.world_to_camera(np.asarray(source.position_m))[2])
        if depth_src_m <= 0.1:
            raise InputError(
                "the leak is behind (or at) the camera; it must be in front of it",
                field="leak.position_m",
            )
        wind = _wind(scene)
        plume = simulate_plume(
            source,
            wind,
            n_frames,
            fps,
            plume_rng,
            replace(
                plume_config or PlumeConfig(),
                ground_height_m=ground_h if scene.ground.enabled else None,
            ),
            obstacles=tuple(prims),
        )
        z_px_s, z_m_s, z_series = _z_label(plume, camera, depth_src_m)
        keep = _in_view(camera)(plume.positions_m, plume.sigma_m)
        offsets = _filtered_offsets(keep, plume.offsets)
        pos, sig = plume.positions_m[keep], plume.sigma_m[keep]
        amount = ppm_m3_from_kg(plume.mass_kg[keep], source.gas_density_kg_m3)
        if scene.ground.enabled:
            pos, sig, amount, offsets = _with_ground_images(pos, sig, amount, offsets, ground_h)
        column = column_density_frames(
            camera.rotation_world_to_camera,
            cam_pos,
            camera.fx_px,
            camera.fy_px,
            camera.cx_px,
            camera.cy_px,
            depth,
            pos,
            sig,
            amount,
            offsets,
        )
        u, v, _ = camera.project(np.asarray(source.position_m))
        occluded = bool(
            is_occluded(
                cam_pos,
                np.asarray(source.position_m)[None, :],
                solids,
                tolerance_m=OCCLUSION_TOLERANCE_M,
            )[0]
        )
        species = get_species(scene.species)
        labels.update(
            {
                "source_xyz_m": [float(c) for c in source.position_m],
                "source_px": [float(u), float(v)],
                "source_in_view": bool(0 <= u <= w - 1 and 0 <= v <= h - 1),
                "source_depth_m": depth_src_m,
                "occluded": occluded,
                "z_px_s": z_px_s,
                "z_m_s": z_m_s,
                "z_px_s_per_frame": z_series,
                "leak_rate_g_s": source.rate_kg_s * 1e3,
                "leak_rate_l_min": leak_rate_l_min_from_g_s(
                    source.rate_kg_s * 1e3, source.molar_mass_kg_mol
                ),  # standard litres (20 degC, 1 atm)
                "exit_speed_m_s": source.exit_speed_m_s,
                "orifice_diameter_mm": source.diameter_m * 1e3,
                "leak_direction": list(source.direction),
                "molar_mass_kg_mol": species.molar_mass_kg_mol,
                "plume": {k: v for k, v in plume.meta.items() if k != "turbulence"},
            }
        )
    else:
        labels.update(
            {
                "source_xyz_m": None,
                "source_px": None,
                "source_in_view": False,
                "source_depth_m": None,
                "occluded": False,
                "z_px_s": 0.0,
                "z_m_s": 0.0,
                "z_px_s_per_frame": [],
                "leak_rate_g_s": 0.0,
                "leak_rate_l_min": 0.0,
            }
        )

    # 4. per-frame background (moving distractors) and radiative transfer
    backgrounds = np.broadcast_to(background, (n_frames, h, w))
    steam_column = None
    movers = [d for d in scene.distractors if d.type in ("person", "vehicle")]
    foliage = [d for d in scene.distractors if d.type == "vegetation"]
    if movers or foliage:
        backgrounds = backgrounds.copy()
        _paint_movers(
            backgrounds,
            column,
            movers,
            camera,
            depth,
            table,
            air_t,
            down,
            fps,
            labels.get("source_depth_m"),
        )
        _sway_foliage(backgrounds, foliage, camera, depth, table, air_t, fps, veg_rng)
    steam = [d for d in scene.distractors if d.type == "steam"]
    if steam:
        steam_column = _steam_column(steam, scene, camera, depth, n_frames, fps, steam_rng)

    cog = curve_of_growth(scene.species, band)
    # the curve of growth counts molecules at 296 K and 1 atm: the same ppm·m holds 296/T times
    # as many molecules at air temperature T (line-strength temperature dependence neglected)
    trans = cog.transmittance_of(column * np.float32(COG_REFERENCE_TEMPERATURE_K / air_t))
    gas_rad = b_air  # gas at air temperature
    radiance = trans * backgrounds + (1.0 - trans) * np.float32(gas_rad)
    if steam_column is not None:
        opacity = 1.0 - np.exp(-STEAM_EXTINCTION_PER_PPM_M * steam_column)
        steam_t = air_t + max(d.temperature_offset_k for d in steam)
        steam_rad = float(table.radiance(np.array([steam_t], dtype=np.float32))[0])
        radiance = (1.0 - opacity) * radiance + opacity * np.float32(steam_rad)
    frames = table.brightness_temperature(radiance.astype(np.float32))
    # how much of the leak the camera can see (noise-free, before the image shakes; reuses the
    # gas transmittance rather than evaluating the curve of growth again)
    seen_px = (
        count_detectable_px(signal_from_transmittance(frames, trans, air_t), scene.camera.netd_mk)
        if labels["leak"]
        else 0
    )

    # 5. sensor: the image moves on the detector (vibration), then detector noise is added
    shifts = bg.vibration_offsets_px(
        n_frames, fps, scene.camera.vibration_px, scene.camera.vibration_hz, vib_rng
    )
    if scene.camera.vibration_px > 0:
        for f in range(n_frames):
            m = np.array([[1, 0, shifts[f, 0]], [0, 1, shifts[f, 1]]], dtype=np.float32)
            frames[f] = cv2.warpAffine(
                frames[f], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            column[f] = cv2.warpAffine(
                column[f],
                m,
                (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0.0,
            )
    netd_k = scene.camera.netd_mk * 1e-3
    if netd_k > 0:
        frames += noise_rng.standard_normal(frames.shape, dtype=np.float32) * np.float32(netd_k)
    fpn_k = scene.camera.fixed_pattern_mk * 1e-3
    if fpn_k > 0:
        frames += (noise_rng.standard_normal((h, w), dtype=np.float32) * np.float32(fpn_k))[None]
    if labels["source_px"] is not None:
        sx, sy = labels["source_px"]
        labels["source_px_per_frame"] = [[sx + float(dx), sy + float(dy)] for dx, dy in shifts]
    labels["vibration_offsets_px"] = shifts.tolist()
    labels["column_max_ppm_m"] = float(column.max()) if column.size else 0.0
    labels["detectable_gas_px"] = seen_px
    labels["detectable"] = seen_px >= min_detectable_px(h, w)  # seen_px is 0 without a leak
    labels["distractors"] = [d.type for d in scene.distractors]
    labels["objects"] = len(scene.objects)
    return Clip(
        frames_k=frames.astype(np.float32),
        column_ppm_m=column.astype(np.float32),
        labels=labels,
        depth_m=depth,
        fps=fps,
    )


def _filtered_offsets(keep: NDArray[np.bool_], offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """CSR offsets after dropping the rows where ``keep`` is False."""
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    return kept_before[offsets].astype(np.int64)


def _with_ground_images(pos, sig, amount, offsets, ground_h):
    """Add ground-reflection images frame by frame, keeping the CSR layout."""
    ps, ss, am, counts = [], [], [], []
    for f in range(offsets.shape[0] - 1):
        a, b = offsets[f], offsets[f + 1]
        p, s, m = ground_image_puffs(pos[a:b], sig[a:b], amount[a:b], ground_h)
        ps.append(p)
        ss.append(s)
        am.append(m)
        counts.append(p.shape[0])
    new_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.concatenate(ps), np.concatenate(ss), np.concatenate(am), new_offsets


def _paint_movers(
    backgrounds, column, movers, camera, depth, table, air_t, down, fps, source_depth_m
) -> None:
    """Draw people/vehicles into each frame's background; hide gas behind them."""
    if not movers:
        return
    dirs = camera.pixel_ray_directions().reshape(-1, 3)
    factor = camera.pixel_depth_factor().ravel()
    cam = np.asarray(camera.position_m)
    n_frames, h, w = backgrounds.shape
    for f in range(n_frames):
        for d in movers:
            body = _moving_body(d, f / fps)
            t, _ = cast_rays(cam, dirs, [body])
            z = (t * factor).reshape(h, w)
            front = np.isfinite(z) & (z < depth)
            if not np.any(front):
                continue
            temp = np.float32(air_t + d.temperature_offset_k)
            rad = 0.95 * float(table.radiance(np.array([temp]))[0]) + 0.05 * down
            backgrounds[f][front] = rad
            if source_depth_m is not None:
                # the body hides the gas behind it: gas is concentrated around the source depth
                vis = np.clip((z[front] - (source_depth_m - 1.0)) / 2.0, 0.0, 1.0)
                column[f][front] *= vis.astype(np.float32)


def _sway_foliage(backgrounds, foliage, camera, depth, table, air_t, fps, rng) -> None:
    """Foliage: a textured patch whose pattern sways horizontally in the wind."""
    n_frames, h, w = backgrounds.shape
    for d in foliage:
        u, v, z = camera.project(np.asarray(d.position_m))
        if not (np.isfinite(u) and z > 0):
            continue
        r_px = max(3.0, camera.fx_px * d.size_m / z)
        jj, ii = np.mgrid[0:h, 0:w]
        mask = ((ii - u) ** 2 + (jj - v) ** 2 < r_px**2) & (depth > z - d.size_m)
        if not np.any(mask):
            continue
        texture = bg.smooth_noise((h, w), 2.0, rng)
        amp_px = 0.15 * r_px
        freq = rng.uniform(0.5, 2.0)
        phase = rng.uniform(0, 2 * math.pi)
        for f in range(n_frames):
            dx = amp_px * math.sin(2 * math.pi * freq * f / fps + phase)
            m = np.array([[1, 0, dx], [0, 1, 0]], dtype=np.float32)
            moved = cv2.warpAffine(texture, m, (w, h), borderMode=cv2.BORDER_WRAP)
            temp = (air_t + d.temperature_offset_k * 0.2 + 1.5 * moved[mask]).astype(np.float32)
            backgrounds[f][mask] = table.radiance(temp)


def _steam_column(steam, scene, camera, depth, n_frames, fps, rng) -> NDArray[np.float32]:
    """Condensed steam plumes rendered like gas (own puffs), as a grey-body optical path."""
    total = np.zeros((n_frames, camera.height_px, camera.width_px), dtype=np.float32)
    wind = _wind(scene)
    for d in steam:
        src = LeakSource(
            position_m=d.position_m,
            direction=(0.0, 0.0, 1.0),
            exit_speed_m_s=3.0,
            rate_kg_s=d.rate_g_s * 1e-3,
            molar_mass_kg_mol=WATER_MOLAR_MASS_KG_MOL,
            air_temperature_k=scene.atmosphere.air_temperature_k,
        )
        plume = simulate_plume(src, wind, n_frames, fps, rng, PlumeConfig(emission_rate_per_s=150))
        keep = _in_view(camera)(plume.positions_m, plume.sigma_m)
        offsets = _filtered_offsets(keep, plume.offsets)
        amount = ppm_m3_from_kg(plume.mass_kg[keep], src.gas_density_kg_m3)
        total += column_density_frames(
            camera.rotation_world_to_camera,
            np.asarray(camera.position_m),
            camera.fx_px,
            camera.fy_px,
            camera.cx_px,
            camera.cy_px,
            depth,
            plume.positions_m[keep],
            plume.sigma_m[keep],
            amount,
            offsets,
        )
    return total
