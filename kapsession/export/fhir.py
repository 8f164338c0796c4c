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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from kapsession.domain.corrections import Correctable, EntryState, Version, versions
from kapsession.domain.scales import SCALES
from kapsession.export.content import ExportContent
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    ObservationRecord,
)
from kapsession.records.notes import NoteRecord, PrivateNoteRecord, SignatureRecord, SignedPart
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
                    "text": f"{modality} ketamine-assisted psychotherapy session — "
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
        medication = dose.medication or self.c.protocol.dosing.medication.value
        route = dose.route or self.c.protocol.dosing.route.value
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
        resource["note"] = [{"text": text} for text in notes]
        if dose.dose_mg is not None:  # a dosage needs a dose (mad-1)
            resource["dosage"] = {
                "text": f"{_number(dose.dose_mg)} mg {route}",
                "route": {"text": route},
                "dose": _quantity(dose.dose_mg, "mg", "mg"),
            }
        return resource

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
        sections.append(self._readings_section(groups))
        sections += self._alerts_section(c.alerts)
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
            f"{_hm(v.row.occurred_at)} {_esc(v.row.text.strip())}"
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
            if self.c.signatures_verified.get(s.part) is False:
                line += " — WARNING: the record no longer matches what was signed."
            lines.append(_esc(line))
        return [{"title": "Signatures", "text": _div(_items(lines))}]

    # the bundle ----------------------------------------------------------------------------

    def build(self) -> Json:
        c = self.c
        patient, encounter = self.patient(), self.encounter()
        administrations = self.medication_administrations()
        readings = self.observations()
        groups = [group for group, _members in readings]
        # Included but none written for this participant: nothing to carry, nothing to label.
        private_document = self.private_notes_document(c.private_notes) if c.private_notes else None
        composition = self.composition(administrations, groups, private_document)
        resources: list[Json] = [composition, patient, encounter]
        resources += _ordered_practitioners(self._practitioners, c)
        resources += administrations
        for group, members in readings:
            resources += [group, *members]
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
