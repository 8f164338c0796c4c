"""Read and validate a clinic's protocol file (TOML) into a `Protocol`.

A clinic lead edits these files by hand, so every mistake is reported with the file, the line
and the field (a dotted path such as `phases[2].ends`, indices counted from 0) and says what to
write instead. tomllib gives no line numbers for values: `toml_lines.TomlLineMap` finds them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
from kapsession.domain.protocol import (
    DEFAULT_RECHECK_AFTER_MIN,
    DEFAULT_SLOT_WINDOW_MIN,
    MEASURES,
    AlertRule,
    Anchor,
    CautionRule,
    CheckinSpec,
    ChecklistItem,
    Comparison,
    DischargeCriteria,
    DoseLimits,
    DosingSpec,
    HoldDoseRule,
    Medication,
    MusicSpec,
    Offset,
    PhaseSpec,
    Protocol,
    Route,
    SessionType,
    default_dose_limits,
)
from kapsession.domain.toml_lines import join_path

SCHEMA_VERSION = 1
PROTOCOL_SUFFIX = ".toml"

PROTOCOL_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
ITEM_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")  # phase, check-in, checklist keys
_OFFSET_PATTERN = re.compile(r"\s*(start|dose)\s*([+-])\s*(\d+(?:\.\d+)?)\s*")

MUSIC_TRANSITIONS = frozenset({"track_end", "fade"})
MAX_CROSSFADE_S = 12.0
MAX_MINUTES = 24 * 60.0  # no offset, grace or duration in a session reaches a day
# Observe at least this long after the final dose (ED low-dose ketamine protocol,
# clinical-sources §4), unless the protocol says min_minutes_after_last_dose (issue 16).
DEFAULT_MIN_MINUTES_AFTER_LAST_DOSE = 60.0
# Every discharge checklist asks these (clinical-sources §4: "MOAA/S 5 or RASS 0",
# "CADSS/dissociation resolved"); a file, or an earlier session's snapshot, without one gets it
# first in its list with this label (issue 16).
REQUIRED_CHECKLIST = (
    ChecklistItem("sedation-resolved", "Sedation resolved: awake, responds normally (MOAA/S 5)"),
    ChecklistItem(
        "dissociation-resolved", "Dissociation resolved: back to their usual sense of self"
    ),
)


def with_required_checklist(items: Iterable[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    """The checklist with the items every protocol asks, those the file lacks put first."""
    listed = tuple(items)
    keys = {item.key for item in listed}
    return tuple(item for item in REQUIRED_CHECKLIST if item.key not in keys) + listed


MAX_SLOT_WINDOW_MIN = 120.0  # a check-in slot open for hours would take every reading
MAX_RECHECK_AFTER_MIN = 120.0  # a recheck hours after an alert is no follow-up

# Alert fields with the range a threshold can sensibly take (plausibility, not clinical advice).
ALERT_FIELDS: dict[str, tuple[float, float, str]] = {
    "systolic_mmhg": (40, 300, " mmHg"),
    "diastolic_mmhg": (20, 200, " mmHg"),
    "heart_rate_bpm": (20, 250, " bpm"),
    "spo2_pct": (50, 100, " %"),
    "resp_rate_per_min": (0, 60, " per minute"),
    "temperature_c": (30, 45, " °C"),
    "moaas": (0, 5, ""),
    "rass": (-5, 4, ""),
    "dissociation": (0, 4, ""),
    "nausea": (0, 10, ""),
    "suds": (0, 10, ""),
}

# An example value for each field, shown when a field is missing or wrong.
_EXAMPLES: dict[str, str] = {
    "schema": "1",
    "key": '"sublingual-kap-3h"',
    "name": '"Sublingual KAP, 3 hours"',
    "version": "1",
    "description": '"What this protocol is for"',
    "medication": '"ketamine"',
    "route": '"sublingual"',
    "planned_dose_after_start_min": "40",
    "hold_min": "10",
    "device_mg": "28",
    "device_spacing_min": "5",
    "booster_window": '["dose+30", "dose+45"]',
    "limits": "a [dosing.limits] table",
    "min_mg": "100",
    "max_mg": "400",
    "min_mg_per_kg": "0.5",
    "max_mg_per_kg": "0.75",
    "allowed_mg": "[56, 84]",
    "max_session_mg": "400",
    "max_boosters": "1",
    "usual_mg": "200",
    "usual_mg_per_kg": "0.5",
    "usual_booster_mg": "100",
    "booster_bp_max_age_min": "15",
    "begins": '"dose+0"',
    "ends": '"dose+25"',
    "playlist": '"onset.m3u8"',
    "label": '"T+40 blood pressure"',
    "at": '"dose+40"',
    "grace_min": "5",
    "measures": '["bp", "hr", "spo2"]',
    "required": '["bp", "spo2"]',
    "slot_window_min": "5",
    "rems": "false",
    "field": '"systolic_mmhg"',
    "op": '">="',
    "value": "180",
    "recheck_after_min": "10",
    "block_systolic_above": "160",
    "block_diastolic_above": "100",
    "caution_systolic_above": "140",
    "caution_diastolic_above": "90",
    "aldrete_pass_min": "9",
    "bp_within_pct_of_baseline": "20",
    "spo2_min_pct": "92",
    "min_minutes_after_first_dose": "0",
    "min_minutes_after_last_dose": "60",
    "checklist": '[{ key = "escort", label = "Escort present" }]',
    "transition": '"track_end"',
    "crossfade_s": "6",
    "session_type": '"dosing"',
}

# Tables and lists of tables: how to tell the reader to add one.
_TABLE_EXAMPLES: dict[str, str] = {
    "dosing": "a [dosing] table",
    "phases": "at least one [[phases]] table",
    "checkins": "[[checkins]] tables (or checkins = [] for none)",
    "alerts": "[[alerts]] tables (or alerts = [] for none)",
    "cautions": "[[cautions]] tables (or leave them out for none)",
    "hold_dose": "a [hold_dose] table",
    "discharge": "a [discharge] table",
    "checklist": "[[discharge.checklist]] tables (or checklist = [] for none)",
    "music": "a [music] table",
}

_TOML_HINTS: dict[str, str] = {
    "Cannot overwrite a value": "a key is set twice in the same table; keep one of the lines",
    "Invalid value": 'text must be in double quotes, e.g. name = "Peak"',
    "Unterminated string": "a quoted text is not closed; add the closing quote",
    "Illegal character '\\n'": "a quoted text is not closed on this line; add the closing quote",
    "Invalid statement": "each line must look like key = value or [table]; check for a stray word",
}

_T = TypeVar("_T")


class ProtocolError(ClinicFileError):
    """A protocol file that cannot be used, with where the problem is and how to fix it."""


def load_protocol(path: Path) -> Protocol:
    """Read and validate one protocol file; errors name the file by its name."""
    return parse_protocol(read_text(path, ProtocolError), path.name)


def list_protocol_files(folder: Path) -> list[Path]:
    """The protocol files in a folder, sorted by name; none if the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(
        (
            entry
            for entry in folder.iterdir()
            if entry.suffix == PROTOCOL_SUFFIX
            and not entry.name.startswith((".", "~"))
            and entry.is_file()
        ),
        key=lambda entry: entry.name,
    )


def parse_protocol(text: str, source: str) -> Protocol:
    """Validate the text of a protocol file; `source` names it in error messages."""
    return parse_toml_file(
        text,
        source,
        ProtocolError,
        lambda data: _ProtocolReader(data).protocol(),
        hints=_TOML_HINTS,
        what="protocol",
    )


def _num(value: float) -> str:
    return f"{value:g}"


class _Table:
    """One TOML table being read: knows its path and which keys it allows."""

    def __init__(self, data: dict[str, object], path: str, allowed: Iterable[str]) -> None:
        self.data = data
        self.path = path
        allowed_keys = list(allowed)
        for name in data:
            if name not in allowed_keys:
                close = difflib.get_close_matches(name, allowed_keys, n=1, cutoff=0.6)
                advice = (
                    f'did you mean "{close[0]}"?'
                    if close
                    else "allowed here: " + ", ".join(allowed_keys)
                )
                raise Invalid(self.field(name), f'unknown key "{name}"; {advice}')

    def field(self, name: str) -> str:
        return join_path(self.path, name)

    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str) -> object:
        if name not in self.data:
            if name in _TABLE_EXAMPLES:
                raise Invalid(self.field(name), f"is missing; add {_TABLE_EXAMPLES[name]}")
            example = _EXAMPLES.get(name, "...")
            where = f"the [{self.path}] table" if self.path else "the top of the file"
            if self.path.endswith("]"):
                where = "this table"
            raise Invalid(
                self.field(name), f"is missing; add a line like {name} = {example} to {where}"
            )
        return self.data[name]

    def table(self, name: str, allowed: Iterable[str]) -> _Table:
        value = self.get(name)
        if not isinstance(value, dict):
            raise Invalid(
                self.field(name), f"must be a table like [{self.field(name)}], not {show(value)}"
            )
        return _Table(value, self.field(name), allowed)

    def tables(self, name: str, allowed: Iterable[str]) -> list[_Table]:
        value = self.get(name)
        if not isinstance(value, list):
            raise Invalid(
                self.field(name),
                f"must be a list of [[{self.field(name)}]] tables, not {show(value)}",
            )
        tables: list[_Table] = []
        allowed_keys = list(allowed)
        for index, item in enumerate(value):
            item_path = f"{self.field(name)}[{index}]"
            if not isinstance(item, dict):
                raise Invalid(item_path, f"must be a table, not {show(item)}")
            tables.append(_Table(item, item_path, allowed_keys))
        return tables

    def number(
        self,
        name: str,
        *,
        minimum: float,
        maximum: float,
        unit: str = "",
        above_minimum: bool = False,
        whole: bool = False,
    ) -> float:
        return _number(
            self.get(name),
            self.field(name),
            name,
            minimum=minimum,
            maximum=maximum,
            unit=unit,
            above_minimum=above_minimum,
            whole=whole,
        )

    def optional_number(
        self, name: str, *, minimum: float, maximum: float, unit: str = "", above_minimum: bool
    ) -> float | None:
        if not self.has(name):
            return None
        return self.number(
            name, minimum=minimum, maximum=maximum, unit=unit, above_minimum=above_minimum
        )

    def text(self, name: str, *, non_empty: bool = True) -> str:
        value = self.get(name)
        if not isinstance(value, str):
            example = _EXAMPLES.get(name, '"..."')
            raise Invalid(
                self.field(name),
                f"must be text in double quotes, e.g. {name} = {example}, not {show(value)}",
            )
        if non_empty and not value.strip():
            raise Invalid(self.field(name), "is empty; write the name or label people should see")
        return value.strip() if non_empty else value

    def key(self, pattern: re.Pattern[str] = ITEM_KEY_PATTERN) -> str:
        value = self.text("key")
        if not pattern.fullmatch(value):
            kinds = "lower-case letters, digits and hyphens"
            if pattern is ITEM_KEY_PATTERN:
                kinds = "lower-case letters, digits, hyphens and underscores"
            raise Invalid(
                self.field("key"),
                f'"{value}" is not a valid key; use {kinds} only, starting with a letter or '
                'digit, e.g. "peak" or "pre-discharge"',
            )
        return value

    def choice(self, name: str, choices: Iterable[str]) -> str:
        options = sorted(choices)
        value = self.text(name)
        if value not in options:
            listed = " | ".join(f'"{option}"' for option in options)
            raise Invalid(self.field(name), f'"{value}" is not one of {listed}')
        return value

    def offset(self, name: str) -> Offset:
        return _offset(self.get(name), self.field(name))

    def boolean(self, name: str, default: bool) -> bool:
        if not self.has(name):
            return default
        value = self.data[name]
        if not isinstance(value, bool):
            raise Invalid(self.field(name), f"must be true or false (no quotes), not {show(value)}")
        return value

    def text_list(self, name: str) -> list[tuple[str, str]]:
        """A list of text values, each with its own field path."""
        value = self.get(name)
        if not isinstance(value, list):
            example = _EXAMPLES.get(name, '["..."]')
            raise Invalid(self.field(name), f"must be a list like {example}, not {show(value)}")
        items: list[tuple[str, str]] = []
        for index, item in enumerate(value):
            item_field = f"{self.field(name)}[{index}]"
            if not isinstance(item, str):
                raise Invalid(item_field, f"must be text in double quotes, not {show(item)}")
            items.append((item_field, item))
        return items


def _number(
    value: object,
    field: str,
    name: str,
    *,
    minimum: float,
    maximum: float,
    unit: str = "",
    above_minimum: bool = False,
    whole: bool = False,
) -> float:
    example = _EXAMPLES.get(name, "10")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(field, f"must be a number (no quotes), e.g. {example}, not {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid(field, f"must be an ordinary number, e.g. {example}, not {show(value)}")
    too_low = value <= minimum if above_minimum else value < minimum
    if too_low or value > maximum:
        lower = f"above {_num(minimum)}" if above_minimum else f"from {_num(minimum)}"
        raise Invalid(
            field, f"{show(value)}{unit} is out of range; it must be {lower} to {_num(maximum)}"
        )
    if whole and value != int(value):
        raise Invalid(field, f"{show(value)} must be a whole number, e.g. {example}")
    return float(value) + 0.0


def _offset(value: object, field: str) -> Offset:
    hint = 'write e.g. "dose+40" or "start+20"'
    if not isinstance(value, str):
        raise Invalid(field, f"{show(value)} is not an offset; {hint} (in double quotes)")
    match = _OFFSET_PATTERN.fullmatch(value)
    if match is None:
        raise Invalid(field, f'"{value}" is not an offset; {hint}')
    anchor, sign, digits = match.groups()
    minutes = float(digits)
    if minutes > MAX_MINUTES:
        raise Invalid(field, f'"{value}" is more than a day away; {hint}')
    if sign == "-":
        minutes = -minutes
    return Offset(Anchor(anchor), minutes + 0.0)


def _unique(items: list[_T], key_of: Callable[[_T], str], field_of: Callable[[int], str]) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = key_of(item)
        if key in seen:
            raise Invalid(
                field_of(index),
                f'"{key}" is already used by an earlier entry; every key must be different',
            )
        seen[key] = index


@dataclass(frozen=True)
class _Projection:
    """Places offsets on one line of minutes from the start, with the dose at its planned time."""

    planned_dose_min: float

    def minutes(self, offset: Offset) -> float:
        base = self.planned_dose_min if offset.anchor is Anchor.DOSE else 0.0
        return base + offset.minutes


_TOP_KEYS = (
    "schema",
    "key",
    "name",
    "version",
    "description",
    "slot_window_min",
    "dosing",
    "phases",
    "checkins",
    "alerts",
    "cautions",
    "hold_dose",
    "discharge",
    "music",
    "session_type",
)
_DOSING_KEYS = (
    "medication",
    "route",
    "planned_dose_after_start_min",
    "hold_min",
    "device_mg",
    "device_spacing_min",
    "booster_window",
    "limits",
)
_LIMIT_KEYS = (
    "min_mg",
    "max_mg",
    "min_mg_per_kg",
    "max_mg_per_kg",
    "allowed_mg",
    "max_session_mg",
    "max_boosters",
    "usual_mg",
    "usual_mg_per_kg",
    "usual_booster_mg",
)
MAX_DOSE_MG = 1000.0  # plausibility of a limit, not a clinical limit
MAX_DOSE_MG_PER_KG = 10.0
MAX_BOOSTERS = 10
_PHASE_KEYS = ("key", "name", "begins", "ends", "playlist")
_CHECKIN_KEYS = (
    "key",
    "label",
    "at",
    "grace_min",
    "measures",
    "required",
    "slot_window_min",
    "rems",
)
_ALERT_KEYS = ("field", "op", "value", "label", "recheck_after_min")
_CAUTION_KEYS = ("field", "op", "value", "label")
_UPWARD = (Comparison.GT, Comparison.GE)
_HOLD_KEYS = (
    "block_systolic_above",
    "block_diastolic_above",
    "caution_systolic_above",
    "caution_diastolic_above",
)
_HOLD_OPTIONAL_KEYS = ("booster_bp_max_age_min",)
_DISCHARGE_KEYS = (
    "aldrete_pass_min",
    "bp_within_pct_of_baseline",
    "spo2_min_pct",
    "min_minutes_after_first_dose",
    "min_minutes_after_last_dose",
    "checklist",
)
_CHECKLIST_KEYS = ("key", "label")
_MUSIC_KEYS = ("transition", "crossfade_s")


# A template without a dose (issue 17) has none of these; the reader fills them with inert
# stand-ins that no part of the app acts on, since `Protocol.gives_dose` is False: no dose is
# offered (`LiveSession.dose_availability`) or saved (`check_dose`), the dose is never "due"
# within a session (planned a day after the start), no blood pressure holds anything.
NO_DOSE = DosingSpec(
    medication=Medication.KETAMINE,
    route=Route.SUBLINGUAL,
    planned_dose_after_start_min=MAX_MINUTES,
    limits=DoseLimits(),
)
NO_HOLD_DOSE = HoldDoseRule(math.inf, math.inf, math.inf, math.inf)
NO_DISCHARGE = DischargeCriteria(
    aldrete_pass_min=0,
    bp_within_pct_of_baseline=100.0,
    spo2_min_pct=0.0,
    min_minutes_after_first_dose=0.0,
    checklist=(),
    min_minutes_after_last_dose=0.0,
)


def _session_type(top: _Table) -> SessionType:
    """`session_type` (issue 17): optional, "dosing" when left out, so every protocol written
    before it, and every session's stored snapshot, keeps its meaning."""
    if not top.has("session_type"):
        return SessionType.DOSING
    return SessionType(top.choice("session_type", (t.value for t in SessionType)))


def _start_only(table: _Table, name: str, what: str, field: str) -> None:
    """An offset of a session without a dose counts from the start."""
    if not table.has(name):
        return  # its own reader says it is missing
    offset = _offset(table.get(name), field)
    if offset.anchor is Anchor.DOSE:
        raise Invalid(
            field,
            f'"{offset}" counts from the dose, but {what} has none; write it from the start, '
            f'e.g. "start+{_num(max(offset.minutes, 0))}"',
        )


class _ProtocolReader:
    """Turns parsed TOML into a `Protocol`, raising `Invalid` at the first problem."""

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data

    def protocol(self) -> Protocol:
        self._check_schema()
        top = _Table(self._data, "", _TOP_KEYS)
        session_type = _session_type(top)
        if session_type is not SessionType.DOSING:
            return self._without_dose(top, session_type)
        key = top.key(PROTOCOL_KEY_PATTERN)
        name = top.text("name")
        version = int(top.number("version", minimum=1, maximum=1_000_000, whole=True))
        description = top.text("description", non_empty=False).strip()
        slot_window_min = self._slot_window(top)
        dosing = self._dosing(top.table("dosing", _DOSING_KEYS))
        projection = _Projection(dosing.planned_dose_after_start_min)
        phases = self._phases(top, projection)
        session_end_min = projection.minutes(phases[-1].ends)
        checkins = self._checkins(top, projection, session_end_min)
        alerts = self._alerts(top)
        cautions = self._cautions(top, alerts) if top.has("cautions") else ()
        hold_dose = self._hold_dose(top.table("hold_dose", _HOLD_KEYS + _HOLD_OPTIONAL_KEYS))
        discharge = self._discharge(top.table("discharge", _DISCHARGE_KEYS))
        music = self._music(top.table("music", _MUSIC_KEYS))
        self._check_booster(dosing, projection, session_end_min)
        self._check_monitoring_time(discharge, phases[-1], projection, session_end_min)
        return Protocol(
            key=key,
            name=name,
            version=version,
            description=description,
            dosing=dosing,
            phases=phases,
            checkins=checkins,
            alerts=alerts,
            hold_dose=hold_dose,
            discharge=discharge,
            music=music,
            slot_window_min=DEFAULT_SLOT_WINDOW_MIN if slot_window_min is None else slot_window_min,
            cautions=cautions,
        )

    def _without_dose(self, top: _Table, session_type: SessionType) -> Protocol:
        """A template of a session without a dose (issue 17): phases (and check-ins, alerts,
        if it has any) on the session clock only; no [dosing], [hold_dose] or [discharge]."""
        what = f"a {session_type.value} session"
        for table in ("dosing", "hold_dose", "discharge"):
            if top.has(table):
                raise Invalid(
                    table,
                    f"{what} gives no dose, so it has no [{table}]; remove the table, or write "
                    'session_type = "dosing"',
                )
        for index, item in enumerate(top.tables("phases", _PHASE_KEYS)):
            for name in ("begins", "ends"):
                _start_only(item, name, what, f"phases[{index}].{name}")
        if top.has("checkins"):
            for index, item in enumerate(top.tables("checkins", _CHECKIN_KEYS)):
                _start_only(item, "at", what, f"checkins[{index}].at")
        key = top.key(PROTOCOL_KEY_PATTERN)
        name = top.text("name")
        version = int(top.number("version", minimum=1, maximum=1_000_000, whole=True))
        description = top.text("description", non_empty=False).strip()
        slot_window_min = self._slot_window(top)
        projection = _Projection(0.0)
        phases = self._phases(top, projection)
        session_end_min = projection.minutes(phases[-1].ends)
        checkins = self._checkins(top, projection, session_end_min) if top.has("checkins") else ()
        alerts = self._alerts(top) if top.has("alerts") else ()
        cautions = self._cautions(top, alerts) if top.has("cautions") else ()
        return Protocol(
            key=key,
            name=name,
            version=version,
            description=description,
            dosing=NO_DOSE,
            phases=phases,
            checkins=checkins,
            alerts=alerts,
            hold_dose=NO_HOLD_DOSE,
            discharge=NO_DISCHARGE,
            music=self._music(top.table("music", _MUSIC_KEYS)),
            slot_window_min=DEFAULT_SLOT_WINDOW_MIN if slot_window_min is None else slot_window_min,
            cautions=cautions,
            session_type=session_type,
        )

    def _check_schema(self) -> None:
        if "schema" not in self._data:
            raise Invalid(
                "schema", f"is missing; the file must start with schema = {SCHEMA_VERSION}"
            )
        schema = self._data["schema"]
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise Invalid(
                "schema", f"must be the number {SCHEMA_VERSION} (no quotes), not {show(schema)}"
            )
        if schema != SCHEMA_VERSION:
            raise Invalid(
                "schema",
                f"protocol schema {schema} is not known to this version of kapsession, which "
                f"reads schema {SCHEMA_VERSION}; use a matching kapsession or rewrite the file",
            )

    def _dosing(self, table: _Table) -> DosingSpec:
        medication = Medication(table.choice("medication", (m.value for m in Medication)))
        route = Route(table.choice("route", (r.value for r in Route)))
        planned = table.number("planned_dose_after_start_min", minimum=0, maximum=MAX_MINUTES)
        hold_min = table.optional_number("hold_min", minimum=0, maximum=60, above_minimum=True)
        device_mg = table.optional_number(
            "device_mg", minimum=0, maximum=1000, unit=" mg", above_minimum=True
        )
        spacing = table.optional_number(
            "device_spacing_min", minimum=0, maximum=60, above_minimum=False
        )
        if medication is Medication.ESKETAMINE and route is Route.INTRANASAL:
            for name in ("device_mg", "device_spacing_min"):
                if not table.has(name):
                    raise Invalid(
                        table.field(name),
                        f"is missing; intranasal esketamine needs {name} = {_EXAMPLES[name]} "
                        "(mg per device and minutes between devices)",
                    )
        booster: tuple[Offset, Offset] | None = None
        if table.has("booster_window"):
            booster = self._booster_window(table)
        defaults = default_dose_limits(medication, route)
        limits = defaults
        if table.has("limits"):
            limits = _dose_limits(
                table.table("limits", _LIMIT_KEYS), defaults, booster is not None, device_mg
            )
        return DosingSpec(
            medication=medication,
            route=route,
            planned_dose_after_start_min=planned,
            hold_min=hold_min,
            device_mg=device_mg,
            device_spacing_min=spacing,
            booster_window=booster,
            limits=limits,
        )

    def _booster_window(self, table: _Table) -> tuple[Offset, Offset]:
        field = table.field("booster_window")
        value = table.get("booster_window")
        if not isinstance(value, list) or len(value) != 2:
            raise Invalid(
                field,
                'must be two offsets, when it opens and when it closes, e.g. ["dose+30", '
                f'"dose+45"], not {show(value)}',
            )
        return (_offset(value[0], f"{field}[0]"), _offset(value[1], f"{field}[1]"))

    def _phases(self, top: _Table, projection: _Projection) -> tuple[PhaseSpec, ...]:
        tables = top.tables("phases", _PHASE_KEYS)
        if not tables:
            raise Invalid("phases", "is empty; add at least one [[phases]] table")
        phases: list[PhaseSpec] = []
        for table in tables:
            key = table.key()
            name = table.text("name")
            begins = table.offset("begins")
            ends = table.offset("ends")
            playlist = self._playlist(table) if table.has("playlist") else None
            phases.append(PhaseSpec(key, name, begins, ends, playlist))
        _unique(phases, lambda p: p.key, lambda i: f"phases[{i}].key")
        previous: PhaseSpec | None = None
        for index, phase in enumerate(phases):
            begins_min = projection.minutes(phase.begins)
            ends_min = projection.minutes(phase.ends)
            if previous is None and begins_min != 0:
                raise Invalid(
                    f"phases[{index}].begins",
                    f'the first phase begins at "{phase.begins}" but must begin when the session '
                    'starts; write "start+0"',
                )
            if previous is not None and phase.begins != previous.ends:
                raise Invalid(
                    f"phases[{index}].begins",
                    self._gap_message(phase, previous, projection),
                )
            if ends_min <= begins_min:
                raise Invalid(
                    f"phases[{index}].ends",
                    f'"{phase.ends}" is not after "{phase.begins}" when the dose is given at its '
                    f"planned time (start+{_num(projection.planned_dose_min)}); a phase must "
                    "last more than 0 minutes",
                )
            previous = phase
        return tuple(phases)

    @staticmethod
    def _gap_message(phase: PhaseSpec, previous: PhaseSpec, projection: _Projection) -> str:
        gap_min = projection.minutes(phase.begins) - projection.minutes(previous.ends)
        meets = f'the previous phase "{previous.key}", which ends at "{previous.ends}"'
        if gap_min > 0:
            problem = f'"{phase.begins}" leaves a {_num(gap_min)}-minute gap after {meets}'
        elif gap_min < 0:
            problem = f'"{phase.begins}" overlaps by {_num(-gap_min)} minutes with {meets}'
        else:
            problem = f'"{phase.begins}" meets {meets}, only when the dose is given exactly on time'
        return (
            f"{problem}; a phase must begin with the same offset the previous one ends with: "
            f'write begins = "{previous.ends}"'
        )

    @staticmethod
    def _playlist(table: _Table) -> str:
        value = table.text("playlist", non_empty=False)
        if not value.strip():
            raise Invalid(
                table.field("playlist"), "is empty; leave out the playlist line for silence"
            )
        if "/" in value or "\\" in value or value.strip() in (".", ".."):
            raise Invalid(
                table.field("playlist"),
                f'"{value}" must be a file name in the playlists folder, without a folder, '
                'e.g. "onset.m3u8"',
            )
        return value.strip()

    def _checkins(
        self, top: _Table, projection: _Projection, session_end_min: float
    ) -> tuple[CheckinSpec, ...]:
        checkins: list[CheckinSpec] = []
        for table in top.tables("checkins", _CHECKIN_KEYS):
            key = table.key()
            label = table.text("label")
            at = table.offset("at")
            grace_min = table.number("grace_min", minimum=0, maximum=MAX_MINUTES)
            measures = self._measures(table) if table.has("measures") else ()
            rems = table.boolean("rems", default=False)
            required = self._required(table, measures) if table.has("required") else None
            window = self._slot_window(table)
            checkins.append(
                CheckinSpec(key, label, at, grace_min, measures, rems, required, window)
            )
        _unique(checkins, lambda c: c.key, lambda i: f"checkins[{i}].key")
        previous: CheckinSpec | None = None
        for index, checkin in enumerate(checkins):
            at_min = projection.minutes(checkin.at)
            if at_min < 0:
                raise Invalid(
                    f"checkins[{index}].at",
                    f'"{checkin.at}" is before the session starts when the dose is given at its '
                    "planned time; move it later",
                )
            if at_min > session_end_min:
                raise Invalid(
                    f"checkins[{index}].at",
                    f'"{checkin.at}" is after the session ends (the last phase ends); move it '
                    "earlier or lengthen the last phase",
                )
            if previous is not None and at_min < projection.minutes(previous.at):
                raise Invalid(
                    f"checkins[{index}].at",
                    f'"{checkin.at}" comes before the previous check-in "{previous.key}" '
                    f'("{previous.at}") when the dose is given at its planned time; list '
                    "check-ins in time order",
                )
            previous = checkin
        return tuple(checkins)

    @staticmethod
    def _measures(table: _Table) -> tuple[str, ...]:
        measures: list[str] = []
        for field, measure in table.text_list("measures"):
            if measure not in MEASURES:
                known = ", ".join(MEASURES)
                raise Invalid(field, f'"{measure}" is not a known measure; use one of {known}')
            if measure in measures:
                raise Invalid(field, f'"{measure}" is listed twice; list each measure once')
            measures.append(measure)
        return tuple(measures)

    @staticmethod
    def _required(table: _Table, measures: tuple[str, ...]) -> tuple[str, ...]:
        """The measures a full check-in holds: some of its `measures`, each once."""
        required: list[str] = []
        listed = ", ".join(f'"{m}"' for m in measures) if measures else "none"
        for field, measure in table.text_list("required"):
            if measure not in MEASURES:
                known = ", ".join(MEASURES)
                raise Invalid(field, f'"{measure}" is not a known measure; use one of {known}')
            if measure not in measures:
                raise Invalid(
                    field,
                    f'"{measure}" is not one of this check-in\'s measures ({listed}); a '
                    "required measure must be listed in measures too",
                )
            if measure in required:
                raise Invalid(field, f'"{measure}" is listed twice; list each measure once')
            required.append(measure)
        return tuple(required)

    @staticmethod
    def _slot_window(table: _Table) -> float | None:
        """Minutes around a check-in's due time that its slot takes readings; None: not set."""
        return table.optional_number(
            "slot_window_min",
            minimum=0,
            maximum=MAX_SLOT_WINDOW_MIN,
            unit=" minutes",
            above_minimum=False,
        )

    @staticmethod
    def _rule(table: _Table) -> tuple[str, Comparison, float, str]:
        """The field, comparison, threshold and label of an alert or a caution."""
        field = table.text("field")
        if field not in ALERT_FIELDS:
            known = ", ".join(ALERT_FIELDS)
            raise Invalid(
                table.field("field"), f'"{field}" is not a known reading; use one of {known}'
            )
        op_text = table.text("op")
        ops = [c.value for c in Comparison]
        if op_text not in ops:
            raise Invalid(
                table.field("op"),
                f'"{op_text}" is not a comparison; use one of ' + ", ".join(ops),
            )
        minimum, maximum, unit = ALERT_FIELDS[field]
        value = table.number("value", minimum=minimum, maximum=maximum, unit=unit)
        label = table.text("label")
        return field, Comparison(op_text), value, label

    @classmethod
    def _alerts(cls, top: _Table) -> tuple[AlertRule, ...]:
        alerts: list[AlertRule] = []
        for table in top.tables("alerts", _ALERT_KEYS):
            field, op, value, label = cls._rule(table)
            recheck = table.optional_number(
                "recheck_after_min",
                minimum=0,
                maximum=MAX_RECHECK_AFTER_MIN,
                unit=" minutes",
                above_minimum=True,
            )
            after = DEFAULT_RECHECK_AFTER_MIN if recheck is None else recheck
            alerts.append(AlertRule(field, op, value, label, after))
        return tuple(alerts)

    @classmethod
    def _cautions(cls, top: _Table, alerts: tuple[AlertRule, ...]) -> tuple[CautionRule, ...]:
        """Amber bands short of the alerts: each warns before any alert of its field and
        direction would, and no field and comparison is set twice."""
        cautions: list[CautionRule] = []
        for index, table in enumerate(top.tables("cautions", _CAUTION_KEYS)):
            field, op, value, label = cls._rule(table)
            for earlier in cautions:
                if (earlier.field, earlier.op) == (field, op):
                    raise Invalid(
                        table.field("op"),
                        f"a caution on {field} {op.value} is already set above; keep one",
                    )
            upward = op in _UPWARD
            for alert in alerts:
                if alert.field != field or (alert.op in _UPWARD) != upward:
                    continue
                beyond = value >= alert.value if upward else value <= alert.value
                if beyond:
                    side = "below" if upward else "above"
                    raise Invalid(
                        f"cautions[{index}].value",
                        f'{_num(value)} is not {side} the alert "{alert.label}" '
                        f"({field} {alert.op.value} {_num(alert.value)}); a caution warns "
                        f"before the alert, so its value must be {side} {_num(alert.value)}",
                    )
            cautions.append(CautionRule(field, op, value, label))
        return tuple(cautions)

    @staticmethod
    def _hold_dose(table: _Table) -> HoldDoseRule:
        sys_min, sys_max, sys_unit = ALERT_FIELDS["systolic_mmhg"]
        dia_min, dia_max, dia_unit = ALERT_FIELDS["diastolic_mmhg"]
        limits: dict[str, float] = {}
        for name in _HOLD_KEYS:
            is_systolic = "systolic" in name
            limits[name] = table.number(
                name,
                minimum=sys_min if is_systolic else dia_min,
                maximum=sys_max if is_systolic else dia_max,
                unit=sys_unit if is_systolic else dia_unit,
            )
        for kind in ("block", "caution"):
            systolic, diastolic = (
                limits[f"{kind}_systolic_above"],
                limits[f"{kind}_diastolic_above"],
            )
            if diastolic >= systolic:
                raise Invalid(
                    table.field(f"{kind}_diastolic_above"),
                    f"{_num(diastolic)} mmHg is not below the systolic limit "
                    f"{_num(systolic)} mmHg; are the two swapped?",
                )
        for side in ("systolic", "diastolic"):
            caution, block = limits[f"caution_{side}_above"], limits[f"block_{side}_above"]
            if caution > block:
                raise Invalid(
                    table.field(f"caution_{side}_above"),
                    f"{_num(caution)} mmHg is above the block limit block_{side}_above = "
                    f"{_num(block)}; the caution limit must not be higher than the block limit",
                )
        bp_age = table.optional_number(
            "booster_bp_max_age_min", minimum=0, maximum=120, unit=" minutes", above_minimum=True
        )
        if bp_age is None:
            return HoldDoseRule(**limits)
        return HoldDoseRule(**limits, booster_bp_max_age_min=bp_age)

    @staticmethod
    def _discharge(table: _Table) -> DischargeCriteria:
        aldrete = int(table.number("aldrete_pass_min", minimum=0, maximum=10, whole=True))
        bp_pct = table.number(
            "bp_within_pct_of_baseline", minimum=0, maximum=100, unit=" %", above_minimum=True
        )
        spo2 = table.number("spo2_min_pct", minimum=70, maximum=100, unit=" %")
        min_minutes = table.number("min_minutes_after_first_dose", minimum=0, maximum=MAX_MINUTES)
        after_last = table.optional_number(
            "min_minutes_after_last_dose", minimum=0, maximum=MAX_MINUTES, above_minimum=False
        )
        items = [
            ChecklistItem(item.key(), item.text("label"))
            for item in table.tables("checklist", _CHECKLIST_KEYS)
        ]
        _unique(items, lambda c: c.key, lambda i: f"discharge.checklist[{i}].key")
        return DischargeCriteria(
            aldrete,
            bp_pct,
            spo2,
            min_minutes,
            with_required_checklist(items),
            DEFAULT_MIN_MINUTES_AFTER_LAST_DOSE if after_last is None else after_last,
        )

    @staticmethod
    def _music(table: _Table) -> MusicSpec:
        transition = table.choice("transition", MUSIC_TRANSITIONS)
        crossfade_s = table.number("crossfade_s", minimum=0, maximum=MAX_CROSSFADE_S, unit=" s")
        return MusicSpec(transition, crossfade_s)

    @staticmethod
    def _check_booster(dosing: DosingSpec, projection: _Projection, session_end_min: float) -> None:
        if dosing.booster_window is None:
            return
        opens, closes = dosing.booster_window
        field = "dosing.booster_window"
        if projection.minutes(opens) < projection.planned_dose_min:
            raise Invalid(
                f"{field}[0]",
                f'"{opens}" is before the first dose; a booster window opens after it',
            )
        if projection.minutes(closes) <= projection.minutes(opens):
            raise Invalid(f"{field}[1]", f'"{closes}" must be later than "{opens}"')
        if projection.minutes(closes) > session_end_min:
            raise Invalid(
                f"{field}[1]",
                f'"{closes}" is after the session ends; close the booster window before the last '
                "phase ends",
            )

    @staticmethod
    def _check_monitoring_time(
        discharge: DischargeCriteria,
        last_phase: PhaseSpec,
        projection: _Projection,
        session_end_min: float,
    ) -> None:
        after_dose_min = session_end_min - projection.planned_dose_min
        if after_dose_min < discharge.min_minutes_after_last_dose:
            raise Invalid(
                "discharge.min_minutes_after_last_dose",
                f"{_num(discharge.min_minutes_after_last_dose)} minutes of observation after the "
                f'dose do not fit: the session ends at "{last_phase.ends}" '
                f"({_num(after_dose_min)} minutes after the planned dose); lengthen the last phase",
            )
        if after_dose_min < discharge.min_minutes_after_first_dose:
            raise Invalid(
                "discharge.min_minutes_after_first_dose",
                f"{_num(discharge.min_minutes_after_first_dose)} minutes of monitoring after the "
                f'first dose do not fit: the session ends at "{last_phase.ends}" '
                f"({_num(after_dose_min)} minutes after the planned dose); lengthen the last phase",
            )


def _dose_limits(
    table: _Table, defaults: DoseLimits, has_booster_window: bool, device_mg: float | None
) -> DoseLimits:
    """`[dosing.limits]`: each key left out keeps the route's default (clinical-sources §2)."""

    def mg(name: str, default: float | None) -> float | None:
        value = table.optional_number(
            name, minimum=0, maximum=MAX_DOSE_MG, unit=" mg", above_minimum=True
        )
        return default if value is None else value

    def per_kg(name: str, default: float | None) -> float | None:
        value = table.optional_number(
            name, minimum=0, maximum=MAX_DOSE_MG_PER_KG, unit=" mg/kg", above_minimum=True
        )
        return default if value is None else value

    limits = DoseLimits(
        min_mg=mg("min_mg", defaults.min_mg),
        max_mg=mg("max_mg", defaults.max_mg),
        min_mg_per_kg=per_kg("min_mg_per_kg", defaults.min_mg_per_kg),
        max_mg_per_kg=per_kg("max_mg_per_kg", defaults.max_mg_per_kg),
        allowed_mg=_allowed_mg(table, defaults.allowed_mg, device_mg),
        max_session_mg=mg("max_session_mg", defaults.max_session_mg),
        max_boosters=defaults.max_boosters,
        usual_mg=mg("usual_mg", defaults.usual_mg),
        usual_mg_per_kg=per_kg("usual_mg_per_kg", defaults.usual_mg_per_kg),
        usual_booster_mg=mg("usual_booster_mg", defaults.usual_booster_mg),
    )
    if table.has("max_boosters"):
        boosters = int(table.number("max_boosters", minimum=0, maximum=MAX_BOOSTERS, whole=True))
        if boosters and not has_booster_window:
            raise Invalid(
                table.field("max_boosters"),
                f"{boosters} boosters need a booster_window in [dosing]; add one, e.g. "
                f"booster_window = {_EXAMPLES['booster_window']}, or write max_boosters = 0",
            )
        limits = dataclasses.replace(limits, max_boosters=boosters)
    _check_range(table, "min_mg", limits.min_mg, "max_mg", limits.max_mg, " mg")
    _check_range(
        table,
        "min_mg_per_kg",
        limits.min_mg_per_kg,
        "max_mg_per_kg",
        limits.max_mg_per_kg,
        " mg/kg",
    )
    for name, value, low, high, unit in (
        ("usual_mg", limits.usual_mg, limits.min_mg, limits.max_mg, " mg"),
        (
            "usual_mg_per_kg",
            limits.usual_mg_per_kg,
            limits.min_mg_per_kg,
            limits.max_mg_per_kg,
            " mg/kg",
        ),
        ("usual_booster_mg", limits.usual_booster_mg, None, limits.max_mg, " mg"),
    ):
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            lowest = "" if low is None else f"{_num(low)}"
            raise Invalid(
                table.field(name),
                f"{_num(value)}{unit} is outside the limits {lowest}–{_num(high or 0)}{unit}; "
                "the usual dose must be one the limits allow",
            )
    for index, value in enumerate(limits.allowed_mg):
        if limits.max_mg is not None and value > limits.max_mg:
            raise Invalid(
                f"{table.field('allowed_mg')}[{index}]",
                f"{_num(value)} mg is above max_mg = {_num(limits.max_mg)}; raise max_mg or "
                "remove it",
            )
    if (
        limits.max_session_mg is not None
        and limits.max_mg is not None
        and limits.max_session_mg < limits.max_mg
    ):
        raise Invalid(
            table.field("max_session_mg"),
            f"{_num(limits.max_session_mg)} mg is below max_mg = {_num(limits.max_mg)}: one dose "
            "could not be given; the session maximum must be at least max_mg",
        )
    return limits


def _allowed_mg(
    table: _Table, default: tuple[float, ...], device_mg: float | None
) -> tuple[float, ...]:
    if not table.has("allowed_mg"):
        return default
    field = table.field("allowed_mg")
    value = table.get("allowed_mg")
    if not isinstance(value, list):
        raise Invalid(field, f"must be a list of doses in mg, e.g. [56, 84], not {show(value)}")
    doses: list[float] = []
    for index, item in enumerate(value):
        item_field = f"{field}[{index}]"
        dose = _number(
            item,
            item_field,
            "allowed_mg",
            minimum=0,
            maximum=MAX_DOSE_MG,
            unit=" mg",
            above_minimum=True,
        )
        if device_mg is not None and (dose / device_mg) != int(dose / device_mg):
            raise Invalid(
                item_field,
                f"{_num(dose)} mg is not a whole number of {_num(device_mg)} mg devices",
            )
        if dose in doses:
            raise Invalid(item_field, f"{_num(dose)} mg is listed twice; list each dose once")
        doses.append(dose)
    return tuple(doses)


def _check_range(
    table: _Table, low_name: str, low: float | None, high_name: str, high: float | None, unit: str
) -> None:
    if low is not None and high is not None and low > high:
        name = low_name if table.has(low_name) else high_name
        raise Invalid(
            table.field(name),
            f"{low_name} = {_num(low)}{unit} is above {high_name} = {_num(high)}{unit}; the "
            "lowest dose must not be above the highest",
        )
