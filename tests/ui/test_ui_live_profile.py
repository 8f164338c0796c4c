"""The client's profile on the live screen (issue 17): allergies, weight with its date, the
emergency contact and the escort on one line under the team, for the participant shown (named
in a couples or group session, and changing with the participant chosen), "not recorded" where
a fact is missing."""

from __future__ import annotations

from datetime import date

from ui_harness import RunningApp

from kapsession.domain.client_profile import Allergy, ClientProfile, EmergencyContact
from kapsession.records.sessions import SessionRecord

MAYA = ClientProfile(
    allergies=(Allergy("Penicillin", "rash"), Allergy("Latex")),
    weight_kg=72.5,
    weight_measured_on=date(2026, 11, 20),
    emergency_contact=EmergencyContact("Jon Fischer", "+1 555 0101", "husband"),
)


def _with_profile(app: RunningApp, session: SessionRecord, given: str) -> None:
    """Maya's profile saved; the session opened again, as staff would find it."""
    _therapist, nurse = app.usual_staff()
    maya = next(p for p in session.participants if p.client.given_name == given)
    app.context.service.profiles.save(
        maya.client.id, MAYA, at=app.clock.now(), by=nurse.id, based_on=None
    )
    app.leave_session()
    app.controller.open_session(session.id)
    app.ready()


def test_the_profile_line_shows_allergies_weight_emergency_contact_and_escort(
    app: RunningApp,
) -> None:
    # Given an individual session of a client with a profile
    session = app.start_session("Maya Fischer")
    _with_profile(app, session, "Maya")
    # Then the line under the team shows her allergies, weight and emergency contact
    line = app.live_view.profile_line
    assert line.isVisible() and not line.who.isVisible()
    assert line.plain_text() == (
        "Allergies: Penicillin (rash), Latex   ·   Weight: 72.5 kg on 2026-11-20   ·   "
        "Emergency contact: Jon Fischer (husband) +1 555 0101   ·   Escort today: not recorded"
    )
    # And at the laptop's width every fact is on screen, the allergies in the accent colour
    shown = line.shown_text()
    assert "Penicillin (rash), Latex" in shown and "Escort today: not recorded" in shown
    assert line.labels[0].objectName() == "warn" and line.labels[1].objectName() == ""
    app.leave_session()


def test_in_a_group_the_line_is_the_participant_shown_and_says_what_is_not_recorded(
    app: RunningApp,
) -> None:
    # Given a group of three, Maya with a profile, the others without
    session = app.start_session("Maya Fischer", "Jonas Weber", "Lea Braun", modality="group")
    _with_profile(app, session, "Maya")
    line = app.live_view.profile_line
    # Then the line names the participant shown (Maya, the first)
    assert line.who.text() == "Maya Fischer:"
    assert line.plain_text().startswith("Allergies: Penicillin (rash), Latex")
    # When Jonas is chosen by keyboard
    app.choose(app.live_view.participant, "Jonas Weber")
    # Then the line is his: nothing recorded, and said so for each fact
    assert line.who.text() == "Jonas Weber:"
    assert line.plain_text() == (
        "Allergies: not recorded   ·   Weight: not recorded   ·   "
        "Emergency contact: not recorded   ·   Escort today: not recorded"
    )
    assert "Penicillin" not in line.shown_text() and "Penicillin" not in line.toolTip()
    app.leave_session()
