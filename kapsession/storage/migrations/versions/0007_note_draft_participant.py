"""A note draft names its participant.

In a couples or group session the text on the note pad is one participant's note. Until now the
draft kept only its session and pad, so a draft restored after a crash was committed for
whoever was selected when the app came back. `note_draft.participant_id` says whose note it is.

Old rows: a draft of the record or private pad in a session with one participant is that
participant's; in a session with several the participant is not known and stays NULL (the pad
then follows the participant selected, as before, and names them). Session note and addendum
drafts belong to the whole session: NULL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_note_draft_participant_id_participant"

# The only participant of the draft's session, for the pads of a participant's notes.
FILL_OLD_ROWS = """
UPDATE note_draft
SET participant_id = (
    SELECT participant.id FROM participant WHERE participant.session_id = note_draft.session_id
)
WHERE note_draft.pad IN ('record', 'private')
AND (
    SELECT count(*) FROM participant WHERE participant.session_id = note_draft.session_id
) = 1
"""


def upgrade() -> None:
    with op.batch_alter_table("note_draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("participant_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(FOREIGN_KEY, "participant", ["participant_id"], ["id"])
    op.execute(FILL_OLD_ROWS)


def downgrade() -> None:
    with op.batch_alter_table("note_draft", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("participant_id")
