"""Any text staff can type (emoji, right-to-left scripts, combining marks, long notes) round-trips
exactly on both back-ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.sessions import SessionRecord

# Every Unicode character staff may enter: all but surrogates, NUL and the other control
# characters except tab and line breaks (refused at entry: domain/entry_text.py,
# tests/services/test_services_entry_text.py).
CHARACTERS = st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n\r")
NAMES = st.text(CHARACTERS, min_size=1, max_size=120).map(str.strip).filter(bool)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis folder in the source tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def live(clinic: Clinic) -> SessionRecord:
    return clinic.new_session()


@SETTINGS
@given(label=st.text(CHARACTERS, max_size=400))
@example(label="🧘‍♀️🎶 dose given 💊 👍🏽")
@example(label="שלום — الجرعة الأولى ‏200 mg‏")
@example(label="\u202eoverride\u202c e\u0301 Å ﬁ ǅ")
@example(label="line one\r\nline two\ttab\u2028separator")
@example(label="Long note. " * 5000)
def test_event_labels_round_trip_exactly(clinic: Clinic, live: SessionRecord, label: str) -> None:
    # Given a live session; When an event with arbitrary text is saved and read back
    at = clinic.now()
    saved = clinic.entries.add_event(live.id, "marker", occurred_at=at, recorded_at=at, label=label)
    (read,) = [e for e in clinic.entries.events(live.id) if e.id == saved.id]
    # Then the text is exactly what was typed
    assert read.label == label


@SETTINGS
@given(given_name=NAMES, family_name=NAMES)
@example(given_name="Zoë", family_name="Ødegård-Núñez")
@example(given_name="محمد", family_name="עמרני")
@example(given_name="李", family_name="🌈" * 120)
def test_client_names_round_trip_exactly(clinic: Clinic, given_name: str, family_name: str) -> None:
    # Given a client added with arbitrary names; When the client is read back
    client = clinic.clients.add(given_name, family_name, at=clinic.now())
    read = clinic.clients.get(client.id)
    # Then the names are exactly what was typed
    assert (read.given_name, read.family_name) == (given_name, family_name)
