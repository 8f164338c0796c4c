"""A nurse's vitals and observation reading: parsing typed text, plausibility, alerts.

Plausibility limits are values that cannot be a real reading (SBP 400, SpO2 120): they live
here and a reading holding one is never made. Alert thresholds are protocol data (`AlertRule`),
with per-client overrides from the prescriber's "vital sign parameters".
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType

from kapsession.domain.entry_text import text_problem
from kapsession.domain.protocol import AlertRule, CautionRule, Comparison
from kapsession.domain.scales import SCALES, Scale


@dataclass(frozen=True)
class PlausibleRange:
    """The values a measurement can physically take; anything outside is a typing mistake."""

    low: float
    high: float
    unit: str  # shown after a value: "mmHg", "%", "/min"; "" for scores

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        """The range for messages, e.g. "40–300 mmHg" or "0–60/min"."""
        return _with_unit(f"{_num(self.low)}–{_num(self.high)}", self.unit)


PLAUSIBLE_SYSTOLIC_MMHG = PlausibleRange(40, 300, "mmHg")
PLAUSIBLE_DIASTOLIC_MMHG = PlausibleRange(20, 200, "mmHg")
PLAUSIBLE_HEART_RATE_BPM = PlausibleRange(20, 250, "bpm")
PLAUSIBLE_SPO2_PCT = PlausibleRange(50, 100, "%")
PLAUSIBLE_RESP_RATE_PER_MIN = PlausibleRange(0, 60, "/min")
PLAUSIBLE_TEMPERATURE_C = PlausibleRange(30.0, 45.0, "°C")

MAX_TEXT_CHARS = 32  # longer than any number a nurse types; longer text is refused unread


def _scale_range(scale: Scale) -> PlausibleRange:
    return PlausibleRange(scale.min_value, scale.max_value, "")


# Every numeric Reading field with the range a value must lie in (vitals, then scales).
PLAUSIBLE_RANGES: Mapping[str, PlausibleRange] = MappingProxyType(
    {
        "systolic_mmhg": PLAUSIBLE_SYSTOLIC_MMHG,
        "diastolic_mmhg": PLAUSIBLE_DIASTOLIC_MMHG,
        "heart_rate_bpm": PLAUSIBLE_HEART_RATE_BPM,
        "spo2_pct": PLAUSIBLE_SPO2_PCT,
        "resp_rate_per_min": PLAUSIBLE_RESP_RATE_PER_MIN,
        "temperature_c": PLAUSIBLE_TEMPERATURE_C,
        **{key: _scale_range(scale) for key, scale in SCALES.items()},
    }
)

# Names in messages: the long one for input problems, the short one in alerts.
FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "systolic_mmhg": "Systolic blood pressure",
        "diastolic_mmhg": "Diastolic blood pressure",
        "heart_rate_bpm": "Heart rate",
        "spo2_pct": "SpO2",
        "resp_rate_per_min": "Respiratory rate",
        "temperature_c": "Temperature",
        "moaas": "MOAA/S",
        "rass": "RASS",
        "dissociation": "Dissociation level",
        "nausea": "Nausea",
        "suds": "SUDS",
        "emesis": "Emesis",
        "comment": "Comment",
        "bp": "Blood pressure",
    }
)
_SHORT_LABELS: Mapping[str, str] = {
    "systolic_mmhg": "Systolic BP",
    "diastolic_mmhg": "Diastolic BP",
    "dissociation": "Dissociation",
}

BP_KEY = "bp"  # "120/80" in one box, as an alternative to the two fields


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with what was typed, for the field the nurse has to fix."""

    field: str  # a Reading attribute name, or "bp"
    message: str


class ReadingInvalid(ValueError):
    """A reading that cannot be saved; `problems` lists every field to fix, in form order."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("ReadingInvalid needs at least one problem")
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems: list[FieldProblem] = list(problems)

    @property
    def field(self) -> str:
        """The first field to fix."""
        return self.problems[0].field

    @property
    def message(self) -> str:
        return self.problems[0].message

    def messages_for(self, field: str) -> list[str]:
        return [problem.message for problem in self.problems if problem.field == field]


@dataclass(frozen=True)
class Reading:
    """One check-in: whatever was measured or scored; None means not measured.

    Making a Reading checks every value against its plausible range and the blood pressure as
    a pair (both values, diastolic below systolic), so a stored reading is always a real one.
    """

    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_pct: int | None = None
    resp_rate_per_min: int | None = None
    temperature_c: float | None = None
    moaas: int | None = None
    rass: int | None = None
    dissociation: int | None = None
    nausea: int | None = None
    suds: int | None = None
    emesis: bool | None = None
    comment: str = ""

    def __post_init__(self) -> None:
        problems = _value_problems(self)
        if not problems:
            problems = _bp_problems(
                self.systolic_mmhg, self.diastolic_mmhg, "systolic_mmhg", "diastolic_mmhg"
            )
        if problems:
            raise ReadingInvalid(problems)

    @property
    def is_empty(self) -> bool:
        """Nothing measured, scored or written."""
        no_values = all(self.value_of(name) is None for name in NUMERIC_FIELDS)
        return no_values and self.emesis is None and not self.comment.strip()

    @property
    def has_bp(self) -> bool:
        return self.systolic_mmhg is not None and self.diastolic_mmhg is not None

    def value_of(self, field: str) -> float | None:
        """A numeric field by name (alert rules name their field as text)."""
        if field not in PLAUSIBLE_RANGES:
            raise KeyError(f"{field!r} is not a numeric reading field")
        value: float | None = getattr(self, field)
        return value

    def measured(self) -> dict[str, float]:
        """The numeric fields that were measured, in form order."""
        values = ((name, self.value_of(name)) for name in NUMERIC_FIELDS)
        return {name: value for name, value in values if value is not None}


NUMERIC_FIELDS: tuple[str, ...] = tuple(PLAUSIBLE_RANGES)
_WHOLE_FIELDS = frozenset(NUMERIC_FIELDS) - {"temperature_c"}
READING_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Reading))


def format_bp(systolic_mmhg: int, diastolic_mmhg: int) -> str:
    return f"{systolic_mmhg}/{diastolic_mmhg} mmHg"


# --- messages ---------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A number as a nurse writes it: 180 not 180.0, 36.8 not 36.800000001."""
    if isinstance(value, int):
        return str(value)
    return f"{round(value, 2):g}" if abs(value) < 1e6 else f"{value:.0f}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("/") else f"{text} {unit}"


def _quoted(text: str) -> str:
    """What the nurse typed, shortened so a message stays one line."""
    shown = text if len(text) <= 20 else text[:19] + "…"
    return f"'{shown}'"


def _out_of_range(field: str, value: float) -> str:
    label = FIELD_LABELS[field]
    if field in SCALES:
        scale = SCALES[field]
        shown = scale.format_value(value) if isinstance(value, int) else _num(value)
        return f"{label} {shown} is outside the scale ({scale.range_text}); check the score."
    limits = PLAUSIBLE_RANGES[field]
    return (
        f"{label} {_with_unit(_num(value), limits.unit)} is outside {limits.describe()}; "
        "check the reading."
    )


def _value_problems(reading: Reading) -> list[FieldProblem]:
    """Types and ranges of a Reading made in code (parse_reading reports these itself)."""
    problems: list[FieldProblem] = []
    for name in NUMERIC_FIELDS:
        value = getattr(reading, name)
        if value is None:
            continue
        whole = name in _WHOLE_FIELDS
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (whole and not isinstance(value, int))
        ):
            kind = "a whole number" if whole else "a number"
            problems.append(FieldProblem(name, f"{FIELD_LABELS[name]} must be {kind}."))
        elif not math.isfinite(value) or not PLAUSIBLE_RANGES[name].contains(value):
            problems.append(FieldProblem(name, _out_of_range(name, value)))
    if reading.emesis is not None and not isinstance(reading.emesis, bool):
        problems.append(FieldProblem("emesis", "Emesis must be yes or no."))
    if not isinstance(reading.comment, str):
        problems.append(FieldProblem("comment", "Comment must be text."))
    return problems


def _bp_problems(
    systolic: int | None, diastolic: int | None, systolic_field: str, diastolic_field: str
) -> list[FieldProblem]:
    """The blood pressure as a pair: both values or neither, diastolic below systolic."""
    if systolic is None and diastolic is None:
        return []
    if diastolic is None:
        return [
            FieldProblem(
                diastolic_field,
                "Diastolic blood pressure is missing; a blood pressure needs both values, "
                "e.g. 120/80.",
            )
        ]
    if systolic is None:
        return [
            FieldProblem(
                systolic_field,
                "Systolic blood pressure is missing; a blood pressure needs both values, "
                "e.g. 120/80.",
            )
        ]
    if diastolic >= systolic:
        return [
            FieldProblem(
                diastolic_field,
                f"Diastolic ({diastolic}) must be lower than systolic ({systolic}); check the "
                "reading and the order of the two numbers.",
            )
        ]
    return []


# --- parsing typed text -----------------------------------------------------------------------

_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:[.,]([0-9]+))?", re.ASCII)
_BP_TEXT = re.compile(r"(.*?)\s*/\s*(.*?)(?:\s*mm\s*hg)?", re.IGNORECASE | re.DOTALL)
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})

# Unit text a nurse may type after a number; it is removed before reading the number.
_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "systolic_mmhg": ("mmhg", "mm hg"),
    "diastolic_mmhg": ("mmhg", "mm hg"),
    "heart_rate_bpm": ("bpm", "beats/min", "/min", "per min", "/minute", "per minute"),
    "spo2_pct": ("%",),
    "resp_rate_per_min": ("breaths/min", "/min", "per min", "/minute", "per minute"),
    "temperature_c": ("°c", "°", "c"),
}
_FAHRENHEIT_SUFFIXES = ("°f", "f")
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})


def _normalise(text: str) -> str:
    """Fold look-alike characters (full-width digits, ℃, the minus sign) to plain ones."""
    if text.isascii():  # nothing to fold: the common case, on every save
        return text.strip()
    return unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS).strip()


def _strip_suffix(text: str, suffixes: Iterable[str]) -> tuple[str, str | None]:
    lowered = text.lower()
    for suffix in suffixes:
        if lowered.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)].rstrip(), suffix
    return text, None


def _fahrenheit_hint(value_f: float) -> str:
    value_c = (value_f - 32) * 5 / 9
    return (
        f"Temperature {_num(value_f)} looks like degrees Fahrenheit; enter it in °C "
        f"({_num(value_f)} °F is {value_c:.1f} °C)."
    )


class _Collector:
    """Collects the problems of one reading while its fields are parsed."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(FieldProblem(field, message))

    def number(self, field: str, text: str, source_field: str | None = None) -> float | None:
        """Parse one numeric field; blank is None. Problems are filed under `source_field`."""
        cleaned = _normalise(text)
        if not cleaned:
            return None
        where = source_field or field
        label = FIELD_LABELS[field]
        whole = field in _WHOLE_FIELDS
        kind = "a whole number" if whole else "a number"
        if len(cleaned) > MAX_TEXT_CHARS:
            self.add(where, f"{label} must be {kind}, not {_quoted(cleaned)}.")
            return None
        if field == "temperature_c":
            bare, fahrenheit = _strip_suffix(cleaned, _FAHRENHEIT_SUFFIXES)
            if fahrenheit is not None and _NUMBER.fullmatch(bare):
                self.add(where, _fahrenheit_hint(float(bare.replace(",", "."))))
                return None
        bare, _ = _strip_suffix(cleaned, _SUFFIXES.get(field, ()))
        match = _NUMBER.fullmatch(bare)
        if match is None:
            self.add(where, f"{label} must be {kind}, not {_quoted(cleaned)}.")
            return None
        sign, digits, decimals = match.groups()
        limits = PLAUSIBLE_RANGES[field]
        if sign == "-" and limits.low >= 0 and any(c != "0" for c in digits + (decimals or "")):
            self.add(where, f"{label} cannot be negative ({_quoted(cleaned)}); check the reading.")
            return None
        if decimals is not None and whole:
            self.add(where, f"{label} must be a whole number, not {_quoted(cleaned)}.")
            return None
        value: float = (
            int(sign + digits) if whole else float(f"{sign}{digits}.{decimals or '0'}") + 0.0
        )
        if not limits.contains(value):
            if field == "temperature_c" and PLAUSIBLE_TEMPERATURE_C.contains((value - 32) * 5 / 9):
                self.add(where, _fahrenheit_hint(value))
            else:
                self.add(where, _out_of_range(field, value))
            return None
        return value

    def blood_pressure(self, text: str) -> tuple[float | None, float | None]:
        """The "bp" box: "120/80", also "120 / 80 mmHg"."""
        cleaned = _normalise(text)
        if not cleaned:
            return None, None
        match = _BP_TEXT.fullmatch(cleaned) if len(cleaned) <= MAX_TEXT_CHARS else None
        if match is None or not match.group(1) or not match.group(2):
            self.add(
                BP_KEY,
                f"Blood pressure must be two numbers like 120/80, not {_quoted(cleaned)}.",
            )
            return None, None
        systolic = self.number("systolic_mmhg", match.group(1), BP_KEY)
        diastolic = self.number("diastolic_mmhg", match.group(2), BP_KEY)
        return systolic, diastolic

    def yes_no(self, field: str, text: str) -> bool | None:
        cleaned = _normalise(text).lower()
        if not cleaned:
            return None
        if cleaned in _YES:
            return True
        if cleaned in _NO:
            return False
        self.add(field, f"{FIELD_LABELS[field]} must be yes or no, not {_quoted(cleaned)}.")
        return None


def parse_reading(raw: Mapping[str, str]) -> Reading:
    """Turn the text a nurse typed into a Reading, or raise ReadingInvalid listing every problem.

    Keys are Reading attribute names, plus "bp" for "120/80" in one box. Blank means not
    measured. Numbers may carry their unit ("98 %", "36.8 °C") and temperature may use a comma
    ("36,8"); whole-number fields refuse decimals; Fahrenheit-looking temperatures are refused
    with the Celsius value as a hint.
    """
    collector = _Collector()
    for key in raw:
        if key not in READING_FIELDS and key != BP_KEY:
            collector.add(key, f"'{key}' is not a field of a reading; this is a program error.")
    values: dict[str, float | None] = {}
    for name in NUMERIC_FIELDS:
        values[name] = collector.number(name, raw.get(name, ""))
    bp_field = ("systolic_mmhg", "diastolic_mmhg")
    sys_field, dia_field = bp_field
    if _normalise(raw.get(BP_KEY, "")):
        sys_field = dia_field = BP_KEY
        systolic, diastolic = collector.blood_pressure(raw[BP_KEY])
        separate = (values["systolic_mmhg"], values["diastolic_mmhg"])
        typed_separately = any(_normalise(raw.get(name, "")) for name in bp_field)
        if typed_separately and separate != (systolic, diastolic):
            collector.add(
                BP_KEY,
                "Blood pressure is entered twice with different values; keep either the "
                "120/80 box or the two separate numbers.",
            )
        values["systolic_mmhg"], values["diastolic_mmhg"] = systolic, diastolic
    emesis = collector.yes_no("emesis", raw.get("emesis", ""))
    comment = raw.get("comment", "").strip()
    comment_problem = text_problem(comment, "comment")
    if comment_problem is not None:
        collector.add("comment", comment_problem)
    _check_bp_if_clean(collector, values, sys_field, dia_field)
    if collector.problems:
        raise ReadingInvalid(collector.problems)

    def whole(name: str) -> int | None:
        value = values[name]
        return None if value is None else int(value)

    return Reading(
        systolic_mmhg=whole("systolic_mmhg"),
        diastolic_mmhg=whole("diastolic_mmhg"),
        heart_rate_bpm=whole("heart_rate_bpm"),
        spo2_pct=whole("spo2_pct"),
        resp_rate_per_min=whole("resp_rate_per_min"),
        temperature_c=values["temperature_c"],
        moaas=whole("moaas"),
        rass=whole("rass"),
        dissociation=whole("dissociation"),
        nausea=whole("nausea"),
        suds=whole("suds"),
        emesis=emesis,
        comment=comment,
    )


def _check_bp_if_clean(
    collector: _Collector, values: Mapping[str, float | None], sys_field: str, dia_field: str
) -> None:
    """Pair checks, unless one of the two values already has a problem of its own."""
    if any(problem.field in (sys_field, dia_field) for problem in collector.problems):
        return
    systolic, diastolic = values["systolic_mmhg"], values["diastolic_mmhg"]
    problems = _bp_problems(
        None if systolic is None else int(systolic),
        None if diastolic is None else int(diastolic),
        sys_field,
        dia_field,
    )
    collector.problems.extend(problems)


# --- alerts -----------------------------------------------------------------------------------

_OP_WORDS: Mapping[Comparison, str] = {
    Comparison.GE: "at or above",
    Comparison.GT: "above",
    Comparison.LE: "at or below",
    Comparison.LT: "below",
}


@dataclass(frozen=True)
class AlertHit:
    """A saved reading that meets an alert rule."""

    rule: AlertRule
    value: float
    message: str  # e.g. "Systolic BP 184 mmHg — at or above 180"


def alert_message(rule: AlertRule | CautionRule, value: float) -> str:
    field = rule.field
    label = _SHORT_LABELS.get(field, FIELD_LABELS[field])
    if field in SCALES:
        shown = SCALES[field].format_value(int(value))
    else:
        shown = _with_unit(_num(value), PLAUSIBLE_RANGES[field].unit)
    return f"{label} {shown} — {_OP_WORDS[rule.op]} {_num(rule.value)}"


def alerts_for(reading: Reading, rules: Sequence[AlertRule]) -> list[AlertHit]:
    """The rules a reading meets, in rule order; unmeasured fields meet none.

    A rule on a field a reading does not have is a program error (protocol files are validated
    when loaded), so it raises ValueError rather than being silently skipped.
    """
    hits: list[AlertHit] = []
    for rule in rules:
        if rule.field not in PLAUSIBLE_RANGES:
            raise ValueError(
                f"alert rule {rule.label!r} is on {rule.field!r}, which is not a reading field"
            )
        value = reading.value_of(rule.field)
        if value is not None and rule.triggered_by(value):
            hits.append(AlertHit(rule, value, alert_message(rule, value)))
    return hits


class AlertOverrideInvalid(ValueError):
    """Per-client alert thresholds that cannot be used, with every problem listed."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems: list[FieldProblem] = list(problems)


def effective_alert_rules(
    protocol_rules: Sequence[AlertRule], client_overrides: Sequence[AlertRule]
) -> tuple[AlertRule, ...]:
    """The protocol's alert rules with one client's thresholds applied.

    Shape: `client_overrides` is a list of AlertRule, like the protocol's. An override replaces
    the protocol rule's threshold and label with the same (field, op), in its place (the
    protocol's `recheck_after_min` stays); one with a (field, op) the
    protocol does not have is added at the end. So `heart_rate_bpm > 110` replaces
    `heart_rate_bpm > 120`, but `heart_rate_bpm >= 110` is a second rule beside it.
    Overrides are checked like protocol thresholds: a known field, a value a reading can take,
    a label, and no (field, op) twice. Raises AlertOverrideInvalid listing every problem.
    """
    _check_overrides(client_overrides)
    by_identity = {(rule.field, rule.op): rule for rule in client_overrides}
    used: set[tuple[str, Comparison]] = set()
    merged: list[AlertRule] = []
    for rule in protocol_rules:
        identity = (rule.field, rule.op)
        if identity not in by_identity:
            merged.append(rule)
        elif identity not in used:  # a protocol listing the same rule twice keeps one
            # the client's threshold, the protocol's follow-up
            own = by_identity[identity]
            merged.append(dataclasses.replace(own, recheck_after_min=rule.recheck_after_min))
            used.add(identity)
    merged.extend(rule for rule in client_overrides if (rule.field, rule.op) not in used)
    return tuple(merged)


def _check_overrides(overrides: Sequence[AlertRule]) -> None:
    problems: list[FieldProblem] = []
    seen: set[tuple[str, Comparison]] = set()

    def problem(index: int, part: str, message: str) -> None:
        problems.append(FieldProblem(f"overrides[{index}].{part}", message))

    for index, rule in enumerate(overrides):
        where = f"Client alert {index + 1}"
        if rule.field not in PLAUSIBLE_RANGES:
            known = ", ".join(NUMERIC_FIELDS)
            problem(
                index, "field", f"{where}: {rule.field!r} is not a reading; use one of {known}."
            )
            continue
        if not isinstance(rule.op, Comparison):
            problem(index, "op", f"{where}: {rule.op!r} is not one of <, <=, >, >=.")
            continue
        limits = PLAUSIBLE_RANGES[rule.field]
        value_ok = isinstance(rule.value, int | float) and not isinstance(rule.value, bool)
        if not value_ok or not math.isfinite(rule.value) or not limits.contains(rule.value):
            shown = _num(rule.value) if value_ok and math.isfinite(rule.value) else repr(rule.value)
            problem(
                index,
                "value",
                f"{where} ({FIELD_LABELS[rule.field]} {rule.op.value}): "
                f"{_with_unit(shown, limits.unit)} is outside {limits.describe()}; a threshold "
                "must be a value a reading can take.",
            )
        if not isinstance(rule.label, str) or not rule.label.strip():
            problem(index, "label", f"{where}: the label is empty; write what the alert means.")
        identity = (rule.field, rule.op)
        if identity in seen:
            problem(
                index,
                "op",
                f"{where}: {FIELD_LABELS[rule.field]} {rule.op.value} is set twice; keep one.",
            )
        seen.add(identity)
    if problems:
        raise AlertOverrideInvalid(problems)


# --- caution and alert states -----------------------------------------------------------------


class ValueState(enum.StrEnum):
    """Where a value stands against the protocol: within limits, in the amber caution band
    (no acknowledgement), or over an alert threshold."""

    NORMAL = "normal"
    CAUTION = "caution"
    ALERT = "alert"


_STATE_RANK = {ValueState.NORMAL: 0, ValueState.CAUTION: 1, ValueState.ALERT: 2}


def value_state(
    field: str,
    value: float,
    *,
    alerts: Sequence[AlertRule] = (),
    cautions: Sequence[CautionRule] = (),
) -> ValueState:
    """The state of one value of `field`: ALERT when an alert rule of the field holds, else
    CAUTION when a caution rule does, else NORMAL."""
    if any(rule.field == field and rule.triggered_by(value) for rule in alerts):
        return ValueState.ALERT
    if any(rule.field == field and rule.triggered_by(value) for rule in cautions):
        return ValueState.CAUTION
    return ValueState.NORMAL


def worst_state(states: Iterable[ValueState]) -> ValueState:
    """The most pressing of several states (a blood pressure is as bad as its worse half)."""
    return max(states, key=_STATE_RANK.__getitem__, default=ValueState.NORMAL)


def cautions_for(
    reading: Reading, cautions: Sequence[CautionRule], *, alerted: Iterable[str] = ()
) -> list[str]:
    """What a reading's values in the caution band say ("Heart rate 104 bpm — above 100"),
    in rule order; unmeasured fields meet none, and a field `alerted` (it raised an alert)
    is said by its alert."""
    skip = frozenset(alerted)
    said: list[str] = []
    for rule in cautions:
        value = reading.value_of(rule.field)
        if rule.field not in skip and value is not None and rule.triggered_by(value):
            said.append(alert_message(rule, value))
    return said
