"""outbox

Revision ID: afccf8c210ad
Revises: bc0f32a6e6aa
Create Date: 2026-12-03 14:19:10.914641

"""
from alembic import op
import sqlalchemy as sa

import twofold.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'afccf8c210ad'
down_revision = 'bc0f32a6e6aa'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('outbox_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=63), nullable=False),
    sa.Column('entity_type', sa.String(length=63), nullable=True),
    sa.Column('record_id', sa.Uuid(), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', twofold.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handled_at', twofold.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_pending', ['tenant_id', 'created_at'], unique=False, postgresql_where=sa.text('dispatched_at IS NULL'), sqlite_where=sa.text('dispatched_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_outbox_events_tenant_id_record_id_created_at'), ['tenant_id', 'record_id', 'created_at'], unique=False)




def downgrade():

    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_events_tenant_id_record_id_created_at'))
        batch_op.drop_index('ix_outbox_events_pending', postgresql_where=sa.text('dispatched_at IS NULL'), sqlite_where=sa.text('dispatched_at IS NULL'))

    op.drop_table('outbox_events')

