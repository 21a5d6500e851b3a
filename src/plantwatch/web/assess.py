"""Compliance findings, risk register and flight-plan documents of a stored plan, cached.

The compliance check of a plan takes seconds (airspace layers, route sampling), a PDF longer;
pages must answer in milliseconds. So the assessment is computed once per (plan, operation
text) when the operation is set, kept as JSON next to the plan's files, and documents are
rendered from it on first download and kept too. A changed operation text has another hash,
hence another cache entry; nothing is ever stale.

Everything here calls the library (``plantwatch.drone.compliance``, ``.risk``,
``.documents``); the web layer only decides where the results live.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from plantwatch.errors import InputError

__all__ = ["assessment", "assessment_path", "document_file", "load_ops_text", "run_assessment"]

CACHE_DIR = Path("files") / "cache" / "plans"  # relative to the store's data_dir
DOC_FORMATS = ("html", "pdf")
DOC_LANGS = ("ja", "en")


def _ops_hash(ops_text: str) -> str:
    return hashlib.sha256(ops_text.encode("utf-8")).hexdigest()[:16]


def assessment_path(data_dir: Path, plan_id: int, ops_text: str) -> Path:
    return data_dir / CACHE_DIR / str(plan_id) / f"assessment-{_ops_hash(ops_text)}.json"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _refuse_server_paths(ops_text: str) -> None:
    """The operation file's ``airspace`` may name a packaged sample set, not a folder: a path
    in text sent to the server would read the server's files (the CLI allows folders)."""
    import yaml

    try:
        raw = yaml.safe_load(ops_text)
    except yaml.YAMLError:
        return  # load_operation says what is wrong with the YAML
    value = raw.get("airspace") if isinstance(raw, dict) else None
    if isinstance(value, str) and (
        "/" in value or "\\" in value or value.startswith(".") or Path(value).is_absolute()
    ):
        raise InputError(
            f"{value!r} is a folder; on the server only a packaged airspace set may be named "
            "(or leave it out: the plan's site picks its sample set)",
            field="ops.airspace",
        )


def load_ops_text(ops_text: str, today: dt.date | None = None) -> Any:
    """Validate an operation file's text (``plantwatch.drone.operation.load_operation``)."""
    from plantwatch.drone.operation import load_operation

    if not ops_text.strip():
        raise InputError("is empty; paste or upload an operation file (ops.yaml)", field="ops")
    _refuse_server_paths(ops_text)
    with tempfile.TemporaryDirectory(prefix="plantwatch-ops-") as tmp:
        path = Path(tmp) / "ops.yaml"
        path.write_text(ops_text, encoding="utf-8")
        return load_operation(path, today)


def run_assessment(plan_dir: Path, ops_text: str, today: dt.date | None = None) -> dict[str, Any]:
    """Check the plan against every rule and build its risk register (the work of
    ``plantwatch drone check`` and ``drone risk``) as one JSON-ready mapping."""
    from plantwatch.drone.airspace import load_airspace, resolve_airspace
    from plantwatch.drone.compliance import check_plan
    from plantwatch.drone.operation import today_jst
    from plantwatch.drone.risk import risk_register
    from plantwatch.drone.site import load_site
    from plantwatch.jsonutil import jsonable

    reference = today or today_jst()
    operation = load_ops_text(ops_text, reference)
    site = load_site(plan_dir / "site.geojson")
    folder, note = resolve_airspace(None, operation, plan_dir, site)
    airspace = load_airspace(folder, site, source=note) if folder is not None else None
    result = check_plan(plan_dir, operation, airspace, reference, site=site)
    holds = {name: fact.holds for name, fact in result.facts.items()}
    ctx = result.context
    register = risk_register(ctx.operation, holds, ctx.route, ctx.site)
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    return {
        "today": reference.isoformat(),
        "airspace_note": str(note),
        "exit_status": result.exit_status,
        "may_proceed": result.exit_status == 0,
        "counts": counts,
        "findings": [f.to_json() for f in result.findings],
        "risk": jsonable(dataclasses.asdict(register)),
    }


@functools.lru_cache(maxsize=64)
def _read_json(path: Path) -> dict[str, Any]:
    """A cached assessment (files are written once, atomically, under a content-hash name)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def assessment(
    data_dir: Path, plan_id: int, plan_dir: Path, ops_text: str, *, compute: bool
) -> dict[str, Any] | None:
    """The cached assessment of the plan under this operation text; computed (and cached) when
    ``compute`` is true and missing, else ``None`` when missing."""
    path = assessment_path(data_dir, plan_id, ops_text)
    if path.is_file():
        return _read_json(path)
    if not compute:
        return None
    data = run_assessment(plan_dir, ops_text)
    _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    return data


def document_file(
    data_dir: Path, plan_id: int, plan_dir: Path, ops_text: str, lang: str, fmt: str
) -> Path:
    """The flight-plan document (MHLW-2022 Table 3.1 + compliance + Table 3.2 risks) as HTML or
    PDF, rendered by ``plantwatch.drone.documents`` on first request and cached."""
    from plantwatch.drone.documents import check_lang, html_to_pdf, render_flight_plan_html

    check_lang(lang)
    if fmt not in DOC_FORMATS:
        raise InputError(f"must be one of {', '.join(DOC_FORMATS)}, got {fmt!r}", field="format")
    path = data_dir / CACHE_DIR / str(plan_id) / f"flight_plan-{_ops_hash(ops_text)}-{lang}.{fmt}"
    if path.is_file():
        return path
    data = assessment(data_dir, plan_id, plan_dir, ops_text, compute=True)
    assert data is not None
    operation = load_ops_text(ops_text, dt.date.fromisoformat(data["today"]))
    html = render_flight_plan_html(
        plan_dir,
        operation,
        data["findings"],
        data["risk"],
        lang,
        today=dt.date.fromisoformat(data["today"]),
    )
    body = html.encode("utf-8") if fmt == "html" else html_to_pdf(html, base_url=str(plan_dir))
    _atomic_write(path, body)
    return path
