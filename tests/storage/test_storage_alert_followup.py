"""What was done about an alert, stored with its acknowledgement (SQLite and PostgreSQL).

Storage refuses an acknowledgement without an action, an intervention without what it was, and
"no action" without the reason: nothing is stored then. Acknowledgements made before migration
0010 read as "not_recorded"."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from sqlalchemy import Connection, Uuid, bindparam, inspect, text

from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import Reading, alerts_for
from kapsession.records.errors import StorageError
from kapsession.storage.audit import AuditRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import (
    Database,
    _alembic_config,
    create_database_engine,
    open_database,
)

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.entries import AlertRecord

RULE = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")
HIGH = Reading(systolic_mmhg=190, diastolic_mmhg=100)


def _alert(clinic: Clinic) -> AlertRecord:
    """A live session with one open alert (SBP 190)."""
    session = clinic.new_session()
    at = clinic.now()
    saved = CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        HIGH,
        occurred_at=at,
        recorded_at=at,
        alerts=alerts_for(HIGH, (RULE,)),
        by=clinic.therapist.id,
    )
    (alert,) = saved.alerts
    return alert


def _acknowledgements(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM alert_acknowledgement")).scalar())


def _audit_actions(clinic: Clinic, session_id: uuid.UUID) -> list[str]:
    return [a.action for a in AuditRepository(clinic.db).for_session(session_id)]


@pytest.mark.parametrize(
    ("action", "comment", "follow_up"),
    [
        (AlertAction.RECHECKED, "", "Rechecked"),
        (
            AlertAction.INTERVENTION,
            " Clonidine 0.1 mg by mouth ",
            "Intervention: Clonidine 0.1 mg by mouth",
        ),
        (
            AlertAction.PRESCRIBER_INFORMED,
            "Dr Haas on the phone",
            "Prescriber informed: Dr Haas on the phone",
        ),
        (
            AlertAction.NO_ACTION,
            "Cuff too small; 142/88 on the large cuff",
            "No action: Cuff too small; 142/88 on the large cuff",
        ),
    ],
)
def test_an_acknowledgement_records_what_was_done(
    clinic: Clinic, action: AlertAction, comment: str, follow_up: str
) -> None:
    # Given an open alert
    alert = _alert(clinic)
    checkins = CheckinRepository(clinic.db)
    at = clinic.now()
    # When it is acknowledged with an action
    ack = checkins.acknowledge(
        alert.id, staff_id=clinic.therapist.id, at=at, action=action, comment=comment
    )
    # Then the action is returned and read back with the alert, its text trimmed
    assert (ack.action, ack.comment) == (action.value, comment.strip())
    (stored,) = checkins.alerts(alert.session_id)
    assert stored.acknowledgement_action == action.value
    assert stored.acknowledgement_comment == comment.strip()
    assert stored.follow_up == follow_up
    assert not stored.is_open
    # And the audit row says what was done
    (audit,) = [
        a
        for a in AuditRepository(clinic.db).for_session(alert.session_id)
        if a.action == "alert.acknowledge"
    ]
    assert audit.detail["action"] == action.value


@pytest.mark.parametrize(
    ("action", "comment", "words"),
    [
        (None, "", "Say what was done about the alert"),
        (None, "rechecked, fine", "Say what was done about the alert"),
        ("", "", "Say what was done about the alert"),
        (AlertAction.NO_ACTION, "", "Write why no action was taken"),
        (AlertAction.NO_ACTION, "   ", "Write why no action was taken"),
        (AlertAction.INTERVENTION, "", "Write the intervention"),
        (AlertAction.NOT_RECORDED, "", "choose what was done"),
        ("waved it off", "", "is not an action"),
    ],
)
def test_an_acknowledgement_that_does_not_say_what_was_done_stores_nothing(
    clinic: Clinic, action: str | None, comment: str, words: str
) -> None:
    # Given an open alert
    alert = _alert(clinic)
    checkins = CheckinRepository(clinic.db)
    audit_before = _audit_actions(clinic, alert.session_id)
    # When it is acknowledged without what was done
    with pytest.raises(StorageError) as refused:
        checkins.acknowledge(
            alert.id, staff_id=clinic.therapist.id, at=clinic.now(), action=action, comment=comment
        )
    # Then the message says what to do, and nothing is stored: the alert stays open
    assert str(refused.value).startswith("The alert was NOT acknowledged. ")
    assert words in str(refused.value)
    assert _acknowledgements(clinic.db) == 0
    assert [a.id for a in checkins.open_alerts(alert.session_id)] == [alert.id]
    assert _audit_actions(clinic, alert.session_id) == audit_before


def _triggers(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT DISTINCT trigger_name FROM information_schema.triggers"
    return set(connection.execute(text(sql)).scalars())


def test_0010_gives_earlier_acknowledgements_not_recorded_and_keeps_the_triggers(
    database_url: str, backup_dir: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a database with an acknowledged alert, taken down to 0008 (before `action`)
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        alert = _alert(clinic)
        CheckinRepository(db).acknowledge(
            alert.id,
            staff_id=clinic.therapist.id,
            at=clinic.now(),
            action=AlertAction.RECHECKED,
            comment="Rechecked, 150/90",
        )
    finally:
        db.close()
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:  # the later revisions' tables have their own triggers
            command.downgrade(_alembic_config(connection), "0010")
        with engine.connect() as connection:
            triggers_0010 = _triggers(connection)
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0009")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("alert_acknowledgement")}
            # Then the downgrade took the column away and put every trigger back
            assert "action" not in columns
            assert _triggers(connection) == triggers_0010
        # When it is upgraded again
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0010")
        with engine.connect() as connection:
            # Then the earlier acknowledgement says its action was not recorded
            stored = connection.execute(
                text("SELECT action FROM alert_acknowledgement WHERE alert_id = :id").bindparams(
                    bindparam("id", alert.id, type_=Uuid())
                )
            ).scalar_one()
            assert stored == "not_recorded"
            assert _triggers(connection) == triggers_0010
    finally:
        engine.dispose()
    # And the repositories read it so, with the comment it had
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        (read,) = CheckinRepository(db).alerts(alert.session_id)
        assert read.acknowledgement_action == AlertAction.NOT_RECORDED
        assert read.follow_up == "Action not recorded: Rechecked, 150/90"
    finally:
        db.close()
