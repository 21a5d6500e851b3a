"""The ``plantwatch`` command line: a thin layer that parses, calls the library and formats.

Library errors (``PlantwatchError``) become one line on stderr and exit status 2; heavy
modules are imported inside the commands so ``plantwatch --help`` stays instant.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from plantwatch.errors import PlantwatchError

app = typer.Typer(
    help="plantwatch: infrared gas-leak analysis and drone inspection of chemical plants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
gas_app = typer.Typer(help="Gas-camera simulation and analysis.", no_args_is_help=True)
app.add_typer(gas_app, name="gas")
drone_app = typer.Typer(
    help="Drone inspection: sites, cameras, routes, coverage, compliance, documents, records.",
    no_args_is_help=True,
)
app.add_typer(drone_app, name="drone")

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DEMO_SCENE = "hidden_behind_pipe_rack.yaml"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def handle_errors(func: F) -> F:
    """Turn library errors into one line on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlantwatchError as exc:
            _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def builtin_scene_path(name: str) -> Path:
    """Path of a scene shipped inside the package (``plantwatch/data/scenes``)."""
    return Path(str(resources.files("plantwatch") / "data" / "scenes" / name))


def _load_scene_arg(scene: str, seed: int) -> Any:
    from plantwatch.gas.randomize import random_scene
    from plantwatch.gas.scene import load_scene

    if scene == "random":
        return random_scene(seed)
    return load_scene(scene)


@gas_app.command("simulate")
@handle_errors
def gas_simulate(
    out: Annotated[Path, typer.Option("--out", help="Output folder (created).")],
    scene: Annotated[
        str, typer.Option("--scene", help="Scene YAML file, or 'random' for a random scene.")
    ] = "random",
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed (turbulence, noise, scene).")
    ] = 0,
    palette: Annotated[
        str, typer.Option(help="Preview palette: white-hot, black-hot, iron, rainbow.")
    ] = "white-hot",
    preview: Annotated[bool, typer.Option(help="Write preview.mp4 and fluctuation.png.")] = True,
) -> None:
    """Simulate one labelled gas-camera clip into OUT (frames.npy, column_ppm_m.npy, labels.json,
    preview.mp4, fluctuation.png)."""
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.display import PALETTE_NAMES
    from plantwatch.gas.outputs import write_clip

    if palette not in PALETTE_NAMES:
        raise _input_error(
            f"unknown palette {palette!r}; valid: {', '.join(PALETTE_NAMES)}", "--palette"
        )
    if seed < 0:
        raise _input_error(f"must be >= 0, got {seed}", "--seed")
    spec = _load_scene_arg(scene, seed)
    clip = simulate_clip(spec, seed)
    write_clip(clip, out, preview=preview, palette=palette)
    lab = clip.labels
    where = (
        "no leak"
        if lab["source_px"] is None
        else f"source px ({lab['source_px'][0]:.1f}, {lab['source_px'][1]:.1f})"
        f"{' hidden' if lab['occluded'] else ''}, Z {lab['z_px_s']:.1f} px/s"
    )
    typer.echo(f"{spec.name}: {lab['frames']} frames, {lab['species']}, {where} -> {out}")


def _input_error(message: str, field: str) -> PlantwatchError:
    from plantwatch.errors import InputError

    return InputError(message, field=field)


@gas_app.command("dataset")
@handle_errors
def gas_dataset(
    n: Annotated[int, typer.Option("--n", help="Number of clips.")],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder (created; reruns resume).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of clip 0; clip i uses seed+i.")] = 0,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: cores).")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="'local', 'auto' or ray://host:port to use Ray."),
    ] = None,
    frames: Annotated[int, typer.Option(help="Frames per clip.")] = 32,
    width: Annotated[int, typer.Option(help="Image width [px].")] = 320,
    height: Annotated[int, typer.Option(help="Image height [px].")] = 240,
    no_leak_fraction: Annotated[float, typer.Option(help="Share of clips without a leak.")] = 0.0,
    occlusion: Annotated[
        float, typer.Option(help="Probability of a pipe hiding the source.")
    ] = 0.5,
    shard_size: Annotated[int | None, typer.Option(help="Clips per shard.")] = None,
) -> None:
    """Generate N random labelled clips into zarr shards with an index (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from plantwatch.gas.dataset import DatasetSpec, generate_dataset

    if workers is not None and workers < 1:
        raise _input_error(f"must be >= 1, got {workers}", "--workers")
    if shard_size is not None and shard_size < 1:
        raise _input_error(f"must be >= 1, got {shard_size}", "--shard-size")
    spec = DatasetSpec(
        n=n,
        seed=seed,
        frames=frames,
        width_px=width,
        height_px=height,
        no_leak_fraction=no_leak_fraction,
        occlusion_probability=occlusion,
    )
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=not sys.stderr.isatty(),
        console=_stderr_console(),
    ) as bar:
        task = bar.add_task("simulating clips", total=n)
        index = generate_dataset(
            spec,
            out,
            workers=workers,
            ray_address=ray_address,
            shard_size=shard_size,
            progress=lambda k: bar.advance(task, k),
        )
    c = index["counts"]
    typer.echo(
        f"{index['n']} clips ({c['occluded']} occluded, {c['no_leak']} without leak, "
        f"{c['methane']} methane, {c['propane']} propane) -> {out}"
    )


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@gas_app.command("fluctuation")
@handle_errors
def gas_fluctuation(
    video: Annotated[Path, typer.Argument(help="MP4/AVI video, 16-bit TIFF stack or .npy array.")],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")],
    fps: Annotated[
        float | None, typer.Option(help="Frame rate for .npy/.tiff (default 30).")
    ] = None,
    window_s: Annotated[float, typer.Option(help="Slow-component window [s].")] = 1.0,
    palette: Annotated[str, typer.Option(help="Palette of 8-bit input video.")] = "white-hot",
) -> None:
    """Fluctuation-component image of any video (seed 000's simulation-vs-real check)."""
    from plantwatch.gas.fluctuation import fluctuation_image
    from plantwatch.gas.video import read_video, write_png

    if out.suffix.lower() != ".png":
        raise _input_error(f"must end in .png, got {out.name!r}", "--out")
    if not window_s > 0:
        raise _input_error(f"must be > 0, got {window_s}", "--window-s")
    clip = read_video(video, fps=fps, palette=palette)
    write_png(out, fluctuation_image(clip.frames, clip.fps, window_s=window_s))
    typer.echo(f"{clip.frames.shape[0]} frames at {clip.fps:g} fps -> {out}")


@drone_app.command("cameras")
@handle_errors
def drone_cameras() -> None:
    """List the camera presets (sensor, pixels, focal length, GSD at 10 m)."""
    from rich.console import Console
    from rich.table import Table

    from plantwatch.drone.camera import CAMERA_PRESETS, DEFAULT_CAMERA, gsd_mm

    table = Table("name", "sensor [mm]", "pixels", "focal [mm]", "GSD @10 m [mm/px]", "source")
    for name, cam in CAMERA_PRESETS.items():
        table.add_row(
            name + (" (default)" if name == DEFAULT_CAMERA else ""),
            f"{cam.sensor_width_mm:g} x {cam.sensor_height_mm:g}",
            f"{cam.image_width_px} x {cam.image_height_px}",
            f"{cam.focal_length_mm:g}",
            f"{float(gsd_mm(cam, 10.0)):.2f}",
            cam.source.split(";")[0][:60],
        )
    Console(width=200).print(table)


@drone_app.command("site-synth")
@handle_errors
def drone_site_synth(
    tanks: Annotated[int, typer.Option("--tanks", help="Number of tanks.")],
    out: Annotated[Path, typer.Option("--out", help="GeoJSON file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Generate a large synthetic tank farm as site GeoJSON (for scale tests)."""
    from plantwatch.drone.site import site_from_geojson
    from plantwatch.drone.synth import synthesize_site, write_geojson_atomic

    if tanks < 1:
        raise _input_error(f"must be >= 1, got {tanks}", "--tanks")
    if seed < 0:
        raise _input_error(f"must be >= 0, got {seed}", "--seed")
    data = synthesize_site(tanks, seed)
    site = site_from_geojson(data)  # validate before writing
    write_geojson_atomic(data, out)
    typer.echo(
        f"{len(site.facilities)} facilities, {len(site.zones)} zones, "
        f"{len(site.takeoff_points_m)} take-off points -> {out}"
    )


@drone_app.command("plan")
@handle_errors
def drone_plan(
    site_path: Annotated[Path, typer.Argument(metavar="SITE", help="Site GeoJSON (WGS84).")],
    gsd_mm: Annotated[float, typer.Option("--gsd-mm", help="Required GSD on the surface [mm/px].")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("plan-output"),
    camera: Annotated[str | None, typer.Option(help="Camera preset (see `drone cameras`).")] = None,
    overlap: Annotated[float, typer.Option(help="Front and side overlap (0-0.95).")] = 0.7,
    wind_m_s: Annotated[float, typer.Option("--wind-m-s", help="Forecast wind [m/s].")] = 5.0,
    min_distance_m: Annotated[
        float, typer.Option(help="Minimum distance to structures [m].")
    ] = 5.0,
    battery_min: Annotated[
        float, typer.Option(help="Usable flight time per battery [min].")
    ] = 20.0,
    explosion_proof: Annotated[bool, typer.Option(help="Aircraft certified for Ex zones.")] = False,
    close: Annotated[
        list[str] | None,
        typer.Option(
            "--close",
            help="Zone id (road/people area) closed and watched during the "
            "flight; repeatable. Default 'controlled': every zone the site marks "
            "controlled (plant roads); 'none' closes nothing.",
        ),
    ] = None,
) -> None:
    """Plan an inspection flight for a GSD, prove its coverage, and export missions
    (mission.plan, mission.waypoints, mission.kml, mission.kmz, route.geojson, coverage.json,
    coverage.png)."""
    from plantwatch.drone.mission import plan_and_export

    summary = plan_and_export(
        site_path,
        out,
        gsd_mm=gsd_mm,
        camera_name=camera,
        overlap=overlap,
        wind_m_s=wind_m_s,
        min_distance_m=min_distance_m,
        battery_s=battery_min * 60.0,
        explosion_proof=explosion_proof,
        close=("controlled",) if close is None else tuple(c for c in close if c != "none"),
    )
    typer.echo(summary)


@app.command("demo")
@handle_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Instead: seed a demo site, users, plan, records and photos into "
            "./plantwatch-demo and start the web app (logins are printed).",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Web app port (with --serve).")] = 8000,
) -> None:
    """Render the built-in scene (a methane leak hidden behind a pipe rack) and say where the
    outputs are; with --serve, start the web app on a seeded demo plant."""
    if serve:
        from plantwatch.web.cli_web import demo_serve

        demo_serve(port=port)
        return
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.outputs import write_clip
    from plantwatch.gas.scene import load_scene

    scene = load_scene(builtin_scene_path(DEFAULT_DEMO_SCENE))
    clip = simulate_clip(scene, seed)
    write_clip(clip, out / "gas")
    lab = clip.labels
    typer.echo(
        f"Simulated '{scene.name}': {lab['frames']} frames of {lab['species']} at "
        f"{lab['fps']:g} fps, leak {lab['leak_rate_g_s']:.2f} g/s."
    )
    typer.echo(
        f"  leak source at pixel ({lab['source_px'][0]:.1f}, {lab['source_px'][1]:.1f}), "
        f"{'hidden behind piping' if lab['occluded'] else 'in view'}; "
        f"depth flow Z = {lab['z_px_s']:.1f} px/s"
    )
    for name, what in (
        ("preview.mp4", "palette video with the source marked"),
        ("fluctuation.png", "temporal fluctuation component"),
        ("frames.npy", "apparent temperature [K], T x H x W"),
        ("column_ppm_m.npy", "ground-truth gas column density [ppm·m]"),
        ("labels.json", "labels"),
    ):
        typer.echo(f"  {out / 'gas' / name}: {what}")


def _register_drone_commands() -> None:
    """Compliance, documents and records commands live in their own modules (one job each)."""
    from plantwatch.drone import cli_compliance, cli_documents, cli_photos, cli_records

    for module in (cli_compliance, cli_documents, cli_records, cli_photos):
        module.register(drone_app)


_register_drone_commands()


def _register_admin_commands() -> None:
    """``plantwatch admin``: the store's init, audit-chain verification and users."""
    from plantwatch.store import cli_admin

    cli_admin.register(app)


_register_admin_commands()


def _register_gas_model_commands() -> None:
    """``plantwatch gas train|evaluate|detect|export-onnx`` (torch is imported per command)."""
    from plantwatch.gas import cli_models

    cli_models.register(gas_app)


_register_gas_model_commands()


def _register_web_commands() -> None:
    """``plantwatch serve``: the web app over the store (FastAPI is imported when it starts)."""
    from plantwatch.web import cli_web

    cli_web.register(app)


_register_web_commands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
