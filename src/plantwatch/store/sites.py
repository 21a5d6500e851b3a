"""Sites: a site GeoJSON validated by :func:`plantwatch.drone.site.site_from_geojson`, stored as
given, with its facilities and zones as rows for queries.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.errors import InputError
from plantwatch.jsonutil import jsonable
from plantwatch.store import audit
from plantwatch.store.access import (
    Actor,
    actor_of,
    clean_text,
    get_row,
)
from plantwatch.store.db import write_lock
from plantwatch.store.models import (
    Facility,
    Site,
    Zone,
)

__all__ = ["import_site", "site_model"]


def import_site(s: Session, geojson_text: str, name: str | None, by: Actor) -> Site:
    """Store a site GeoJSON and its facilities and zones (validated by the site model).

    Parameters
    ----------
    geojson_text
        The site file's text (``docs/site-format.md``).
    name
        Site name; default the file's ``properties.name``. Unique.
    """
    from dataclasses import asdict

    from plantwatch.drone.site import site_from_geojson

    actor, _ = actor_of(s, by, "site.import")
    if not isinstance(geojson_text, str) or not geojson_text.strip():
        raise InputError("is empty; give the site GeoJSON", field="geojson")
    try:
        data = json.loads(geojson_text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            field="geojson",
        ) from None
    wanted = clean_text(name, "name", max_len=200) or None
    model = site_from_geojson(data, name=wanted)
    site_name = model.name[:200]
    write_lock(s)
    if s.execute(select(Site.id).where(Site.name == site_name)).first() is not None:
        raise InputError(f"a site named {site_name!r} exists; choose another name", field="name")
    site = Site(name=site_name, geojson=geojson_text, created_by=actor)
    s.add(site)
    s.flush()
    for facility in model.facilities:
        data_json = jsonable(asdict(facility))
        s.add(
            Facility(
                site_id=site.id,
                key=facility.id,
                kind=facility.type,
                name=facility.name,
                data_json=data_json,
            )
        )
    for zone in model.zones:
        s.add(Zone(site_id=site.id, key=zone.id, kind=zone.kind, data_json=jsonable(asdict(zone))))
    s.flush()
    audit.record(
        s,
        actor,
        "site.import",
        "site",
        site.id,
        {
            "name": site_name,
            "facilities": len(model.facilities),
            "zones": len(model.zones),
            "geojson_sha256": hashlib.sha256(geojson_text.encode("utf-8")).hexdigest(),
        },
    )
    return site


def site_model(s: Session, site_id: int) -> Any:
    """The stored site as a :class:`plantwatch.drone.model.Site` (for maps and planning)."""
    from plantwatch.drone.site import site_from_geojson

    site = get_row(s, Site, site_id, "site")
    return site_from_geojson(json.loads(site.geojson), name=site.name)
