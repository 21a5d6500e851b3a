"""dumps_pretty: indented to ``depth``, one compact C-encoded line below, strict JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from plantwatch.jsonutil import dumps_pretty


def test_layout_and_round_trip() -> None:
    value: dict[str, Any] = {
        "name": "タンク",
        "items": [{"a": 1.5, "b": None, "c": [1, 2]}, {"a": 0.1, "b": True, "c": []}],
        "empty": {},
        3: "int key",
    }
    text = dumps_pretty(value, indent=2, depth=2)
    assert text == (
        "{\n"
        '  "name": "\\u30bf\\u30f3\\u30af",\n'
        '  "items": [\n'
        '    {"a": 1.5, "b": null, "c": [1, 2]},\n'
        '    {"a": 0.1, "b": true, "c": []}\n'
        "  ],\n"
        '  "empty": {},\n'
        '  "3": "int key"\n'
        "}"
    )
    assert json.loads(text) == {**{k: v for k, v in value.items() if k != 3}, "3": "int key"}
    assert '"タンク"' in dumps_pretty(value, ensure_ascii=False)


def test_strict_json_and_default() -> None:
    with pytest.raises(ValueError):
        dumps_pretty({"x": [math.nan]}, depth=1)
    with pytest.raises(TypeError):
        dumps_pretty({"x": np.float32(1.0)}, depth=1)
    text = dumps_pretty({"x": [np.float32(1.5)]}, depth=1, default=float)
    assert text == '{\n  "x": [1.5]\n}'
