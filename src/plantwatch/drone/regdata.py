"""Regulatory data of the drone half: load and validate every YAML file under ``data/``.

All legal rules, checklist items, risk items and crew/aircraft requirements are data
(``DESIGN.md``: "Regulatory content is data"); ``src/plantwatch/data/rules/SCHEMA.md`` is the
contract between the data, the compliance engine and the documents. This module turns the
files into frozen pydantic models, checks them against that schema once, at the boundary, and
raises :class:`~plantwatch.errors.DataError` naming the file, the entry (index and id) and the
field when a file breaks it.

Files (relative to the data folder, default ``plantwatch/data``)::

    rules/*.yaml                 list of Rule           (load_rules)
    risks.yaml                   list of RiskEntry      (load_risks)
    checklists/table_<n>.yaml    one Checklist          (load_checklist, load_checklists)
    crew/roles.yaml              list of Role           (load_roles)
    crew/*.yaml (the others)     list of Requirement    (load_pilot_skills,
                                                         load_aircraft_requirements,
                                                         load_requirements)

The data folder can be replaced as a whole (a plant's own copy with its internal rules) by the
environment variable ``PLANTWATCH_DATA_DIR``.

The YAML reader (:func:`read_yaml`) is a safe loader that rejects duplicate keys and reads
``10:30`` as the string ``"10:30"`` rather than YAML 1.1's base-60 integer 630, so times in
operation files mean what they say.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from plantwatch.errors import DataError, InputError

__all__ = [
    "DATA_DIR_ENV",
    "PREDICATE_NAMES",
    "Checklist",
    "ChecklistItem",
    "Permit",
    "RegulatoryData",
    "Requirement",
    "RiskEntry",
    "Role",
    "Rule",
    "Text",
    "default_data_dir",
    "load_aircraft_requirements",
    "load_all",
    "load_checklist",
    "load_checklists",
    "load_pilot_skills",
    "load_requirements",
    "load_risks",
    "load_roles",
    "load_rules",
    "read_yaml",
    "used_predicates",
]

DATA_DIR_ENV = "PLANTWATCH_DATA_DIR"
"""Environment variable naming a replacement data folder (a full copy of ``plantwatch/data``)."""

PREDICATE_NAMES: tuple[str, ...] = (
    "airspace_above_150m",
    "airspace_airport_surfaces",
    "airspace_did",
    "airspace_emergency",
    "method_night",
    "method_bvlos",
    "method_within_30m",
    "method_event",
    "method_dangerous_goods",
    "method_dropping",
    "aircraft_unregistered",
    "radio_licence_needed",
    "radio_uncertified",
    "small_uav_protected_site",
    "port_area",
    "privacy_capture",
    "ex_zone_non_explosion_proof",
    "near_hazardous_area",
    "fire_restricted_area",
    "indoor",
    "pilot_hours_insufficient",
    "maintenance_overdue",
    "crew_incomplete",
    "wind_over_limit",
    "always",
)
"""Every predicate name of ``rules/SCHEMA.md`` (the engine implements each one in
``plantwatch.drone.compliance.PREDICATES``)."""

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]
Level = Annotated[int, Field(ge=1, le=5)]

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(BaseModel):
    """Text in English and Japanese (both required, non-empty)."""

    model_config = _STRICT
    en: NonEmpty
    ja: NonEmpty

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``"en"`` or ``"ja"``)."""
        return self.ja if lang == "ja" else self.en


def _check_predicate(when: str | None, field: str = "when") -> None:
    if when is not None and when not in PREDICATE_NAMES:
        raise ValueError(
            f"{field}: unknown predicate {when!r}; known: {', '.join(PREDICATE_NAMES)}"
        )


class Permit(BaseModel):
    """The permission a ``permit_required`` rule asks for, from whom, and how early."""

    model_config = _STRICT
    name: Text
    authority: Text
    lead_time_business_days: Annotated[int, Field(ge=0)] | None = None
    lead_time_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _one_lead_time(self) -> Permit:
        if self.lead_time_business_days is not None and self.lead_time_hours is not None:
            raise ValueError("give lead_time_business_days or lead_time_hours, not both")
        return self


class Rule(BaseModel):
    """A legal or internal rule (``rules/*.yaml``)."""

    model_config = _STRICT
    id: RuleId
    title: Text
    text: Text
    citation: NonEmpty
    check: Literal["auto", "person"]
    when: str | None = None
    outcome: Literal["permit_required", "prohibited", "confirm"] | None = None
    permit: Permit | None = None
    question: Text | None = None
    seed_lines: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        _check_predicate(self.when)
        if self.check == "auto":
            if self.when is None:
                raise ValueError("when: an auto rule needs a predicate")
            if self.outcome is None:
                raise ValueError(
                    "outcome: an auto rule needs one of permit_required, prohibited, confirm"
                )
        if self.outcome == "permit_required" and self.permit is None:
            raise ValueError("permit: a permit_required rule needs permit {name, authority, …}")
        if (self.check == "person" or self.outcome == "confirm") and self.question is None:
            raise ValueError("question: person rules and confirm outcomes need a question")
        return self

    @property
    def predicate(self) -> str:
        """The predicate that decides whether the rule applies (``always`` when not given)."""
        return self.when or "always"


class ChecklistItem(BaseModel):
    """One item of a checklist table."""

    model_config = _STRICT
    # t<table>.<2-digit item>; a letter suffix numbers the seed's unnumbered bullets of an item
    id: Annotated[str, StringConstraints(pattern=r"^t\d+(\.\d+)*\.\d{2}[a-z]?$")]
    text: Text
    citation: NonEmpty
    check: Literal["auto", "person"]
    when: str | None = None
    stops_flight: bool = False
    seed_lines: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChecklistItem:
        _check_predicate(self.when)
        if self.check == "auto" and self.when is None:
            raise ValueError("when: an auto item needs a predicate (holds = the item fails)")
        return self


class Checklist(BaseModel):
    """A checklist table (Table 3.3, Tables 4.1-4.9)."""

    model_config = _STRICT
    table: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)+$")]
    title: Text
    phase: Literal["site_survey", "pre_flight", "test_flight", "in_flight", "post_flight"]
    applies: Literal["always", "near_hazardous_area", "indoor"]
    citation: NonEmpty
    items: Annotated[list[ChecklistItem], Field(min_length=1)]
    seed_lines: str | None = None

    @model_validator(mode="after")
    def _item_ids(self) -> Checklist:
        prefix = f"t{self.table}."
        for index, item in enumerate(self.items):
            if not item.id.startswith(prefix) or item.id.count(".") != prefix.count("."):
                raise ValueError(
                    f"items[{index}] (id {item.id!r}): id must be {prefix}<2-digit number>[letter]"
                )
        return self


class RiskEntry(BaseModel):
    """A Table 3.2 risk item (``risks.yaml``)."""

    model_config = _STRICT
    id: Annotated[str, StringConstraints(pattern=r"^[abc][1-9]\d*$")]
    group: Literal["general", "near_hazardous_area", "indoor"]
    hazard: Text
    mitigations: Annotated[list[Text], Field(min_length=1)]
    likelihood: Level
    severity: Level
    residual_likelihood: Level
    residual_severity: Level | None = None
    citation: NonEmpty
    seed_lines: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RiskEntry:
        expected = {"a": "general", "b": "near_hazardous_area", "c": "indoor"}[self.id[0]]
        if self.group != expected:
            raise ValueError(f"group: items {self.id[0]}<n> belong to group {expected!r}")
        if self.residual_likelihood > self.likelihood:
            raise ValueError("residual_likelihood: must not exceed likelihood")
        if self.residual_severity is not None and self.residual_severity > self.severity:
            raise ValueError("residual_severity: must not exceed severity")
        return self


class Role(BaseModel):
    """A crew role of Table 2.3 (``crew/roles.yaml``)."""

    model_config = _STRICT
    id: Annotated[str, StringConstraints(pattern=r"^role\.[a-z0-9_]+$")]
    name: Text
    duties: Text
    required: bool
    citation: NonEmpty
    seed_lines: str | None = None


class Requirement(BaseModel):
    """A pilot skill (Tables 2.1, 2.2) or aircraft requirement (Table 2.4)."""

    model_config = _STRICT
    id: RuleId
    text: Text
    citation: NonEmpty
    check: Literal["auto", "person"]
    when: str | None = None
    # the maintenance rule's interval, read by the engine and the maintenance tracker [h]
    interval_flight_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    seed_lines: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Requirement:
        _check_predicate(self.when)
        if self.check == "auto" and self.when is None:
            raise ValueError("when: an auto requirement needs a predicate")
        return self


# -- YAML -------------------------------------------------------------------------------------


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available


class _Loader(_Base):
    """Safe loader: duplicate keys are errors; no YAML 1.1 base-60 numbers (``10:30``)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
)
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
    r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def read_yaml(path: str | Path, *, error: type[Exception] = InputError, field: str = "") -> Any:
    """Parse one YAML file with the strict safe loader.

    Parameters
    ----------
    path
        The file.
    error
        Exception class raised when the file is missing or not YAML (``InputError`` for user
        files, ``DataError`` for shipped data).
    field
        Field name for ``InputError`` (e.g. ``"--ops"``).

    Returns
    -------
    data
        The parsed document (``None`` for an empty file).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _error(error, f"no such file: {str(file)!r}", field) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(error, f"cannot read {str(file)!r}: {exc}", field) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _error(error, f"{str(file)!r} is not valid YAML: {problem}{where}", field) from None


def _error(error: type[Exception], message: str, field: str) -> Exception:
    if error is InputError:
        return InputError(message, field=field or None)
    return error(message)


# -- loading ----------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def default_data_dir() -> Path:
    """The data folder: ``$PLANTWATCH_DATA_DIR`` if set, else the packaged ``plantwatch/data``."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(str(resources.files("plantwatch") / "data"))


def _root(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def _display(path: Path, root: Path) -> str:
    try:
        return f"data/{path.relative_to(root).as_posix()}"
    except ValueError:
        return str(path)


def _pydantic_message(exc: ValidationError, skip: int = 0) -> str:
    """The first error as ``field.path: message`` (dropping ``skip`` leading parts of its path)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"][skip:])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is missing"
    elif first["type"] == "extra_forbidden":
        message = "unknown field (not in SCHEMA.md)"
    return f"{loc}: {message}" if loc else message


def _entry_name(index: int, raw: object) -> str:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {index}" + (f" (id {entry_id!r})" if entry_id is not None else "")


def _read_data(path: Path, root: Path) -> Any:
    if not path.is_file():
        raise DataError(f"{_display(path, root)} is missing (regulatory data not installed?)")
    return read_yaml(path, error=DataError)


def _load_list(path: Path, root: Path, model: type[M]) -> tuple[M, ...]:
    raw = _read_data(path, root)
    name = _display(path, root)
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{name}: must be a non-empty YAML list of entries")
    entries: list[M] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise DataError(f"{name} entry {index}: must be a mapping, got {item!r:.60}")
        try:
            entries.append(model.model_validate(item))
        except ValidationError as exc:
            raise DataError(
                f"{name} {_entry_name(index, item)}: {_pydantic_message(exc)}"
            ) from None
    _check_unique((e.id for e in entries), name)  # type: ignore[attr-defined]
    return tuple(entries)


def _check_unique(ids: Iterable[str], where: str) -> None:
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise DataError(f"{where}: duplicate id {entry_id!r}")
        seen.add(entry_id)


def load_rules(data_dir: str | Path | None = None) -> tuple[Rule, ...]:
    """Every rule of ``rules/*.yaml``, files in name order, entries in file order.

    Raises
    ------
    DataError
        No rule file, or a file breaks SCHEMA.md (file, entry and field named), or an id is
        used twice across the files.
    """
    root = _root(data_dir)
    files = sorted((root / "rules").glob("*.yaml"))
    if not files:
        raise DataError(f"{_display(root / 'rules', root)}/*.yaml: no rule files")
    rules: list[Rule] = []
    where: dict[str, str] = {}
    for file in files:
        for rule in _load_list(file, root, Rule):
            if rule.id in where:
                raise DataError(
                    f"{_display(file, root)} rule {rule.id!r}: duplicate id (also in "
                    f"{where[rule.id]})"
                )
            where[rule.id] = _display(file, root)
            rules.append(rule)
    return tuple(rules)


def load_risks(data_dir: str | Path | None = None) -> tuple[RiskEntry, ...]:
    """The Table 3.2 risk items of ``risks.yaml``."""
    root = _root(data_dir)
    return _load_list(root / "risks.yaml", root, RiskEntry)


def _checklist_file_table(path: Path) -> str | None:
    match = re.fullmatch(r"table_(\d+(?:[._]\d+)*)", path.stem)
    return match.group(1).replace("_", ".") if match else None


def _load_checklist_file(path: Path, root: Path) -> Checklist:
    raw = _read_data(path, root)
    name = _display(path, root)
    if not isinstance(raw, dict):
        raise DataError(f"{name}: must be a mapping with table, title, …, items")
    try:
        checklist = Checklist.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            items = raw.get("items")
            item = items[loc[1]] if isinstance(items, list) and len(items) > loc[1] else None
            raise DataError(
                f"{name} {_entry_name(loc[1], item).replace('entry', 'item')}: "
                f"{_pydantic_message(exc, skip=2)}"
            ) from None
        raise DataError(f"{name}: {_pydantic_message(exc)}") from None
    file_table = _checklist_file_table(path)
    if file_table != checklist.table:
        raise DataError(
            f"{name}: table {checklist.table!r} does not match the file name (want "
            f"table_{checklist.table}.yaml)"
        )
    _check_unique((item.id for item in checklist.items), name)
    return checklist


def load_checklists(data_dir: str | Path | None = None) -> tuple[Checklist, ...]:
    """Every checklist of ``checklists/table_*.yaml``, in table order (3.3, 4.1, …, 4.9).

    Parsed once per version of the files (the web app records checklist answers one by one, and
    re-parsing ten YAML files cost ~15 ms a write); an edited file is read again.
    """
    root = _root(data_dir)
    files = sorted((root / "checklists").glob("*.yaml"))
    if not files:
        raise DataError(f"{_display(root / 'checklists', root)}/*.yaml: no checklist files")
    stats = [(f, f.stat()) for f in files]
    stamp = tuple((str(f), st.st_mtime_ns, st.st_size) for f, st in stats)
    return _parse_checklists(root, stamp)


@functools.lru_cache(maxsize=8)
def _parse_checklists(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> tuple[Checklist, ...]:
    files = [Path(name) for name, _mtime, _size in stamp]
    checklists = [_load_checklist_file(file, root) for file in files]
    checklists.sort(key=lambda c: tuple(int(part) for part in c.table.split(".")))
    _check_unique((c.table for c in checklists), "data/checklists (table)")
    _check_unique((i.id for c in checklists for i in c.items), "data/checklists (item)")
    return tuple(checklists)


def load_checklist(table: str, data_dir: str | Path | None = None) -> Checklist:
    """One checklist by its table number (``"4.1"``).

    Raises
    ------
    InputError
        No checklist for that table (the known tables listed).
    """
    checklists = load_checklists(data_dir)
    for checklist in checklists:
        if checklist.table == str(table).strip():
            return checklist
    known = ", ".join(c.table for c in checklists)
    raise InputError(f"no checklist for table {table!r}; known: {known}", field="table")


def load_roles(data_dir: str | Path | None = None) -> tuple[Role, ...]:
    """The crew roles of Table 2.3 (``crew/roles.yaml``)."""
    root = _root(data_dir)
    return _load_list(root / "crew" / "roles.yaml", root, Role)


def load_requirements(data_dir: str | Path | None = None) -> dict[str, tuple[Requirement, ...]]:
    """Every ``crew/*.yaml`` except ``roles.yaml``, by file stem (``pilot_skills``, …)."""
    root = _root(data_dir)
    files = sorted(f for f in (root / "crew").glob("*.yaml") if f.name != "roles.yaml")
    loaded = {file.stem: _load_list(file, root, Requirement) for file in files}
    _check_unique((r.id for group in loaded.values() for r in group), "data/crew")
    return loaded


def load_pilot_skills(data_dir: str | Path | None = None) -> tuple[Requirement, ...]:
    """Pilot skills of Tables 2.1 and 2.2 (``crew/pilot_skills.yaml``)."""
    root = _root(data_dir)
    return _load_list(root / "crew" / "pilot_skills.yaml", root, Requirement)


def load_aircraft_requirements(data_dir: str | Path | None = None) -> tuple[Requirement, ...]:
    """Aircraft requirements of Table 2.4 (``crew/aircraft_requirements.yaml``)."""
    root = _root(data_dir)
    return _load_list(root / "crew" / "aircraft_requirements.yaml", root, Requirement)


@dataclass(frozen=True)
class RegulatoryData:
    """Everything under the data folder, validated together."""

    rules: tuple[Rule, ...]
    risks: tuple[RiskEntry, ...]
    checklists: tuple[Checklist, ...]
    roles: tuple[Role, ...]
    requirements: dict[str, tuple[Requirement, ...]]


def load_all(data_dir: str | Path | None = None) -> RegulatoryData:
    """Load and validate every regulatory data file (the schema test calls this).

    Raises
    ------
    DataError
        The first file that is missing or breaks SCHEMA.md.
    """
    data = RegulatoryData(
        rules=load_rules(data_dir),
        risks=load_risks(data_dir),
        checklists=load_checklists(data_dir),
        roles=load_roles(data_dir),
        requirements=load_requirements(data_dir),
    )
    _check_unique(
        [
            *(r.id for r in data.rules),
            *(r.id for r in data.roles),
            *(r.id for group in data.requirements.values() for r in group),
        ],
        "data (rule, role and requirement ids together)",
    )
    return data


def used_predicates(
    rules: Sequence[Rule],
    checklists: Sequence[Checklist] = (),
    requirements: Iterable[Requirement] = (),
) -> set[str]:
    """Predicate names referred to by rules (``always`` for person rules without ``when``),
    checklist items and requirements."""
    used = {rule.predicate for rule in rules}
    used |= {item.when for c in checklists for item in c.items if item.when}
    used |= {r.when for r in requirements if r.when}
    return used
