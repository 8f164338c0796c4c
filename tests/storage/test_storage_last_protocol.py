"""The protocol a client's next session starts with: that of their most recently started session
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kapsession.records.people import ClientRecord
from kapsession.storage.client_history import ClientHistoryRepository

if TYPE_CHECKING:
    from conftest import Clinic


def _session(
    clinic: Clinic, protocol_key: str, *clients: ClientRecord, started: bool = True
) -> None:
    record = clinic.sessions.create(
        protocol_key=protocol_key,
        protocol_name=protocol_key,
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="individual" if len(clients) == 1 else "couples",
        client_ids=[c.id for c in clients],
        at=clinic.now(),
        therapist_id=clinic.therapist.id,
        by=clinic.therapist.id,
    )
    if started:
        clinic.sessions.start(record.id, at=clinic.now(), by=clinic.therapist.id)


def test_the_last_started_session_gives_the_protocol(clinic: Clinic) -> None:
    # Given Maya's sublingual sessions, then a couples IM session with Jonas, then a planned IV
    # one not started; and Lena with no session at all
    maya, jonas, lena = (clinic.add_client(g, "Okafor") for g in ("Maya", "Jonas", "Lena"))
    _session(clinic, "sublingual-kap-3h", maya)
    _session(clinic, "sublingual-kap-3h", maya)
    _session(clinic, "intramuscular-kap", maya, jonas)
    _session(clinic, "iv-infusion", maya, started=False)
    _session(clinic, "sublingual-kap-3h", jonas)
    history = ClientHistoryRepository(clinic.db)

    # When each client's last protocol is asked for, Then it is their last started session's
    assert history.last_protocol_key(maya.id) == "intramuscular-kap"
    assert history.last_protocol_key(jonas.id) == "sublingual-kap-3h"
    assert history.last_protocol_key(lena.id) is None
