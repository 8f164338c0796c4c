"""The session record as a FHIR R4 document Bundle (JSON), for a clinic's EHR or FHIR server.

A `document` Bundle, not a `collection`: the session record is a clinical document that is
signed (attested), filed as one unit and never edited in place, which is what FHIR documents
are for. The first entry is the Composition (the session note, with the record's other parts as
sections); it references every other entry: Patient, Encounter, Practitioners,
MedicationAdministrations, Observations and, only when included, the psychotherapy notes.

Corrections follow FHIR's status semantics rather than copying our append-only rows:
- a reading that stands is `final`; one that replaced an earlier reading is `corrected` (FHIR:
  "modified subsequent to being final ... to correct an error"), with the reason in a note;
- the reading it replaced is left out: in FHIR an amended result is a new version of the same
  result, and earlier versions live in the server's history, not as second results;
- a withdrawn reading (entered in error) is kept as `entered-in-error`, with the reason, so a
  receiver that already holds it retracts it; receivers ignore that status as data.
Doses follow the same rules (`completed`, or `entered-in-error`).

Psychotherapy notes, only when included, are a separate DocumentReference carrying security
labels (restricted, psychotherapy note) so a receiving EHR can keep them apart from the record
(HIPAA §164.501); the Composition only points at it from a clearly labelled section.

Every id is derived from the record's own ids and the JSON keeps a fixed order, so the same
content gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from kapsession.domain.adverse_events import (
    DISPLAYS,
    FHIR_SYSTEMS,
    InterventionKind,
    Outcome,
    Seriousness,
    Severity,
)
from kapsession.domain.corrections import Correctable, EntryState, Version, effective, versions
from kapsession.domain.dose_periods import Hold, Infusion
from kapsession.domain.protocol import SESSION_TYPE_NAMES
from kapsession.domain.questionnaires import InstrumentKey
from kapsession.domain.scales import SCALES
from kapsession.export.content import ExportContent
from kapsession.export.deviation_blocks import deviation_text, discharge_deviation
from kapsession.export.order_blocks import (
    NO_ORDER_NO_DOSE,
    NO_ORDER_OVERRIDES,
    countersignature,
    order_line,
    override_lines,
)
from kapsession.records.adverse import InterventionRecord, chain_ids, standing_of
from kapsession.records.course_summary import CourseSummary
from kapsession.records.dose_periods import holds_of, infusions_of
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    ObservationRecord,
)
from kapsession.records.measures import MeasureRecord
from kapsession.records.notes import (
    NoteRecord,
    PrivateNoteRecord,
    SignatureCheck,
    SignatureRecord,
    SignedPart,
)
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.session_log import LogItem, LogKind
from kapsession.records.sessions import SessionStatus

Json = dict[str, Any]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
URI_IDENTIFIER = "urn:ietf:rfc:3986"
XHTML = "http://www.w3.org/1999/xhtml"

# Our own code systems and identifier namespaces: local URIs, never made-up LOINC codes.
SCALE_SYSTEM = "urn:kapsession:scale"
CHECKIN_SYSTEM = "urn:kapsession:checkin"
NOTE_SECTION_SYSTEM = "urn:kapsession:note-section"
ENTRY_SYSTEM = "urn:kapsession:entry"  # the id of the row a resource shows
SESSION_SYSTEM = "urn:kapsession:session"
RECORD_NUMBER_SYSTEM = "urn:kapsession:record-number"
RECORD_STATE_SYSTEM = "urn:kapsession:record-state"

# The namespace of ids derived from ours (uuid5), fixed so an export is reproducible.
_ID_NAMESPACE = uuid.UUID("5d0c3e1c-8f0a-4c55-9d0e-6b1f3f6f2a71")

# LOINC "Mental health Progress note" (C-CDA progress note document types).
_NOTE_TYPE = {"system": LOINC, "code": "34904-3", "display": "Mental health Progress note"}


@dataclass(frozen=True)
class VitalCode:
    """How one measured vital sign is coded: LOINC codings (first is the main one), UCUM unit."""

    field: str  # the Reading attribute
    codings: tuple[tuple[str, str], ...]  # (LOINC code, display)
    unit: str  # the unit as people write it
    ucum: str


VITALS: tuple[VitalCode, ...] = (
    VitalCode("heart_rate_bpm", (("8867-4", "Heart rate"),), "beats/minute", "/min"),
    VitalCode(
        "spo2_pct",
        (
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
            ("2708-6", "Oxygen saturation in Arterial blood"),  # the R4 vital-signs code
        ),
        "%",
        "%",
    ),
    VitalCode("resp_rate_per_min", (("9279-1", "Respiratory rate"),), "breaths/minute", "/min"),
    VitalCode("temperature_c", (("8310-5", "Body temperature"),), "°C", "Cel"),
)
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = VitalCode("systolic_mmhg", (("8480-6", "Systolic blood pressure"),), "mmHg", "mm[Hg]")
DIASTOLIC = VitalCode("diastolic_mmhg", (("8462-4", "Diastolic blood pressure"),), "mmHg", "mm[Hg]")
SCALE_FIELDS = ("moaas", "rass", "dissociation", "nausea", "suds")

# --- public API -------------------------------------------------------------------------------


def to_fhir_bundle(content: ExportContent) -> Json:
    """The session record for one participant as a FHIR R4 document Bundle (JSON-ready)."""
    return _BundleBuilder(content).build()


def to_fhir_json(content: ExportContent) -> str:
    """`to_fhir_bundle` as indented UTF-8 JSON text, the same for the same content."""
    return json.dumps(to_fhir_bundle(content), ensure_ascii=False, indent=2) + "\n"


# --- corrections ------------------------------------------------------------------------------


C = TypeVar("C", bound=Correctable)


T = TypeVar("T")


def _versions(rows: Sequence[C]) -> list[Version[C]]:
    """The rows to export, in their order: standing ones, and withdrawn ones marked as such;
    rows replaced by a correction drop out (the correction carries the reason)."""
    return [v for v in versions(rows) if v.state is not EntryState.AMENDED]


def _fhir_status(version: Version[Any]) -> str:
    """The status FHIR gives a version: final, corrected (it corrects an earlier entry) or
    entered-in-error (withdrawn)."""
    if version.state is EntryState.WITHDRAWN:
        return "entered-in-error"
    return "corrected" if version.corrects else "final"


def _change(version: Version[Any]) -> tuple[str, str | None, datetime] | None:
    """What a narrative says of a version not as first written: (what, why, when); None for
    one that is."""
    if version.state is EntryState.WITHDRAWN and version.changed_at is not None:
        return "withdrawn (entered in error)", version.reason, version.changed_at
    if version.corrects:
        return "corrected", version.correction_reason, version.row.recorded_at
    return None


# --- small JSON pieces ------------------------------------------------------------------------


def _derived_id(base: uuid.UUID, name: str) -> str:
    return str(uuid.uuid5(uuid.uuid5(_ID_NAMESPACE, str(base)), name))


def _url(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def dose_periods_of(c: ExportContent, dose: DoseRecord) -> tuple[Hold | None, Infusion | None]:
    """A standing dose's sublingual hold and its IV infusion (each None where it has none)."""
    doses = effective(c.doses)
    events = effective(c.events)
    hold = next(
        (h for d, h in holds_of(c.protocol, doses, events, dose.participant_id) if d.id == dose.id),
        None,
    )
    infusion = next(
        (
            i
            for d, i in infusions_of(c.protocol, doses, events, dose.participant_id)
            if d.id == dose.id
        ),
        None,
    )
    return hold, infusion


def _instant(when: datetime) -> str:
    """A FHIR instant/dateTime in UTC, e.g. 2027-01-11T13:21:13Z."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def _number(value: float) -> int | float:
    """A whole number as an int (300, not 300.0), anything else unchanged."""
    return int(value) if float(value).is_integer() else value


def _quantity(value: float, unit: str, ucum: str) -> Json:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": ucum}


def _coding(system: str, code: str, display: str) -> Json:
    return {"system": system, "code": code, "display": display}


def _loinc(codings: Iterable[tuple[str, str]], text: str) -> Json:
    return {"coding": [_coding(LOINC, code, display) for code, display in codings], "text": text}


def _category(code: str, display: str) -> list[Json]:
    return [{"coding": [_coding(OBSERVATION_CATEGORY, code, display)]}]


def _entry_identifier(row_id: uuid.UUID, part: str | None = None) -> list[Json]:
    value = str(row_id) if part is None else f"{row_id}/{part}"
    return [{"system": ENTRY_SYSTEM, "value": value}]


# --- narrative (XHTML) ------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: str) -> str:
    """Text made safe for XHTML: escaped, and without characters XML cannot hold."""
    return html.escape(_NOT_XML.sub("", text), quote=True)


def _div(inner: str) -> Json:
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{inner}</div>'}


def _paragraphs(text: str) -> str:
    """Plain text as XHTML: blank lines part paragraphs, line breaks stay line breaks."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "".join(
        "<p>" + "<br/>".join(_esc(line) for line in b.split("\n")) + "</p>" for b in blocks
    )


def _items(lines: Iterable[str]) -> str:
    """Already-escaped lines as an XHTML list."""
    rows = list(lines)
    return "<ul>" + "".join(f"<li>{line}</li>" for line in rows) + "</ul>" if rows else ""


def _state_tag(version: Version[Any]) -> str:
    """ " [corrected: why]" or " [withdrawn (entered in error): why]" for a plain-text line; ""
    for a version as first written."""
    change = _change(version)
    return "" if change is None else f" [{change[0]}: {change[1] or ''}]"


def _state_note(version: Version[Any]) -> str:
    """The state of a corrected or withdrawn row, with the reason, for a narrative line."""
    change = _change(version)
    if change is None:
        return ""
    what, why, _when = change
    reason = f": {why}" if why else ""
    return f" — <i>{what}{_esc(reason)}</i>"


# --- reading text for narratives --------------------------------------------------------------


def _reading_text(values: dict[str, Any], on_room_air: bool | None) -> str:
    """A reading in one line as a nurse writes it: "BP 128/70 mmHg · HR 80/min · …"."""
    parts: list[str] = []
    if values.get("systolic_mmhg") is not None and values.get("diastolic_mmhg") is not None:
        parts.append(f"BP {values['systolic_mmhg']}/{values['diastolic_mmhg']} mmHg")
    short = {
        "heart_rate_bpm": ("HR", "/min"),
        "spo2_pct": ("SpO2", " %"),
        "resp_rate_per_min": ("RR", "/min"),
        "temperature_c": ("Temp", " °C"),
    }
    for name, (label, unit) in short.items():
        if values.get(name) is not None:
            parts.append(f"{label} {_number(values[name])}{unit}")
    if on_room_air is not None and values.get("spo2_pct") is not None:
        parts.append("on room air" if on_room_air else "on supplemental oxygen")
    for key in SCALE_FIELDS:
        if values.get(key) is not None:
            scale = SCALES[key]
            parts.append(
                f"{_SCALE_LABELS[key]} {scale.format_value(values[key])}{scale.unit_label}"
            )
    if values.get("emesis") is not None:
        parts.append("emesis" if values["emesis"] else "no emesis")
    if (values.get("comment") or "").strip():
        parts.append(f"“{values['comment'].strip()}”")
    return " · ".join(parts)


_SCALE_LABELS = {
    "moaas": "MOAA/S",
    "rass": "RASS",
    "dissociation": "Dissociation",
    "nausea": "Nausea",
    "suds": "SUDS",
}


# --- the builder ------------------------------------------------------------------------------


class _BundleBuilder:
    """Builds the resources of one export; Practitioners are added as they are referenced."""

    def __init__(self, content: ExportContent) -> None:
        self.c = content
        self.patient_id = str(content.participant.client.id)
        self.encounter_id = str(content.participant.id)
        self.composition_id = _derived_id(content.participant.id, "session-record")
        self._practitioners: dict[uuid.UUID, Json] = {}
        self._requests: list[Json] = []
        self._measures: list[tuple[Json, Json | None]] = []  # issue 17

    # references ----------------------------------------------------------------------------

    @property
    def patient_ref(self) -> Json:
        return {"reference": _url(self.patient_id), "display": self.c.client_name}

    @property
    def encounter_ref(self) -> Json:
        return {"reference": _url(self.encounter_id)}

    def staff_ref(self, staff_id: uuid.UUID | None, fallback_name: str = "") -> Json | None:
        """A reference to a staff member, adding their Practitioner to the bundle; a name-only
        reference for someone not in the staff list; None when nobody is known."""
        if staff_id is not None and staff_id in self.c.staff:
            staff = self.c.staff[staff_id]
            if staff_id not in self._practitioners:
                practitioner: Json = {
                    "resourceType": "Practitioner",
                    "id": str(staff_id),
                    "active": staff.active,
                    "name": [{"text": staff.display_name}],
                }
                if staff.credentials:
                    practitioner["qualification"] = [{"code": {"text": staff.credentials}}]
                self._practitioners[staff_id] = practitioner
            return {"reference": _url(str(staff_id)), "display": staff.signature_name}
        return {"display": fallback_name} if fallback_name else None

    # resources -----------------------------------------------------------------------------

    def patient(self) -> Json:
        client = self.c.participant.client
        resource: Json = {"resourceType": "Patient", "id": self.patient_id}
        if client.record_number:
            resource["identifier"] = [
                {
                    "use": "usual",
                    "type": {
                        "coding": [_coding(IDENTIFIER_TYPE, "MR", "Medical record number")],
                        "text": "Clinic record number",
                    },
                    "system": RECORD_NUMBER_SYSTEM,
                    "value": client.record_number,
                }
            ]
        name: Json = {"use": "official", "text": client.full_name}
        if client.family_name:
            name["family"] = client.family_name
        if client.given_name:
            name["given"] = [client.given_name]
        resource["name"] = [name]
        if client.date_of_birth is not None:
            resource["birthDate"] = client.date_of_birth.isoformat()
        return resource

    def encounter(self) -> Json:
        session = self.c.session
        status = "in-progress" if session.status == SessionStatus.LIVE else "finished"
        modality = session.modality.capitalize()
        resource: Json = {
            "resourceType": "Encounter",
            "id": self.encounter_id,
            "identifier": [{"system": SESSION_SYSTEM, "value": str(session.id)}],
            "status": status,
            "class": _coding(
                "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"
            ),
            "type": [
                {
                    "text": f"{modality} ketamine-assisted psychotherapy session "
                    f"({SESSION_TYPE_NAMES[self.c.protocol.session_type].lower()}) — "
                    f"{self.c.protocol.name}"
                }
            ],
            "subject": self.patient_ref,
        }
        participants = []
        for staff_id, code, display, role in (
            (session.therapist_id, "PPRF", "primary performer", "Therapist"),
            (session.nurse_id, "SPRF", "secondary performer", "Nurse"),
        ):
            ref = self.staff_ref(staff_id)
            if ref is not None and "reference" in ref:
                participants.append(
                    {
                        "type": [
                            {"coding": [_coding(PARTICIPATION_TYPE, code, display)], "text": role}
                        ],
                        "individual": ref,
                    }
                )
        if participants:
            resource["participant"] = participants
        period: Json = {}
        if session.started_at is not None:
            period["start"] = _instant(session.started_at)
        if session.ended_at is not None:
            period["end"] = _instant(session.ended_at)
        if period:
            resource["period"] = period
        return resource

    def medication_administrations(self) -> list[Json]:
        doses = sorted(_versions(self.c.doses), key=lambda v: (v.row.occurred_at, str(v.row.id)))
        return [self._administration(v) for v in doses]

    def _administration(self, version: Version[DoseRecord]) -> Json:
        dose = version.row
        # the protocol's medication only where it gives a dose: a protocol of another type
        # keeps stand-in dosing sections that plan nothing (issue 17)
        dosing = self.c.protocol.dosing if self.c.protocol.gives_dose else None
        medication = dose.medication or (dosing.medication.value if dosing else "not recorded")
        route = dose.route or (dosing.route.value if dosing else "not recorded")
        resource: Json = {
            "resourceType": "MedicationAdministration",
            "id": str(dose.id),
            "identifier": _entry_identifier(dose.id),
            "status": "entered-in-error" if version.state is EntryState.WITHDRAWN else "completed",
            # RxNorm codes are left out on purpose: not verified here, and a wrong code is
            # worse than text.
            "medicationCodeableConcept": {"text": medication},
            "subject": self.patient_ref,
            "context": self.encounter_ref,
            "effectiveDateTime": _instant(dose.occurred_at),
        }
        performer = self.staff_ref(dose.given_by_id)
        if performer is not None:
            resource["performer"] = [{"actor": performer}]
        notes = [f"{dose.kind.capitalize()} dose."]
        if dose.lot_number:
            notes.append(f"Lot number {dose.lot_number}.")
        if dose.dose_mg_per_kg is not None and dose.weight_kg is not None:
            notes.append(
                f"Weight-based: {_number(dose.dose_mg_per_kg)} mg/kg "
                f"at {_number(dose.weight_kg)} kg."
            )
        if dose.device_count is not None:
            notes.append(f"{dose.device_count} nasal spray device(s).")
        if dose.is_late:
            notes.append(f"Entered late, at {_instant(dose.recorded_at)}.")
        notes += self._correction_notes(version)
        override = dose.detail.get("order_override")
        if isinstance(override, dict):
            notes.append(
                f"Given outside the order, overridden by {override.get('by', '')}: "
                f"{override.get('reason', '')}."
            )
        given = dose.dose_mg
        hold, infusion = dose_periods_of(self.c, dose)
        if hold is not None:  # sublingual: how long it was held, then spat out or swallowed
            notes.append(hold.describe() + ".")
        if infusion is not None:  # IV: a period, with its pauses and the total given
            notes.append(infusion.describe() + ".")
            period = {"start": _instant(infusion.started_at)}
            if infusion.stopped_at is not None:
                period["end"] = _instant(infusion.stopped_at)
                given = infusion.given_mg
            del resource["effectiveDateTime"]
            resource["effectivePeriod"] = period
            if infusion.stopped_at is None:
                resource["status"] = "in-progress"
        notes += self._substance_notes(dose)  # the controlled-substance count (issue 16)
        resource["note"] = [{"text": text} for text in notes]
        order = self.c.standing_order
        if order is not None:  # the order it was given under (issue 16)
            resource["request"] = {"reference": _url(str(order.id))}
        if given is not None:  # a dosage needs a dose (mad-1)
            resource["dosage"] = {
                "text": f"{_number(given)} mg {route}",
                "route": {"text": route},
                "dose": _quantity(given, "mg", "mg"),
            }
            rate = None if infusion is None else infusion.rate_mg_per_h()
            if rate is not None:
                resource["dosage"]["rateQuantity"] = _quantity(round(rate, 1), "mg/h", "mg/h")
        return resource

    def medication_requests(self) -> list[Json]:
        """The prescriber's order (issue 16), each version a MedicationRequest: the standing
        one active, one corrected away cancelled, one taken back entered in error."""
        return [
            self._request(v)
            for v in sorted(
                _versions(self.c.orders), key=lambda v: (v.row.recorded_at, str(v.row.id))
            )
        ]

    def _request(self, version: Version[DoseOrderRecord]) -> Json:
        record = version.row
        order = record.order
        status = {
            EntryState.STANDING: "active",
            EntryState.WITHDRAWN: "entered-in-error",
        }.get(version.state, "cancelled")
        if order.dose_mg_per_kg is not None:
            dose = {"value": _number(order.dose_mg_per_kg), "unit": "mg/kg",
                    "system": UCUM, "code": "mg/kg"}  # fmt: skip
        else:
            dose = _quantity(order.dose_mg or 0.0, "mg", "mg")
        resource: Json = {
            "resourceType": "MedicationRequest",
            "id": str(record.id),
            "identifier": _entry_identifier(record.id),
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"text": order.medication.value},
            "subject": self.patient_ref,
            "encounter": self.encounter_ref,
            "authoredOn": _instant(record.occurred_at),
            "dosageInstruction": [
                {
                    "text": order.summary(),
                    "route": {"text": order.route.value},
                    "doseAndRate": [{"doseQuantity": dose}],
                }
            ],
        }
        requester = self.staff_ref(record.ordered_by_id)
        if requester is not None:
            resource["requester"] = requester
        if order.max_total_mg is not None:
            resource["dosageInstruction"][0]["maxDosePerPeriod"] = {
                "numerator": _quantity(order.max_total_mg, "mg", "mg"),
                "denominator": {"value": 1, "unit": "session"},
            }
        notes = []
        if order.verbal:
            notes.append(f"Verbal order, {countersignature(self.c, record, None)}.")
        notes += self._correction_notes(version)
        if notes:
            resource["note"] = [{"text": text} for text in notes]
        return resource

    def _order_section(self) -> Json:
        order = self.c.standing_order
        overrides = override_lines(self.c, None)
        text = (
            f"<p>{_esc(NO_ORDER_OVERRIDES if overrides else NO_ORDER_NO_DOSE)}</p>"
            if order is None
            else _items([_esc(order_line(self.c, order, None))])
        )
        if overrides:
            text += _items(_esc(line) for line in overrides)
        section: Json = {"title": "Prescriber's order", "text": _div(text)}
        if self._requests:
            section["entry"] = [{"reference": _url(r["id"])} for r in self._requests]
        return section

    def _correction_notes(self, version: Version[Any]) -> list[str]:
        change = _change(version)
        if change is None:
            return []
        _what, why, when = change
        reason = why or "no reason given"
        if version.state is EntryState.WITHDRAWN:
            return [f"Withdrawn as entered in error (at {_instant(when)}): {reason}"]
        return [f"Corrects an earlier entry (at {_instant(when)}): {reason}"]

    def observations(self) -> list[tuple[Json, list[Json]]]:
        """Each reading as a check-in Observation grouping one Observation per measurement."""
        readings = sorted(
            _versions(self.c.observations), key=lambda v: (v.row.occurred_at, str(v.row.id))
        )
        return [self._reading(v) for v in readings]

    def _reading(self, version: Version[ObservationRecord]) -> tuple[Json, list[Json]]:
        row = version.row
        status = _fhir_status(version)
        performer = self.staff_ref(row.recorded_by_id)
        notes = self._correction_notes(version)
        if row.is_late:
            notes.append(f"Entered late, at {_instant(row.recorded_at)}.")

        def observation(part: str | None, code: Json, category: list[Json] | None) -> Json:
            """One Observation of this reading; `part` None is the check-in group itself."""
            resource: Json = {
                "resourceType": "Observation",
                "id": str(row.id) if part is None else _derived_id(row.id, part),
                "identifier": _entry_identifier(row.id, part),
                "status": status,
            }
            if category:
                resource["category"] = category
            resource |= {
                "code": code,
                "subject": self.patient_ref,
                "encounter": self.encounter_ref,
                "effectiveDateTime": _instant(row.occurred_at),
                "issued": _instant(row.recorded_at),  # when it was entered (late entries)
            }
            if performer is not None:
                resource["performer"] = [performer]
            return resource

        values = row.values
        members: list[Json] = []
        vital_signs = _category("vital-signs", "Vital Signs")
        if values.get("systolic_mmhg") is not None and values.get("diastolic_mmhg") is not None:
            bp = observation("bp", _loinc([BP_PANEL], "Blood pressure"), vital_signs)
            bp["component"] = [
                {
                    "code": _loinc(spec.codings, spec.codings[0][1]),
                    "valueQuantity": _quantity(values[spec.field], spec.unit, spec.ucum),
                }
                for spec in (SYSTOLIC, DIASTOLIC)
            ]
            members.append(bp)
        for spec in VITALS:
            if values.get(spec.field) is None:
                continue
            vital = observation(spec.field, _loinc(spec.codings, spec.codings[0][1]), vital_signs)
            vital["valueQuantity"] = _quantity(values[spec.field], spec.unit, spec.ucum)
            if spec.field == "spo2_pct" and row.on_room_air is not None:
                air = "On room air." if row.on_room_air else "On supplemental oxygen."
                vital["note"] = [{"text": air}]
            members.append(vital)
        survey = _category("survey", "Survey")
        for key in SCALE_FIELDS:
            if values.get(key) is None:
                continue
            scale = SCALES[key]
            code = {"coding": [_coding(SCALE_SYSTEM, key, scale.name)], "text": scale.name}
            score = observation(key, code, survey)
            score["valueInteger"] = int(values[key])
            members.append(score)
        if values.get("emesis") is not None:
            code = {"coding": [_coding(SCALE_SYSTEM, "emesis", "Emesis")], "text": "Emesis"}
            emesis = observation("emesis", code, _category("exam", "Exam"))
            emesis["valueBoolean"] = bool(values["emesis"])
            members.append(emesis)
        for member in members:  # a correction's reason goes with every value it changed
            if notes:
                member["note"] = member.get("note", []) + [{"text": t} for t in notes]

        label = self._checkin_label(row.checkin_key)
        group_code: Json = {}
        if row.checkin_key:
            group_code["coding"] = [_coding(CHECKIN_SYSTEM, row.checkin_key, label)]
        group_code["text"] = f"Check-in: {label}"
        group = observation(None, group_code, None)
        if members:
            group["hasMember"] = [{"reference": _url(m["id"])} for m in members]
        comment = (values.get("comment") or "").strip()
        group_notes = ([comment] if comment else []) + notes
        if group_notes:
            group["note"] = [{"text": t} for t in group_notes]
        return group, members

    def _checkin_label(self, key: str | None) -> str:
        if not key:
            return "unscheduled reading"
        try:
            return self.c.protocol.checkin(key).label
        except KeyError:
            return key

    def private_notes_document(self, notes: Sequence[PrivateNoteRecord]) -> Json:
        """The psychotherapy notes as a restricted DocumentReference (text/plain attachment)."""
        versions = sorted(_versions(notes), key=lambda v: (v.row.occurred_at, str(v.row.id)))
        lines = [
            f"{_instant(v.row.occurred_at)}" + _state_tag(v) + f"\n{v.row.text.strip()}"
            for v in versions
        ]
        text = (
            "PSYCHOTHERAPY NOTES — kept apart from the session record (HIPAA §164.501); "
            "included in this export on request.\n\n" + "\n\n".join(lines) + "\n"
        )
        labels = [
            _coding(CONFIDENTIALITY, "R", "restricted"),
            _coding(ACT_CODE, "PSYTHPN", "psychotherapy note information sensitivity"),
        ]
        resource: Json = {
            "resourceType": "DocumentReference",
            "id": _derived_id(self.c.participant.id, "psychotherapy-notes"),
            "meta": {"security": labels},
            "status": "current",
            "docStatus": "preliminary" if self.c.draft else "final",
            "type": {"text": "Psychotherapy notes"},
            "subject": self.patient_ref,
            "date": _instant(self._last_change()),
            "description": "Psychotherapy notes, not part of the session record",
            "securityLabel": [{"coding": [label]} for label in labels],
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                        "title": "Psychotherapy notes",
                    }
                }
            ],
            "context": {"encounter": [self.encounter_ref]},
        }
        author_ids = sorted({n.author_id for n in notes if n.author_id is not None}, key=str)
        authors = [r for r in (self.staff_ref(a) for a in author_ids) if r is not None]
        if authors:
            resource["author"] = authors
        return resource

    # the composition -----------------------------------------------------------------------

    def _last_change(self) -> datetime:
        """When the record last changed: the last signature, entry or session time."""
        c = self.c
        times: list[datetime] = [c.session.created_at]
        times += [t for t in (c.session.started_at, c.session.ended_at) if t is not None]
        for rows in (c.doses, c.observations, c.notes, c.discharges, c.events):
            times += [r.recorded_at for r in rows]
        for added in (c.adverse_events, c.interventions, c.substance_counts):  # issue 16
            times += [r.recorded_at for r in added]
        times += [s.signed_at for s in c.signatures]
        if c.private_notes:
            times += [n.recorded_at for n in c.private_notes]
        return max(times)

    def composition(
        self,
        administrations: Sequence[Json],
        groups: Sequence[Json],
        private_document: Json | None,
    ) -> Json:
        c = self.c
        # Addenda after signing make the document "amended" (FHIR composition-status).
        status = "preliminary" if c.draft else "amended" if _versions(c.addenda) else "final"
        authors = [
            r
            for r in (self.staff_ref(c.session.therapist_id), self.staff_ref(c.session.nurse_id))
            if r is not None
        ]
        note = c.session_note
        if note is not None and note.author_id not in {
            c.session.therapist_id,
            c.session.nurse_id,
        }:
            extra = self.staff_ref(note.author_id)
            if extra is not None:
                authors.append(extra)
        day = (c.session.started_at or c.session.created_at).astimezone().date().isoformat()
        number = c.participant.session_number
        what = f"KAP session {number}" if number else "KAP session"
        title = f"{what} record — {c.client_name} — {day}"
        if c.draft:
            title = f"DRAFT — not signed — {title}"
        banner = (
            "<p><b>DRAFT — this session is not signed; the record may still change.</b></p>"
            if c.draft
            else ""
        )
        resource: Json = {
            "resourceType": "Composition",
            "id": self.composition_id,
            "text": _div(
                f"{banner}<p><b>{_esc(title)}</b></p><p>{_esc(c.protocol.name)}, "
                f"{_esc(c.session.modality)} session in {_esc(c.session.room)}. "
                f"Times in this document are local (UTC{_utc_offset(c)}).</p>"
            ),
            "identifier": {"system": URI_IDENTIFIER, "value": _url(self.composition_id)},
            "status": status,
            "type": {"coding": [_NOTE_TYPE], "text": "Ketamine-assisted psychotherapy session"},
            "subject": self.patient_ref,
            "encounter": self.encounter_ref,
            "date": _instant(self._last_change()),
            "author": authors or [{"display": "kapsession session companion"}],
            "title": title,
        }
        attesters = [self._attester(s) for s in c.signatures]
        if attesters:
            resource["attester"] = attesters
        sections = self._note_sections()
        sections += self._entries_section()
        sections.append(self._doses_section(administrations))
        sections.append(self._order_section())
        sections.append(self._readings_section(groups))
        sections += self._alerts_section(c.alerts)
        sections += self._adverse_section()  # issue 16
        sections += self._session_measures_section()  # issue 17
        sections += self._discharge_section(c.standing_discharges)
        sections.append(self._timeline_section(c.timeline))
        sections += self._addenda_sections()
        sections += self._signatures_section(c.signatures)
        if private_document is not None:
            sections.append(
                {
                    "title": "Psychotherapy notes (restricted, included on request)",
                    "text": _div(
                        "<p>The therapist's psychotherapy notes are not part of the session "
                        "record (HIPAA §164.501). They were included in this export on request "
                        "and are in the linked DocumentReference, labelled restricted.</p>"
                    ),
                    "entry": [{"reference": _url(private_document["id"])}],
                }
            )
        resource["section"] = sections
        return resource

    def _attester(self, signature: SignatureRecord) -> Json:
        # Signing the note (therapy) or an addendum takes legal responsibility for the text;
        # the nurse's monitoring signature attests the data in a professional capacity.
        mode = "professional" if signature.part == SignedPart.MONITORING else "legal"
        attester: Json = {"mode": mode, "time": _instant(signature.signed_at)}
        party = self.staff_ref(signature.staff_id, signature.signer_name)
        if party is not None:
            attester["party"] = party
        return attester

    def _note_sections(self) -> list[Json]:
        note = self.c.session_note
        if note is None:
            return []
        parts = note.sections or (("note", "Session note", note.text),)
        sections = []
        for key, title, body in parts:
            section: Json = {
                "title": title,
                "code": {"coding": [_coding(NOTE_SECTION_SYSTEM, key, title)], "text": title},
                "text": _div(_paragraphs(body) or "<p><i>Nothing written.</i></p>"),
            }
            author = self.staff_ref(note.author_id)
            if author is not None:
                section["author"] = [author]
            sections.append(section)
        return sections

    def _entries_section(self) -> list[Json]:
        entries = sorted(
            _versions(self.c.note_entries), key=lambda v: (v.row.occurred_at, str(v.row.id))
        )
        if not entries:
            return []
        lines = [
            f"{_hm(v.row.occurred_at)} {'Intention: ' if v.row.kind == 'intention' else ''}"
            f"{_esc(v.row.text.strip())}"
            f"{_author_suffix(self.c, v.row.author_id)}{_state_note(v)}"
            for v in entries
        ]
        return [{"title": "Notes during the session", "text": _div(_items(lines))}]

    def _doses_section(self, administrations: Sequence[Json]) -> Json:
        versions = sorted(_versions(self.c.doses), key=lambda v: (v.row.occurred_at, str(v.row.id)))
        lines = []
        for v in versions:
            d = v.row
            amount = f"{_number(d.dose_mg)} mg" if d.dose_mg is not None else "dose not recorded"
            lot = f", lot {d.lot_number}" if d.lot_number else ""
            by = f", given by {self.c.staff_name(d.given_by_id)}" if d.given_by_id else ""
            lines.append(
                _esc(
                    f"{_hm(d.occurred_at)} {d.kind} dose: {d.medication or ''} {amount} "
                    f"{d.route or ''}{lot}{by}".replace("  ", " ")
                )
                + _state_note(v)
            )
        section: Json = {
            "title": "Medication administration",
            "text": _div(_items(lines) or "<p>No dose was given.</p>"),
        }
        if administrations:
            section["entry"] = [{"reference": _url(a["id"])} for a in administrations]
        return section

    def _readings_section(self, groups: Sequence[Json]) -> Json:
        versions = sorted(
            _versions(self.c.observations), key=lambda v: (v.row.occurred_at, str(v.row.id))
        )
        lines = [
            f"{_hm(v.row.occurred_at)} {_esc(self._checkin_label(v.row.checkin_key))}: "
            f"{_esc(_reading_text(v.row.values, v.row.on_room_air))}{_state_note(v)}"
            for v in versions
        ]
        section: Json = {
            "title": "Vital signs and observation scales",
            "text": _div(_items(lines) or "<p>No readings were taken.</p>"),
        }
        if groups:
            section["entry"] = [{"reference": _url(g["id"])} for g in groups]
        return section

    def _alerts_section(self, alerts: Sequence[AlertRecord]) -> list[Json]:
        if not alerts:
            return []
        lines = []
        for a in sorted(alerts, key=lambda a: (a.raised_at, str(a.id))):
            line = f"{_hm(a.raised_at)} {a.label}: {a.message}"
            if a.acknowledged_at is not None:
                who = self.c.staff_name(a.acknowledged_by_id)
                line += f" — acknowledged {_hm(a.acknowledged_at)}"
                line += f" by {who}" if who else ""
                if a.acknowledgement_comment.strip():
                    line += f": {a.acknowledgement_comment.strip()}"
            else:
                line += " — not acknowledged"
            if a.reading_corrected:
                line += " (the reading was corrected since)"
            lines.append(_esc(line))
        return [{"title": "Alerts and acknowledgements", "text": _div(_items(lines))}]

    def _discharge_section(self, discharges: Sequence[DischargeAssessmentRecord]) -> list[Json]:
        if not discharges:
            return []
        lines = []
        for d in discharges:
            line = f"{_hm(d.occurred_at)} Aldrete {d.aldrete_total}/10"
            line += ", on room air" if d.on_room_air else ", on supplemental oxygen"
            line += ", ready to leave" if d.ready else ", not ready to leave"
            if d.ready_minutes_after_first_dose is not None:
                line += f", {d.ready_minutes_after_first_dose} min after the first dose"
            if d.problems:
                line += ". Problems: " + "; ".join(d.problems)
            if d.override_reason:
                line += f". Discharged on the decision of {d.override_by or 'staff'}: "
                line += d.override_reason
            deviation = discharge_deviation(self.c, d)
            if deviation is not None:  # issue 16: the prescriber's override, a deviation
                line += f". Protocol deviation: {deviation_text(deviation, None)}"
            lines.append(_esc(line))
        return [{"title": "Discharge assessment", "text": _div(_items(lines))}]

    def _timeline_section(self, timeline: Sequence[LogItem]) -> Json:
        lines = []
        for item in timeline:
            if item.kind is LogKind.NOTE:
                continue  # notes have their own sections
            line = f"{_hm(item.at)} {item.title}"
            if item.detail.strip():
                line += f" — {' '.join(item.detail.split())}"
            if item.state is not EntryState.STANDING:
                line += f" [{item.state.value}{': ' + item.reason if item.reason else ''}]"
            lines.append(_esc(line))
        return {
            "title": "Session timeline (phases, doses, check-ins, markers, music)",
            "text": _div(_items(lines) or "<p>Nothing on the timeline.</p>"),
        }

    def _addenda_sections(self) -> list[Json]:
        sections = []
        signed = {s.note_id: s for s in self.c.signatures if s.note_id is not None}
        for v in sorted(
            _versions(self.c.addenda), key=lambda v: (v.row.recorded_at, str(v.row.id))
        ):
            note: NoteRecord = v.row
            title = f"Addendum — {note.recorded_at.astimezone():%Y-%m-%d %H:%M}"
            signature = signed.get(note.id)
            footer = (
                f"<p><i>Signed by {_esc(signature.signer_name)} at "
                f"{signature.signed_at.astimezone():%Y-%m-%d %H:%M}.</i></p>"
                if signature
                else "<p><i>Not signed.</i></p>"
            )
            state = f"<p>{_state_note(v)}</p>" if _change(v) is not None else ""
            section: Json = {"title": title, "text": _div(_paragraphs(note.text) + state + footer)}
            author = self.staff_ref(note.author_id)
            if author is not None:
                section["author"] = [author]
            sections.append(section)
        return sections

    def _signatures_section(self, signatures: Sequence[SignatureRecord]) -> list[Json]:
        if not signatures:
            return []
        lines = []
        for s in sorted(signatures, key=lambda s: (s.signed_at, str(s.id))):
            line = (
                f"{s.signed_at.astimezone():%Y-%m-%d %H:%M} {s.part} signed by {s.signer_name} "
                f"({s.signer_role}): {s.meaning}"
            )
            verified = self.c.signatures_verified.get(s.part)
            if verified == SignatureCheck.CHANGED:
                line += " — WARNING: the record no longer matches what was signed."
            elif verified == SignatureCheck.UNBOUND:
                line += " — made before signatures were bound to a person."
            lines.append(_esc(line))
        return [{"title": "Signatures", "text": _div(_items(lines))}]

    # the bundle ----------------------------------------------------------------------------

    # adverse events, interventions, controlled-substance counts (issue 16) -----------------

    def _suspect(self, onset: datetime) -> Json | None:
        """The ketamine administration an adverse event follows: the last standing dose given
        before its onset (else the first one)."""
        doses = sorted(effective(self.c.doses), key=lambda d: d.occurred_at)
        before = [d for d in doses if d.occurred_at <= onset]
        chosen = before[-1] if before else (doses[0] if doses else None)
        if chosen is None:
            return None
        return {"instance": {"reference": _url(str(chosen.id))}}

    def _given_for(self, event_ids: set[uuid.UUID]) -> list[InterventionRecord]:
        return [i for i in effective(self.c.interventions) if i.adverse_event_id in event_ids]

    def adverse_events(self) -> list[Json]:
        """Each standing adverse event as an AdverseEvent (R4 has no status: one withdrawn as
        entered in error is left out), graded with the FHIR code systems, the ketamine
        administration as its suspect."""
        resources = []
        rows = self.c.adverse_events
        for a in sorted(effective(rows), key=lambda a: (a.occurred_at, str(a.id))):
            given = self._given_for(chain_ids(rows, a.id))
            lines = [f"{_hm(a.occurred_at)} {a.title} ({a.grading})"]
            if a.resolved_at is not None:
                lines.append(f"Resolved at {_hm(a.resolved_at)}.")
            if a.actions:
                lines.append(f"Actions taken: {a.actions}")
            lines += [f"Intervention {_hm(i.occurred_at)}: {i.title}" for i in given]
            if a.corrects_id is not None:
                lines.append(f"Updated: {a.correction_reason or 'no reason given'}")
            resource: Json = {
                "resourceType": "AdverseEvent",
                "id": str(a.id),
                "text": _div("".join(f"<p>{_esc(line)}</p>" for line in lines)),
                "identifier": _entry_identifier(a.id)[0],
                "actuality": "actual",
                "event": {"text": a.title},
                "subject": self.patient_ref,
                "encounter": self.encounter_ref,
                "date": _instant(a.occurred_at),
                "recordedDate": _instant(a.recorded_at),
                "seriousness": _graded(Seriousness, a.seriousness),
                "severity": _graded(Severity, a.severity),
                "outcome": _graded(Outcome, a.outcome),
            }
            recorder = self.staff_ref(a.recorded_by_id)
            if recorder is not None:
                resource["recorder"] = recorder
            suspect = self._suspect(a.occurred_at)
            if suspect is not None:
                resource["suspectEntity"] = [suspect]
            resources.append(resource)
        return resources

    def interventions(self) -> list[Json]:
        """A rescue medication as a MedicationAdministration, anything else (oxygen,
        repositioning, the prescriber called) as a Procedure; corrections as doses have them."""
        rows = sorted(
            _versions(self.c.interventions), key=lambda v: (v.row.occurred_at, str(v.row.id))
        )
        events = self.c.adverse_events
        resources = []
        for version in rows:
            i = version.row
            withdrawn = version.state is EntryState.WITHDRAWN
            notes = []
            if i.lot_number:
                notes.append(f"Lot number {i.lot_number}.")
            if i.text:
                notes.append(i.text)
            if i.adverse_event_id is not None:
                event = standing_of(events, i.adverse_event_id)
                if event is not None:
                    notes.append(
                        f"For the adverse event {event.title} (onset {_hm(event.occurred_at)})."
                    )
            notes += self._correction_notes(version)
            performer = self.staff_ref(i.given_by_id)
            resource: Json
            if i.kind == InterventionKind.RESCUE_MEDICATION:
                resource = {
                    "resourceType": "MedicationAdministration",
                    "id": str(i.id),
                    "identifier": _entry_identifier(i.id),
                    "status": "entered-in-error" if withdrawn else "completed",
                    "medicationCodeableConcept": {"text": i.medication or "rescue medication"},
                    "subject": self.patient_ref,
                    "context": self.encounter_ref,
                    "effectiveDateTime": _instant(i.occurred_at),
                }
                if performer is not None:
                    resource["performer"] = [{"actor": performer}]
                if notes:
                    resource["note"] = [{"text": text} for text in notes]
                if i.dose is not None:
                    unit = i.unit or "mg"
                    resource["dosage"] = {
                        "text": f"{_number(i.dose)} {unit} {i.route or ''}".strip(),
                        "route": {"text": i.route or ""},
                        "dose": _quantity(i.dose, unit, _UCUM_UNITS.get(unit, unit)),
                    }
            else:
                resource = {
                    "resourceType": "Procedure",
                    "id": str(i.id),
                    "identifier": _entry_identifier(i.id),
                    "status": "entered-in-error" if withdrawn else "completed",
                    "code": {"text": i.title},
                    "subject": self.patient_ref,
                    "encounter": self.encounter_ref,
                    "performedDateTime": _instant(i.occurred_at),
                }
                if performer is not None:
                    resource["performer"] = [{"actor": performer}]
                if notes:
                    resource["note"] = [{"text": text} for text in notes]
            resources.append(resource)
        return resources

    def _adverse_section(self) -> list[Json]:
        """The adverse events and interventions, in the Composition, with their resources."""
        events = sorted(effective(self.c.adverse_events), key=lambda a: a.occurred_at)
        given = sorted(_versions(self.c.interventions), key=lambda v: v.row.occurred_at)
        if not events and not given:
            return []
        lines = [
            _esc(f"{_hm(a.occurred_at)} Adverse event: {a.title} ({a.grading})") for a in events
        ]
        lines += [
            _esc(f"{_hm(v.row.occurred_at)} Intervention: {v.row.title}") + _state_note(v)
            for v in given
        ]
        return [
            {
                "title": "Adverse events and interventions",
                "text": _div(_items(lines)),
                "entry": [{"reference": _url(str(a.id))} for a in events]
                + [{"reference": _url(str(v.row.id))} for v in given],
            }
        ]

    def _substance_notes(self, dose: DoseRecord) -> list[str]:
        """The dose's controlled-substance count (Schedule III): drawn, given, wasted, and who
        witnessed the waste."""
        ids = chain_ids(self.c.doses, dose.id)
        notes = []
        for count in effective(self.c.substance_counts):
            if count.dose_id not in ids:
                continue
            text = (
                f"Controlled substance (Schedule III): drawn {_number(count.drawn_mg)} mg, "
                f"given {_number(count.given_mg)} mg, wasted {_number(count.wasted_mg)} mg"
            )
            if count.wasted_mg > 0:
                witness = self.c.staff_name(count.witness_id) or "a second staff member"
                text += f", waste witnessed by {witness}"
            notes.append(text + ".")
        return notes

    # outcome measures (issue 17) ---------------------------------------------------------

    def session_measures(self) -> list[tuple[Json, Json | None]]:
        """The client's measures of this session (`ExportContent.measures`: given in it, or
        outside any session on its day), each pointing at this encounter when given in it."""

        def encounter(record: MeasureRecord) -> Json | None:
            return self.encounter_ref if record.session_id == self.c.session.id else None

        def staff(record: MeasureRecord) -> Json | None:
            return self.staff_ref(record.recorded_by_id, record.recorded_by)

        return measure_resources(self.c.measures, _MeasureRefs(self.patient_ref, encounter, staff))

    def _session_measures_section(self) -> list[Json]:
        if not self.c.measures:
            return []
        return [_measures_section(self._measures, _measure_lines(self.c.measures))]

    def build(self) -> Json:
        c = self.c
        patient, encounter = self.patient(), self.encounter()
        self._requests = self.medication_requests()  # issue 16: the prescriber's order
        administrations = self.medication_administrations()
        readings = self.observations()
        groups = [group for group, _members in readings]
        self._measures = self.session_measures()  # issue 17
        # Included but none written for this participant: nothing to carry, nothing to label.
        private_document = self.private_notes_document(c.private_notes) if c.private_notes else None
        composition = self.composition(administrations, groups, private_document)
        resources: list[Json] = [composition, patient, encounter]
        resources += _ordered_practitioners(self._practitioners, c)
        resources += administrations
        resources += self._requests
        for group, members in readings:
            resources += [group, *members]
        resources += self.adverse_events() + self.interventions()  # issue 16
        resources += [r for pair in self._measures for r in pair if r is not None]  # issue 17
        if private_document is not None:
            resources.append(private_document)
        entries = [{"fullUrl": _url(r["id"]), "resource": r} for r in resources]
        digest = hashlib.sha256(
            json.dumps(entries, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        bundle_id = str(uuid.uuid5(_ID_NAMESPACE, f"bundle:{digest}"))
        changed = self._last_change()
        assembled = max(c.exported_at, changed) if c.exported_at is not None else changed
        bundle: Json = {
            "resourceType": "Bundle",
            "id": bundle_id,
            "identifier": {"system": URI_IDENTIFIER, "value": _url(bundle_id)},
            "type": "document",
            "timestamp": _instant(assembled),
        }
        meta: Json = {}
        if private_document is not None:  # the bundle holds restricted content
            meta["security"] = [_coding(CONFIDENTIALITY, "R", "restricted")]
        if c.draft:
            meta["tag"] = [_coding(RECORD_STATE_SYSTEM, "draft", "DRAFT — not signed")]
        if meta:
            bundle["meta"] = meta
        bundle["entry"] = entries
        return bundle


def _ordered_practitioners(found: dict[uuid.UUID, Json], content: ExportContent) -> list[Json]:
    """Therapist, nurse, then anyone else by name: a stable order for the same content."""
    first = [content.session.therapist_id, content.session.nurse_id]
    ordered = [found[i] for i in first if i is not None and i in found]
    rest = sorted(
        (p for i, p in found.items() if i not in first),
        key=lambda p: (p["name"][0]["text"], p["id"]),
    )
    return ordered + rest


def _author_suffix(content: ExportContent, author_id: uuid.UUID | None) -> str:
    name = content.staff_name(author_id)
    return f" <i>({_esc(name)})</i>" if name else ""


def _utc_offset(content: ExportContent) -> str:
    when = content.session.started_at or content.session.created_at
    offset = when.astimezone().strftime("%z")
    return f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"


_UCUM_UNITS = {"mg": "mg", "mcg": "ug", "mL": "mL"}


def _graded(vocabulary: type[Severity | Seriousness | Outcome], code: str) -> Json:
    """A FHIR AdverseEvent grading: the code of its code system, one to one (issue 16)."""
    display = DISPLAYS.get(code, code)
    return {"coding": [_coding(FHIR_SYSTEMS[vocabulary], code, display)], "text": display}


# --- outcome measures (issue 17) ---------------------------------------------------------------
# Each administration of PHQ-9, GAD-7 or PCL-5 is a QuestionnaireResponse with its item answers
# and, only when complete, an Observation of its total (derived from the response). PHQ-9 and
# GAD-7 carry their LOINC panel and total codes (clinical-sources.md §8); PCL-5 has no LOINC
# code found here, so it is coded in our local scale system (`SCALE_SYSTEM`), said in the text.
# An incomplete administration is `in-progress` with its unanswered items left without an
# answer, and has no total Observation: it was not scored, and no value is made up for it.
# Corrections as for readings: the standing version (`amended` / `corrected` when it corrects
# one), a withdrawn one `entered-in-error`, the versions it replaced left out.


@dataclass(frozen=True)
class MeasureCodes:
    questionnaire: str  # the canonical URL of the form
    panel: tuple[str, str, str]  # system, code, display
    total: tuple[str, str, str]


# The displays are LOINC's long common names, as published FHIR profiles give them (the German
# Medical Informatics Initiative's PRO module, Synthea's output); clinical-sources.md §8 gives
# the codes. Note GAD-7's total ends "[Reported.PHQ]", PHQ-9's "[Reported]".
MEASURE_CODES: dict[str, MeasureCodes] = {
    InstrumentKey.PHQ9.value: MeasureCodes(
        "http://loinc.org/q/44249-1",
        (LOINC, "44249-1", "PHQ-9 quick depression assessment panel [Reported.PHQ]"),
        (LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    ),
    InstrumentKey.GAD7.value: MeasureCodes(
        "http://loinc.org/q/69737-5",
        (LOINC, "69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
        (
            LOINC,
            "70274-6",
            "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ),
    ),
    InstrumentKey.PCL5.value: MeasureCodes(
        "urn:kapsession:questionnaire:pcl5",
        (SCALE_SYSTEM, "pcl5", "PTSD Checklist for DSM-5 (PCL-5), local code"),
        (SCALE_SYSTEM, "pcl5-total", "PCL-5 total score, local code"),
    ),
}
MEASURE_SECTION_TITLE = "Outcome measures (questionnaires)"


@dataclass(frozen=True)
class _MeasureRefs:
    """How the measures' resources point at the client, the session and staff."""

    patient: Json
    encounter: Callable[[MeasureRecord], Json | None]
    staff: Callable[[MeasureRecord], Json | None]


def _measure_status(version: Version[MeasureRecord]) -> tuple[str, str]:
    """(the QuestionnaireResponse's status, the total Observation's status)."""
    if version.state is EntryState.WITHDRAWN:
        return "entered-in-error", "entered-in-error"
    if not version.row.complete:
        return "in-progress", ""
    if version.corrects:
        return "amended", "corrected"
    return "completed", "final"


def _measure_notes(version: Version[MeasureRecord]) -> list[str]:
    change = _change(version)
    if change is None:
        return []
    _what, why, when = change
    reason = why or "no reason given"
    if version.state is EntryState.WITHDRAWN:
        return [f"Withdrawn as entered in error (at {_instant(when)}): {reason}"]
    return [f"Corrects an earlier entry (at {_instant(when)}): {reason}"]


def measure_line(record: MeasureRecord) -> str:
    """An administration in one line: "PHQ-9 14 (moderate)" or "… incomplete (…), not scored"."""
    scored = record.score()
    text = scored.summary()
    if not scored.complete:
        text += ", not scored"
    if scored.needs_decision:
        items = ", ".join(str(i) for i in scored.flags)
        text += f"; item {items} answered above zero"
    return text


def measure_resources(
    rows: Sequence[MeasureRecord], refs: _MeasureRefs
) -> list[tuple[Json, Json | None]]:
    """Each administration's QuestionnaireResponse and its total Observation (None while
    incomplete), oldest first."""
    found = sorted(_versions(rows), key=lambda v: (v.row.occurred_at, str(v.row.id)))
    return [_measure_pair(v, refs) for v in found]


def _measure_pair(version: Version[MeasureRecord], refs: _MeasureRefs) -> tuple[Json, Json | None]:
    record = version.row
    form = record.instrument
    codes = MEASURE_CODES[record.instrument_key]
    scored = record.score()
    response_status, total_status = _measure_status(version)
    notes = _measure_notes(version)
    narrative = [_esc(f"{form.title}: {measure_line(record)}.")] + [_esc(n) for n in notes]
    if codes.panel[0] == SCALE_SYSTEM:
        narrative.append("Coded in the clinic's local code system: no LOINC code is used.")
    items: list[Json] = []
    for item, answer in zip(form.items, record.answers, strict=False):
        entry: Json = {"linkId": str(item.number), "text": item.text}
        if answer is not None:  # an unanswered item stays without an answer, never 0
            entry["answer"] = [{"valueInteger": answer}]
        items.append(entry)
    response: Json = {
        "resourceType": "QuestionnaireResponse",
        "id": str(record.id),
        "text": _div("".join(f"<p>{line}</p>" for line in narrative)),
        "identifier": _entry_identifier(record.id)[0],
        "questionnaire": codes.questionnaire,
        "status": response_status,
        "subject": refs.patient,
    }
    encounter = refs.encounter(record)
    if encounter is not None:
        response["encounter"] = encounter
    response["authored"] = _instant(record.occurred_at)
    author = refs.staff(record)
    if author is not None:
        response["author"] = author
    if record.entry_mode == "client_screen":
        response["source"] = refs.patient  # the client answered on the screen
    response["item"] = items
    if not total_status or scored.total is None:
        return response, None
    system, code, display = codes.total
    observation: Json = {
        "resourceType": "Observation",
        "id": _derived_id(record.id, "total"),
        "identifier": _entry_identifier(record.id, "total"),
        "status": total_status,
        "category": _category("survey", "Survey"),
        "code": {"coding": [_coding(system, code, display)], "text": f"{form.name} total score"},
        "subject": refs.patient,
    }
    if encounter is not None:
        observation["encounter"] = encounter
    observation["effectiveDateTime"] = _instant(record.occurred_at)
    observation["issued"] = _instant(record.recorded_at)
    if author is not None:
        observation["performer"] = [author]
    observation["valueInteger"] = scored.total
    if scored.band is not None:
        observation["interpretation"] = [{"text": scored.band.label}]
    flagged = (
        [f"Item {', '.join(str(i) for i in scored.flags)} answered above zero: the prescriber "
         "decides before the next dose."]
        if scored.needs_decision
        else []
    )  # fmt: skip
    if flagged + notes:
        observation["note"] = [{"text": text} for text in flagged + notes]
    observation["derivedFrom"] = [{"reference": _url(response["id"])}]
    return response, observation


def _measures_section(pairs: Sequence[tuple[Json, Json | None]], lines: Sequence[str]) -> Json:
    section: Json = {
        "title": MEASURE_SECTION_TITLE,
        "text": _div(_items(_esc(line) for line in lines) or "<p>No measures recorded.</p>"),
    }
    entries = [r for pair in pairs for r in pair if r is not None]
    if entries:
        section["entry"] = [{"reference": _url(r["id"])} for r in entries]
    return section


def _measure_lines(rows: Sequence[MeasureRecord]) -> list[str]:
    found = sorted(_versions(rows), key=lambda v: (v.row.occurred_at, str(v.row.id)))
    return [
        f"{v.row.occurred_at.astimezone():%Y-%m-%d %H:%M} {measure_line(v.row)}" + _state_tag(v)
        for v in found
    ]


def measures_bundle(summary: CourseSummary) -> Json:
    """Every administration of the client's measures (the course summary's FHIR export) as a
    `collection` Bundle: the Patient, then each QuestionnaireResponse and its total
    Observation. A session is pointed at by its identifier (the Encounter is in that
    session's own record, not here)."""
    client = summary.history.client
    patient: Json = {"resourceType": "Patient", "id": str(client.id)}
    if client.record_number:
        patient["identifier"] = [{"system": RECORD_NUMBER_SYSTEM, "value": client.record_number}]
    name: Json = {"use": "official", "text": client.full_name}
    if client.family_name:
        name["family"] = client.family_name
    if client.given_name:
        name["given"] = [client.given_name]
    patient["name"] = [name]
    if client.date_of_birth is not None:
        patient["birthDate"] = client.date_of_birth.isoformat()
    patient_ref = {"reference": _url(patient["id"]), "display": client.full_name}

    def encounter(record: MeasureRecord) -> Json | None:
        if record.session_id is None:
            return None
        return {"identifier": {"system": SESSION_SYSTEM, "value": str(record.session_id)}}

    def staff(record: MeasureRecord) -> Json | None:
        return {"display": record.recorded_by} if record.recorded_by else None

    pairs = measure_resources(summary.measure_versions, _MeasureRefs(patient_ref, encounter, staff))
    resources = [patient] + [r for pair in pairs for r in pair if r is not None]
    entries = [{"fullUrl": _url(r["id"]), "resource": r} for r in resources]
    digest = hashlib.sha256(
        json.dumps(entries, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    bundle_id = str(uuid.uuid5(_ID_NAMESPACE, f"measures:{digest}"))
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "identifier": {"system": URI_IDENTIFIER, "value": _url(bundle_id)},
        "type": "collection",
        "timestamp": _instant(summary.made_at),
        "entry": entries,
    }


def measures_bundle_json(summary: CourseSummary) -> str:
    return json.dumps(measures_bundle(summary), ensure_ascii=False, indent=2) + "\n"
