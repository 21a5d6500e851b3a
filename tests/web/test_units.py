"""Small pieces of the web layer with exact answers: file signatures, safe names, the SVG map,
the login redirect target, the secret key file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from .conftest import EXAMPLE_SITE


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*", "jpeg"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mp4"),
        (b"RIFF\x10\x00\x00\x00AVI LIST\x00\x00", "avi"),
        (b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00", "tiff"),
        (b"\x93NUMPY\x01\x00v\x00{'descr", "npy"),
        (b'\xef\xbb\xbf {"type": "Feat', "json"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", None),
        (b"", None),
    ],
)
def test_detect_kind(head: bytes, kind: str | None) -> None:
    from plantwatch.web.uploads import detect_kind

    assert detect_kind(head) == kind


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("DJI_0001.JPG", "DJI_0001.JPG"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.jpg", "photo.jpg"),
        ("..", "upload"),
        (".hidden.jpg", "hidden.jpg"),
        ("a\x00b\nc.jpg", "abc.jpg"),
        ("", "upload"),
        (None, "upload"),
        ("写真.jpg", "写真.jpg"),
        ("x" * 300 + ".jpg", "x" * 120),
    ],
)
def test_safe_display_name(raw: str | None, safe: str) -> None:
    from plantwatch.web.uploads import safe_display_name

    assert safe_display_name(raw) == safe


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/plans/3?x=1", "/plans/3?x=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("plans", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_login_redirect_target(target: str | None, safe: str) -> None:
    from plantwatch.web.routes_auth import _safe_next

    assert _safe_next(target) == safe


def test_site_svg_draws_the_site_model() -> None:
    from plantwatch.drone.site import load_site
    from plantwatch.web.svgmap import MapOverlay, RoutePoint, coverage_colour, render_site_svg

    site = load_site(EXAMPLE_SITE)
    plain = render_site_svg(site)
    assert plain.count('class="facility') == len(site.facilities) == 17
    assert plain.count('class="zone ') == len(site.zones)
    assert plain.count('class="takeoff"') == len(site.takeoff_points_m)
    for kind in ("zone0", "zone1", "zone2", "fire_restricted", "no_fly", "people"):
        assert f'data-kind="{kind}"' in plain
    assert 'fill="url(#hatch)"' in plain  # fire-restricted is hatched
    overlay = MapOverlay(
        coverage_pct={"T-101": 100.0, "T-102": 0.0},
        route=[
            RoutePoint(0, 0.0, 0.0, False),
            RoutePoint(0, 10.0, 5.0, True),
            RoutePoint(1, 3.0, 3.0, True),
        ],
        blind_spots=[("T-101", -250.0, 178.0, "shell <b>x</b>")],
        highlight=frozenset({"T-102"}),
    )
    svg = render_site_svg(site, overlay)
    assert 'data-facility="T-101" data-coverage="100.0"' in svg
    assert f'fill="{coverage_colour(100.0)}"' in svg and f'fill="{coverage_colour(0.0)}"' in svg
    assert svg.count('class="route"') == 2 and "sortie 2: 1 waypoints, 1 photos" in svg
    assert "blind spot: shell &lt;b&gt;x&lt;/b&gt;" in svg  # text is escaped
    assert 'class="facility highlight" data-facility="T-102"' in svg
    assert coverage_colour(None) == "#cfd8dc" and coverage_colour(50.0) == "hsl(60,70%,48%)"


def test_overlay_from_plan_files(tmp_path: Path) -> None:
    from plantwatch.web.svgmap import overlay_from_plan, route_from_plan_json

    plan = {
        "waypoint_fields": ["sortie", "x_m", "y_m", "z_m", "action"],
        "waypoints": [[0, 1.0, 2.0, 5.0, "none"], [0, 3.0, 4.0, 5.0, "photo"]],
    }
    coverage = {
        "facilities": [
            {
                "facility_id": "T-1",
                "coverage_pct": 80.5,
                "blind_spots": [
                    {
                        "face": "shell",
                        "reason": "not in any photo",
                        "area_m2": 12.3,
                        "centroid_m": [1.0, 2.0, 3.0],
                    }
                ],
            }
        ]
    }
    overlay = overlay_from_plan(plan, coverage)
    assert [(p.x_m, p.photo) for p in overlay.route] == [(1.0, False), (3.0, True)]
    assert overlay.coverage_pct == {"T-1": 80.5}
    assert overlay.blind_spots == [("T-1", 1.0, 2.0, "T-1 shell not in any photo, 12 m2")]
    assert route_from_plan_json({"waypoints": [[0, 1, 2]]}) == []  # no field list: no route
    assert overlay_from_plan(None, None).coverage_pct is None


def test_secret_key_file_is_private_and_stable(tmp_path: Path) -> None:
    from plantwatch.web.auth import load_secret_key

    first = load_secret_key(tmp_path)
    assert len(first) >= 64 and load_secret_key(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert load_secret_key(tmp_path, "explicit") == "explicit"


def test_demo_operation_is_never_in_the_past() -> None:
    import datetime as dt

    import yaml

    from plantwatch.web.demo_seed import demo_ops_yaml

    day = dt.date(2031, 5, 2)
    data = yaml.safe_load(demo_ops_yaml(day))
    assert data["date"] == dt.date(2031, 5, 9) and data["date"].weekday() < 5
    assert json.dumps(data, default=str)  # plain YAML, no custom tags


def test_page_cache_until_write_or_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    from plantwatch.web import cache as cache_mod

    clock = [100.0]
    monkeypatch.setattr(cache_mod.time, "monotonic", lambda: clock[0])
    cache = cache_mod.PageCache(ttl_s=5.0)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == 1 and cache.get("k", compute) == 1  # cached
    cache.bump()  # a write
    assert cache.get("k", compute) == 2
    clock[0] += 5.1  # another process's write shows after the TTL
    assert cache.get("k", compute) == 3

    def racing() -> int:  # a write lands while the page is being computed
        cache.bump()
        return compute()

    assert cache.get("r", racing) == 4
    assert cache.get("r", compute) == 5  # stored under the old generation: recomputed
