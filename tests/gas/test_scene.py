"""Scene files: every example loads; bad fields give one-line errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantwatch.errors import InputError
from plantwatch.gas.randomize import random_scene
from plantwatch.gas.scene import load_scene, scene_from_dict

EXAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("examples", "scenes").glob("*.yaml"))
GOOD = {"species": "methane", "leak": {"position_m": [0, 0, 1], "rate_g_s": 0.1}}


def test_examples_exist_and_load():
    names = [p.name for p in EXAMPLES]
    assert any("hidden" in n or "pipe" in n for n in names)
    assert any("propane" in n for n in names)
    for path in EXAMPLES:
        scene = load_scene(path)
        assert scene.leak is not None


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"species": "hydrogen"}, "species", "valid: methane, propane"),
        ({"leak": {"position_m": [0, 0, 1], "rate_g_s": -1}}, "leak.rate_g_s", "greater than 0"),
        (
            {"leak": {"position_m": [0, 0, float("nan")], "rate_g_s": 1}},
            "leak.position_m.2",
            "finite",
        ),
        ({"leak": {"position_m": [0, 0, 1]}}, "leak", "exactly one of rate_g_s or rate_l_min"),
        ({"leak": {"position_m": [0, 0, 1], "rate_g_s": 1, "rate_l_min": 2}}, "leak", "exactly"),
        ({"camera": {"hfov_deg": 0}}, "camera.hfov_deg", "greater than 0"),
        ({"camera": {"band": "swir"}}, "camera.band", "'mwir' or 'lwir'"),
        ({"wind": {"speed_m_s": 99}}, "wind.speed_m_s", "less than or equal to 30"),
        (
            {
                "objects": [
                    {"type": "pipe", "start_m": [0, 0, 0], "end_m": [1, 0, 0], "diameter_m": -0.1}
                ]
            },
            "objects.0.pipe.diameter_m",
            "greater than 0",
        ),
        ({"objects": [{"type": "donut"}]}, "objects.0", "does not match any of the expected tags"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_scene_from_dict_invalid(patch, field, message):
    with pytest.raises(InputError) as info:
        scene_from_dict({**GOOD, **patch})
    text = str(info.value)
    assert text.startswith(field + ":"), text
    assert message in text
    assert "\n" not in text


def test_load_scene_invalid(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_scene(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("species: [methane\n")
    with pytest.raises(InputError, match="not valid YAML at line"):
        load_scene(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        load_scene(empty)


def test_random_scene_is_deterministic_and_varied():
    assert random_scene(3) == random_scene(3)
    scenes = [random_scene(s) for s in range(40)]
    assert len({s.species for s in scenes}) == 2
    occluding = sum(any(o.type in ("pipe", "pipe_rack") for o in s.objects) for s in scenes)
    assert occluding >= 15
    assert all(s.leak is not None for s in scenes)


def test_random_scene_drops_an_object_the_camera_stands_in():
    """A drawn object around the camera is dropped, the rest of the scene kept as drawn."""
    from plantwatch.gas.randomize import _without_objects_around_camera
    from plantwatch.gas.scene import TankSpec

    scene = random_scene(3)
    x, y, _z = scene.camera.position_m
    tank = TankSpec(type="tank", base_center_m=(x + 1.0, y, 0.0), diameter_m=6.0, height_m=9.0)
    crowded = scene.model_copy(update={"objects": [*scene.objects, tank]})
    assert _without_objects_around_camera(crowded) == scene
    assert _without_objects_around_camera(scene) is scene
