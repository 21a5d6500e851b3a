"""Helpers shared by the benchmark scripts: machine description, stage timers, BENCHMARKS.md.

Not part of the package; imported by the scripts in this folder (``bench/`` is on ``sys.path``
when a script here is run as ``.venv/bin/python bench/<script>.py``).
"""

from __future__ import annotations

import datetime
import functools
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
BENCHMARKS_HEADER = (
    "# Benchmarks\n\n"
    "Written by the scripts in [`bench/`](bench/README.md); each section is replaced in place "
    "when its script runs again (between its `<!-- …:start -->` / `<!-- …:end -->` markers). "
    "Timings are wall-clock on the machine named in the section, which is shared with other "
    "work: the load average before and after each measurement is given with it.\n"
)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (first core), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Total RAM [GiB] from /proc/meminfo (0 if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def usable_cores() -> int:
    """Cores this process may run on (affinity), falling back to ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (zeros where unavailable)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in load)


def git_revision() -> str:
    """Short commit of the checkout and whether tracked files differ from it (read-only git)."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (+ uncommitted changes)" if dirty else rev


def machine_lines() -> list[str]:
    """Markdown bullet lines describing the machine and software of this run."""
    import numpy

    from plantwatch import __version__

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- Date: {now}",
        f"- Machine: {usable_cores()} cores usable (nproc), CPU `{cpu_model()}`, "
        f"{ram_gib():.1f} GiB RAM, {platform.system()} {platform.release()}",
        f"- Software: Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"plantwatch {__version__} at commit {git_revision()}",
        f"- Load average (1/5/15 min) when the script started: {fmt_load(load_average())}",
    ]


def update_section(key: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the block between ``<!-- key:start -->`` and ``<!-- key:end -->``.

    Idempotent: running a script again replaces its own section and leaves the rest alone.
    Written atomically (temp file + rename).
    """
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.is_file() else BENCHMARKS_HEADER
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    tmp = path.with_suffix(path.suffix + f".tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def publish(key: str, body: str, write: bool) -> None:
    """Print a section and, unless ``--no-write`` was given, write it into BENCHMARKS.md."""
    print(body)
    if write:
        update_section(key, body)
        print(f"updated {BENCHMARKS_MD} (section {key!r})")


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def print_table(header: list[str], rows: list[list[Any]]) -> None:
    """Plain-text table on stdout, columns padded."""
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for k, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


class StageTimer:
    """Accumulates wall time of wrapped callables by stage name.

    Only the outermost wrapped call is timed, so a stage that calls another wrapped function
    (e.g. steam distractors running their own plume) is charged once, to the outer stage.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth = 0
        self._patches: list[tuple[Any, str, Any]] = []

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - t0
                self.calls[stage] += 1
                self._depth -= 1

        return timed

    def patch(self, owner: Any, name: str, stage: str) -> None:
        """Replace ``owner.name`` by a timed wrapper (undone by :meth:`restore`)."""
        original = getattr(owner, name)
        self._patches.append((owner, name, original))
        setattr(owner, name, self.wrap(stage, original))

    def patch_factory(self, owner: Any, name: str, stage: str) -> None:
        """Like :meth:`patch` for a function that returns a callable: time both."""
        original = getattr(owner, name)
        self._patches.append((owner, name, original))
        timed_factory = self.wrap(stage, original)

        def factory(*args: Any, **kwargs: Any) -> Any:
            return self.wrap(stage, timed_factory(*args, **kwargs))

        setattr(owner, name, factory)

    def restore(self) -> None:
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches.clear()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a block as a stage (for code that is not a wrappable call)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - t0
            self.calls[name] += 1


class ModuleProxy:
    """Stands in for a module inside another module's namespace, overriding some attributes."""

    def __init__(self, module: Any, **overrides: Any) -> None:
        self._module = module
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


# Stages of plantwatch.gas.clip.simulate_clip, in the order it runs them. Each is timed by
# wrapping the functions simulate_clip calls (looked up in its module at call time), so the
# profile follows clip.py as it is rather than a copy of its steps.
CLIP_STAGES = (
    ("1 ray-cast scene (depth, normals, source occlusion)", "geometry"),
    ("2 background radiance (surface T, sky, Planck)", "background"),
    ("3 plume: Lagrangian puffs (simulate_plume)", "plume"),
    ("3 label Z (depth-flow speed)", "z_label"),
    ("3 puff culling to view + ground images", "cull"),
    ("3 column density render (numba splat)", "render"),
    ("4 distractors (people, vehicles, foliage, steam)", "distractors"),
    ("4 radiometry LUTs (radiance table, curve of growth)", "luts"),
    ("4 transmittance t(N) from curve of growth", "transmittance"),
    ("4 brightness temperature (inverse Planck LUT)", "brightness"),
    ("5 vibration (offsets + cv2.warpAffine)", "vibration"),
)


def instrument_clip_stages(timer: StageTimer) -> None:
    """Wrap what ``simulate_clip`` calls with ``timer`` (undo with ``timer.restore()``)."""
    import cv2

    from plantwatch.gas import background as bg
    from plantwatch.gas import clip as clip_mod
    from plantwatch.gas.radiometry import CurveOfGrowth, RadianceTable

    names = {key: label for label, key in CLIP_STAGES}
    for attr in ("first_hit_depth_map", "surface_normals", "is_occluded"):
        timer.patch(clip_mod, attr, names["geometry"])
    timer.patch(clip_mod, "_object_temperatures", names["background"])
    timer.patch(bg, "surface_radiance", names["background"])
    timer.patch(bg, "sky_emissivity", names["background"])
    timer.patch(clip_mod, "simulate_plume", names["plume"])
    timer.patch(clip_mod, "_z_label", names["z_label"])
    timer.patch_factory(clip_mod, "_in_view", names["cull"])
    timer.patch(clip_mod, "_filtered_offsets", names["cull"])
    timer.patch(clip_mod, "_with_ground_images", names["cull"])
    timer.patch(clip_mod, "column_density_frames", names["render"])
    for attr in ("_paint_movers", "_sway_foliage", "_steam_column"):
        timer.patch(clip_mod, attr, names["distractors"])
    timer.patch(clip_mod, "radiance_table", names["luts"])
    timer.patch(clip_mod, "curve_of_growth", names["luts"])
    timer.patch(CurveOfGrowth, "transmittance_of", names["transmittance"])
    timer.patch(RadianceTable, "brightness_temperature", names["brightness"])
    timer.patch(bg, "vibration_offsets_px", names["vibration"])
    proxy = ModuleProxy(cv2, warpAffine=timer.wrap(names["vibration"], cv2.warpAffine))
    timer._patches.append((clip_mod, "cv2", cv2))
    clip_mod.cv2 = proxy  # type: ignore[assignment]
