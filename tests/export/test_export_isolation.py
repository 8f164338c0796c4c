"""One participant's export of a shared session shows nothing of the other participants, in
every format, with and without the private notes, and does show the participant's own data.

The sessions are tests/support/multi_participant.py's: a couples session and a group of three
(both signed, with the session note the app prefills) and an esketamine couples session (a
draft, for the REMS form too). Every participant has notes, a private note, markers,
check-ins, an alert with its acknowledgement, a dose (most with a hold-dose caution or
override) and a discharge (some overridden), each text holding their own invented code word.
Each export is made through ExportService, as the Export dialog and `kapsession export` make
it, and read back as a reader would: the PDF through pdftotext, the CSV and FHIR files
parsed, so a value counts where and as the format writes it.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import subprocess
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.multi_participant import (
    PEOPLE,
    MultiParticipantData,
    ParticipantData,
    ReadingValues,
    SessionData,
)
from support.real_tools import require_tool

from kapsession.services.exports import SUFFIXES, ExportRequest, ExportService
from kapsession.storage.notes import NoteRepository
from kapsession.ui.export_chart import chart_for

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

FORMATS = ("pdf", "md", "text", "csv", "fhir")  # "text": the plain text of "Copy for EHR"
REMS_SESSIONS = ("esketamine",)
LOINC_HEART_RATE, LOINC_SPO2 = "8867-4", "59408-5"
LOINC_SYSTOLIC, LOINC_DIASTOLIC = "8480-6", "8462-4"


def _cases() -> Iterator[Any]:
    for session_key, people in PEOPLE.items():
        formats = FORMATS + (("rems",) if session_key in REMS_SESSIONS else ())
        for position, person in enumerate(people):
            for export_format in formats:
                for private in (False, True):
                    yield pytest.param(
                        session_key,
                        position,
                        export_format,
                        private,
                        id=f"{session_key}-{person.given_name}-{export_format}"
                        + ("-private" if private else ""),
                    )


# --- reading an export back ---------------------------------------------------------------------


def _flat(text: str) -> str:
    """Compatibility forms folded (PDF ligatures, SpO₂), case folded, runs of space as one."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _by_line(text: str) -> str:
    """Line by line, ids left out: a value is never read out of the digits of an id."""
    return "\n".join(UUID.sub(" ", _flat(line)) for line in text.splitlines())


def _squashed(text: str) -> str:
    return re.sub(r"\s", "", _flat(text))


@dataclass(frozen=True)
class Export:
    """What one export says: its words, its lines (a table row stays on one line) and, for
    the formats with typed values (CSV, FHIR), the vital signs and doses as values."""

    text: str
    lines: str
    heart_rates: frozenset[float] = field(default=frozenset())
    spo2s: frozenset[float] = field(default=frozenset())
    blood_pressures: frozenset[str] = field(default=frozenset())
    doses_mg: frozenset[float] = field(default=frozenset())
    weights_kg: frozenset[float] = field(default=frozenset())

    def says(self, words: str) -> bool:
        """The words, also where a line break fell inside one (a PDF wraps a long word in a
        narrow column anywhere: "LOTTHOR7" then "2")."""
        return _flat(words) in self.text or _squashed(words) in _squashed(self.text)

    def names_id(self, value: uuid.UUID) -> bool:
        """Dashed, or as hex (also when a line break or hyphen falls inside it)."""
        return str(value) in self.text or value.hex in re.sub(r"[\s-]", "", self.text)

    def shows_dose(self, participant: ParticipantData) -> bool:
        """The dose ("Dose 225 mg", "Dose (mg): 225") or the weight it was given for."""
        mg = f"{participant.dose_mg:g}"
        if participant.dose_mg in self.doses_mg or re.search(
            rf"(?<![\w.]){mg}\s*mg\b|dose \(mg\): {mg}(?![\w.])", self.lines
        ):
            return True
        weight = participant.weight_kg
        return weight is not None and (
            weight in self.weights_kg
            or bool(re.search(rf"(?<![\w.]){weight:g}\s*kg\b", self.lines))
        )

    def shows_bp(self, bp: str) -> bool:
        return bp in self.blood_pressures or bool(
            re.search(rf"(?<![\w/.]){re.escape(bp)}(?![\w/.])", self.lines)
        )

    def shows_pulse(self, reading: ReadingValues) -> bool:
        """Heart rate then SpO2 in one row or phrase ("61 | 94", "HR 61 · SpO2 94 %",
        "HR (/min): 61; SpO2 (%): 94", "61,94"), or both among the typed values."""
        hr, spo2 = reading.heart_rate, reading.spo2
        between = r"(?:[^\d\n]|spo2){1,40}?"
        if re.search(rf"(?<![\w.]){hr}{between}(?<![\w.]){spo2}(?![\w.])", self.lines):
            return True
        return hr in self.heart_rates and spo2 in self.spo2s


def _pdf(path: Path) -> Export:
    require_tool("pdftotext", "poppler-utils")
    # Reading order keeps a table cell's text together; -layout keeps a table row on one line.
    reading, layout = (
        subprocess.run(
            ["pdftotext", *options, str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for options in ([], ["-layout"])
    )
    return Export(_flat(reading + "\n" + layout), _by_line(layout))


def _csv(paths: tuple[Path, ...]) -> Export:
    texts = [p.read_text(encoding="utf-8") for p in paths]
    rows = [row for t in texts for row in csv.DictReader(t.splitlines())]

    def values(column: str) -> frozenset[float]:
        return frozenset(float(r[column]) for r in rows if r.get(column))

    pressures = frozenset(
        f"{r['systolic_mmhg']}/{r['diastolic_mmhg']}"
        for r in rows
        if r.get("systolic_mmhg") and r.get("diastolic_mmhg")
    )
    joined = "\n".join(texts)
    return Export(
        _flat(joined),
        _by_line(joined),
        values("heart_rate_bpm"),
        values("spo2_pct"),
        pressures,
        values("dose_mg"),
        values("weight_kg"),
    )


def _strings(node: Any) -> Iterator[str]:
    """Every string of a JSON document, text attachments decoded (the private notes)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        text_attachment = str(node.get("contentType", "")).startswith("text/")
        for key, value in node.items():
            yield key
            if key == "data" and text_attachment:
                yield base64.b64decode(value).decode("utf-8")
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _loinc(node: dict[str, Any]) -> set[str]:
    return {c.get("code") for c in node.get("code", {}).get("coding", [])}


def _fhir(path: Path) -> Export:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    heart, spo2, pressures, doses = set(), set(), set(), set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationAdministration":
            doses.add(float(resource["dosage"]["dose"]["value"]))
        if resource["resourceType"] != "Observation":
            continue
        codes = _loinc(resource)
        value = resource.get("valueQuantity", {}).get("value")
        if LOINC_HEART_RATE in codes and value is not None:
            heart.add(float(value))
        if LOINC_SPO2 in codes and value is not None:
            spo2.add(float(value))
        parts = {
            code: c["valueQuantity"]["value"]
            for c in resource.get("component", [])
            for code in _loinc(c)
            if "valueQuantity" in c
        }
        if LOINC_SYSTOLIC in parts and LOINC_DIASTOLIC in parts:
            pressures.add(f"{parts[LOINC_SYSTOLIC]:g}/{parts[LOINC_DIASTOLIC]:g}")
    strings = "\n".join(_strings(bundle))
    return Export(
        _flat(strings),
        _by_line(strings),
        frozenset(heart),
        frozenset(spo2),
        frozenset(pressures),
        frozenset(doses),
    )


def export(
    data: MultiParticipantData,
    session: SessionData,
    participant: ParticipantData,
    export_format: str,
    private: bool,
    folder: Path,
) -> Export:
    """Export the participant's document as the dialog does (the PDF with its chart), by the
    session's therapist (who alone may export the private notes)."""
    assert data.context is not None
    service = ExportService(data.context.database, data.context.clock, chart_for=chart_for)
    chosen = str(participant.participant_id)
    if export_format == "text":
        content = service.content(session.session_id, participant=chosen, include_private=private)
        text = service.plain_text(content, by=data.therapist.id)
        return Export(_flat(text), _by_line(text))
    out = folder / f"record{SUFFIXES[export_format]}"
    request = ExportRequest(
        session.session_id, export_format, out, participant=chosen, include_private=private
    )
    files = service.export(request, by=data.therapist.id).files
    if export_format in ("pdf", "rems"):
        return _pdf(out)
    if export_format == "csv":
        return _csv(files)
    if export_format == "fhir":
        return _fhir(out)
    return Export(_flat(out.read_text(encoding="utf-8")), _by_line(out.read_text("utf-8")))


# --- what must and must not be there -------------------------------------------------------------


def leaks(document: Export, other: ParticipantData, export_format: str) -> list[str]:
    """Everything of `other` that the document shows."""
    who = other.full_name
    found = [
        f"{who}: {word!r}"
        for word in (
            *other.names,
            other.record_number,
            *other.dates_of_birth,
            other.code,  # in every note, private note, marker, comment and acknowledgement
            other.lot_number,
            *other.shared_texts,
            *other.private_notes,
            other.alert_message,
        )
        if document.says(word)
    ]
    found += [
        f"{who}: id {value}"
        for value in (other.participant_id, other.client_id)
        if document.names_id(value)
    ]
    # (The REMS form prints its 56 and 84 mg boxes whatever was given.)
    if export_format != "rems" and document.shows_dose(other):
        found.append(f"{who}: dose {other.dose_text} {other.weight_text}")
    for reading in other.readings:
        where = f"{who}: {reading.checkin_key}"
        if reading.bp is not None and document.shows_bp(reading.bp):
            found.append(f"{where} blood pressure {reading.bp}")
        if document.shows_pulse(reading):
            found.append(f"{where} HR {reading.heart_rate} with SpO2 {reading.spo2}")
        if reading.heart_rate in document.heart_rates:
            found.append(f"{where} heart rate {reading.heart_rate} as a value")
        if reading.spo2 in document.spo2s:
            found.append(f"{where} SpO2 {reading.spo2} as a value")
    return found


# What each format shows of the participant's own record (`missing` checks these).
RECORD = {
    "identity",
    "texts",
    "alert",
    "acknowledgement",
    "overrides",
    "lot",
    "dose",
    "bp",
    "pulse",
}
OWN = {
    "pdf": RECORD | {"private"},
    "md": RECORD | {"private"},
    "text": RECORD | {"private"},
    # No names: every row carries the participant's id. The discharge row has no column for
    # an override's reason (it shows only in the signed session note's text).
    "csv": RECORD - {"identity", "overrides"} | {"ids", "dose override", "private"},
    "fhir": RECORD | {"ids", "private"},
    # The form: who, the lot, the three REMS pressures, the adverse events recorded as such
    # (none here: an alert is not one by itself, issue 16) and the deviations (overrides).
    "rems": {"identity", "overrides", "lot", "bp"},
}


def missing(document: Export, own: ParticipantData, export_format: str) -> list[str]:
    """What of the participant's own record the document should show and does not."""
    shows = OWN[export_format]
    absent: list[str] = []
    if "identity" in shows:
        absent += [w for w in (own.full_name, own.record_number) if not document.says(w)]
        if not any(document.says(d) for d in own.dates_of_birth):
            absent.append(f"date of birth {own.date_of_birth}")
    texts = {
        "texts": (*own.notes, *own.markers, *(r.comment for r in own.readings if r.comment)),
        "alert": (own.alert_message,),
        "acknowledgement": (own.acknowledgement,),
        "overrides": (own.override_reason, own.discharge_override),
        "dose override": (own.override_reason,),
    }
    for what, wanted in texts.items():
        if what in shows:
            absent += [text for text in wanted if text and not document.says(text)]
    if "lot" in shows and not document.says(own.lot_number):
        absent.append(own.lot_number)
    if "dose" in shows and not document.shows_dose(own):
        absent.append(f"dose {own.dose_text}")
    if "ids" in shows and not document.names_id(own.participant_id):
        absent.append(f"id {own.participant_id}")
    for reading in own.readings:
        if "bp" in shows and reading.bp is not None and not document.shows_bp(reading.bp):
            absent.append(f"{reading.checkin_key} blood pressure {reading.bp}")
        if "pulse" in shows and not document.shows_pulse(reading):
            absent.append(f"{reading.checkin_key} HR {reading.heart_rate} SpO2 {reading.spo2}")
    return absent


# --- the tests ----------------------------------------------------------------------------------


def test_the_data_gives_every_participant_their_own_record(
    multi_participant: MultiParticipantData,
) -> None:
    """The premise of the checks below: each participant's entries are stored as theirs."""
    context = multi_participant.context
    assert context is not None
    for session in multi_participant.sessions:
        assert len(session.participants) == len(PEOPLE[session.key]) >= 2
        checkins, entries = context.service.checkins, context.service.entries
        stored = NoteRepository(context.database)
        doses = entries.doses(session.session_id)
        notes = {(n.participant_id, n.text) for n in stored.notes(session.session_id)}
        private = {(n.participant_id, n.text) for n in stored.private_notes(session.session_id)}
        events = entries.events(session.session_id)
        markers = {(e.participant_id, e.label) for e in events if e.kind == "marker"}
        hold_dose = {(e.participant_id, e.kind) for e in events if e.kind.startswith("hold_dose")}
        for p in session.participants:
            pid = p.participant_id
            assert [
                a.acknowledgement_comment
                for a in checkins.alerts(session.session_id)
                if a.participant_id == pid
            ] == [p.acknowledgement]
            assert len(checkins.observations(session.session_id, pid)) == len(p.readings)
            assert pid in checkins.discharged(session.session_id)
            assert {d.participant_id for d in doses if d.lot_number == p.lot_number} == {pid}
            assert {(pid, text) for text in p.notes} <= notes
            assert {(pid, text) for text in p.private_notes} <= private
            assert {(pid, text) for text in p.markers} <= markers
            expected = {"caution": {"hold_dose_caution"}, "override": {"hold_dose_override"}}
            assert {k for who, k in hold_dose if who == pid} == expected.get(p.hold_dose, set())
    assert {s.key: s.signed for s in multi_participant.sessions} == {
        "couples": True,
        "group": True,
        "esketamine": False,
    }


@pytest.mark.parametrize(("session_key", "position", "export_format", "private"), list(_cases()))
def test_an_export_shows_only_its_own_participant(
    qapp: object,
    multi_participant: MultiParticipantData,
    tmp_path: Path,
    session_key: str,
    position: int,
    export_format: str,
    private: bool,
) -> None:
    # Given a shared session and one of its participants
    session = multi_participant.session(session_key)
    own = session.participants[position]

    # When that participant's document is exported
    document = export(multi_participant, session, own, export_format, private, tmp_path)

    # Then nothing of any other participant is in it: names, record number, date of birth,
    # ids, notes, private notes, markers, comments, lot, blood pressures, pulse and SpO2
    found = [
        leak for other in session.others(own) for leak in leaks(document, other, export_format)
    ]
    assert found == [], f"{own.full_name}'s {export_format} shows others' data: {found}"
    # And the participant's own record is there
    assert missing(document, own, export_format) == []
    # And their private notes only when asked for (never on the REMS form)
    shows_private = private and "private" in OWN[export_format]
    assert [document.says(n) for n in own.private_notes] == [shows_private] * len(own.private_notes)
