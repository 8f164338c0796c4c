"""Who people are in the clinic (a staff member's role) and on a session's team.

A staff member has one role; which roles may monitor a session, be its therapist or its
prescriber on site is the clinic's rule (`clinic_rules.py`, the clinic's `clinic.toml`).
"""

from __future__ import annotations

import enum


class StaffRole(enum.StrEnum):
    THERAPIST = "therapist"
    NURSE = "nurse"
    PRESCRIBER = "prescriber"  # e.g. a nurse practitioner or physician assistant who prescribes
    PHYSICIAN = "physician"
    LEAD = "lead"  # the clinic lead: protocols, playlists, staff list
    ADMINISTRATOR = "administrator"
    OTHER = "other"


ROLE_NAMES: dict[StaffRole, str] = {
    StaffRole.THERAPIST: "Therapist",
    StaffRole.NURSE: "Nurse",
    StaffRole.PRESCRIBER: "Prescriber",
    StaffRole.PHYSICIAN: "Physician",
    StaffRole.LEAD: "Clinic lead",
    StaffRole.ADMINISTRATOR: "Administrator",
    StaffRole.OTHER: "Other",
}


class TeamRole(enum.StrEnum):
    """A place on a session's team, named when it starts and handed over during it."""

    THERAPIST = "therapist"  # runs the session, writes the notes, signs the therapy part
    MONITORING = "monitoring"  # doses, vitals, alerts, discharge; signs the monitoring part
    PRESCRIBER = "prescriber"  # the prescriber on site (optional)


TEAM_ROLE_NAMES: dict[TeamRole, str] = {
    TeamRole.THERAPIST: "therapist",
    TeamRole.MONITORING: "monitoring clinician",
    TeamRole.PRESCRIBER: "prescriber on site",
}
