"""Every export's timeline names a reading's check-in as the live screen does, by the
protocol's label ("Check-in T+30", "Unscheduled check-in"), never by its internal key
("Check-in (t30)") — issue 15's smaller findings. Saved through the services on a copy of the
demo data, then exported as CSV events, FHIR and Markdown."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import timedelta

from kapsession.export.csv_export import events_csv
from kapsession.export.fhir import to_fhir_json
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app


def test_the_timeline_of_every_export_names_check_ins_by_their_label(
    qapp: object, demo_copy: AppContext
) -> None:
    # Given the unsigned demo session with one more reading taken outside any slot
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    content = gather(context.database, session.id)
    assert content.session.ended_at is not None
    later = content.session.ended_at + timedelta(minutes=20)
    context.service.checkins.save_checkin(
        session.id,
        content.participant.id,
        {"heart_rate_bpm": "88"},
        occurred_at=later,
        recorded_at=later,
        checkin_key=None,
    )
    after = gather(context.database, session.id)
    labels = {c.key: c.label for c in after.protocol.checkins}
    scheduled = {o.checkin_key for o in after.observations if o.checkin_key is not None}
    assert scheduled, "the demo session has scheduled check-ins"
    # When it is exported as CSV events, FHIR and Markdown
    titles = {
        row["title"]
        for row in csv.DictReader(io.StringIO(events_csv(after)))
        if row["kind"] == "checkin"
    }
    narrative = " ".join(
        entry["resource"]["text"]["div"]
        for entry in json.loads(to_fhir_json(after))["entry"]
        if entry["resource"].get("resourceType") == "Composition"
    )
    narrative += " ".join(
        section["text"]["div"]
        for entry in json.loads(to_fhir_json(after))["entry"]
        if entry["resource"].get("resourceType") == "Composition"
        for section in entry["resource"].get("section", [])
        if "text" in section
    )
    markdown = to_markdown(after)
    # Then each scheduled check-in is titled by its label and the extra one as unscheduled
    expected = {f"Check-in {labels[key]}" for key in scheduled} | {"Unscheduled check-in"}
    assert titles == expected
    for title in expected:
        assert title in narrative and title in markdown
    # and no internal key shows through anywhere
    keyed = re.compile(r"Check-in \((?:" + "|".join(map(re.escape, scheduled)) + r"|unscheduled)\)")
    for text in (narrative, markdown, "\n".join(titles)):
        assert not keyed.search(text)
