"""entities, pipelines, packs

Revision ID: bc0f32a6e6aa
Revises: 004e9fc1268d
Create Date: 2026-12-03 13:20:23.569448

"""
from alembic import op
import sqlalchemy as sa

import twofold.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'bc0f32a6e6aa'
down_revision = '004e9fc1268d'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('custom_fields',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entity_type', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('unique', sa.Boolean(), nullable=False),
    sa.Column('indexed', sa.Boolean(), nullable=False),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('default', sa.JSON(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('reference', sa.String(length=63), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_custom_fields_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_custom_fields')),
    sa.UniqueConstraint('tenant_id', 'entity_type', 'name', name=op.f('uq_custom_fields_tenant_id_entity_type_name'))
    )
    op.create_table('pipelines',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('entity_type', sa.String(length=63), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('pack', sa.String(length=63), nullable=False),
    sa.Column('created_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipelines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_pipelines')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_pipelines_tenant_id_key'))
    )
    op.create_table('tenant_packs',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pack', sa.String(length=63), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('seeded', sa.Boolean(), nullable=False),
    sa.Column('changed_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_packs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tenant_packs')),
    sa.UniqueConstraint('tenant_id', 'pack', name=op.f('uq_tenant_packs_tenant_id_pack'))
    )
    op.create_table('stages',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pipeline_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('stall_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'pipeline_id'], ['pipelines.tenant_id', 'pipelines.id'], name=op.f('fk_stages_tenant_id_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_stages')),
    sa.UniqueConstraint('tenant_id', 'pipeline_id', 'key', name=op.f('uq_stages_tenant_id_pipeline_id_key'))
    )
    op.create_table('records',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entity_type', sa.String(length=63), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('pipeline_id', sa.Uuid(), nullable=True),
    sa.Column('stage_id', sa.Uuid(), nullable=True),
    sa.Column('stage_entered_at', twofold.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('deleted_at', twofold.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_records_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_records_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'pipeline_id'], ['pipelines.tenant_id', 'pipelines.id'], name=op.f('fk_records_tenant_id_pipeline_id_pipelines')),
    sa.ForeignKeyConstraint(['tenant_id', 'stage_id'], ['stages.tenant_id', 'stages.id'], name=op.f('fk_records_tenant_id_stage_id_stages')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_records_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_records'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_tenant_id_entity_type_amount'), ['tenant_id', 'entity_type', 'amount'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_tenant_id_entity_type_id'), ['tenant_id', 'entity_type', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_tenant_id_entity_type_title'), ['tenant_id', 'entity_type', 'title'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_tenant_id_entity_type_updated_at'), ['tenant_id', 'entity_type', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_tenant_id_pipeline_id_stage_id'), ['tenant_id', 'pipeline_id', 'stage_id'], unique=False)

    op.create_table('activities',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'record_id'], ['records.tenant_id', 'records.id'], name=op.f('fk_activities_tenant_id_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_activities_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activities_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_tenant_id_record_id_at'), ['tenant_id', 'record_id', 'at'], unique=False)

    op.create_table('relations',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('from_id', sa.Uuid(), nullable=False),
    sa.Column('to_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=63), nullable=False),
    sa.Column('created_at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_relations_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'from_id'], ['records.tenant_id', 'records.id'], name=op.f('fk_relations_tenant_id_from_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'to_id'], ['records.tenant_id', 'records.id'], name=op.f('fk_relations_tenant_id_to_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_relations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_relations')),
    sa.UniqueConstraint('tenant_id', 'from_id', 'to_id', 'role', name=op.f('uq_relations_tenant_id_from_id_to_id_role'))
    )
    with op.batch_alter_table('relations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relations_tenant_id_to_id'), ['tenant_id', 'to_id'], unique=False)

    op.create_table('stage_changes',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('pipeline_id', sa.Uuid(), nullable=False),
    sa.Column('from_stage_id', sa.Uuid(), nullable=True),
    sa.Column('to_stage_id', sa.Uuid(), nullable=False),
    sa.Column('at', twofold.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('override', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'from_stage_id'], ['stages.tenant_id', 'stages.id'], name=op.f('fk_stage_changes_tenant_id_from_stage_id_stages')),
    sa.ForeignKeyConstraint(['tenant_id', 'pipeline_id'], ['pipelines.tenant_id', 'pipelines.id'], name=op.f('fk_stage_changes_tenant_id_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'record_id'], ['records.tenant_id', 'records.id'], name=op.f('fk_stage_changes_tenant_id_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'to_stage_id'], ['stages.tenant_id', 'stages.id'], name=op.f('fk_stage_changes_tenant_id_to_stage_id_stages')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stage_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_stage_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_changes_tenant_id_pipeline_id_at'), ['tenant_id', 'pipeline_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_changes_tenant_id_record_id_at'), ['tenant_id', 'record_id', 'at'], unique=False)




def downgrade():

    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_changes_tenant_id_record_id_at'))
        batch_op.drop_index(batch_op.f('ix_stage_changes_tenant_id_pipeline_id_at'))

    op.drop_table('stage_changes')
    with op.batch_alter_table('relations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relations_tenant_id_to_id'))

    op.drop_table('relations')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_tenant_id_record_id_at'))

    op.drop_table('activities')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_tenant_id_pipeline_id_stage_id'))
        batch_op.drop_index(batch_op.f('ix_records_tenant_id_entity_type_updated_at'))
        batch_op.drop_index(batch_op.f('ix_records_tenant_id_entity_type_title'))
        batch_op.drop_index(batch_op.f('ix_records_tenant_id_entity_type_id'))
        batch_op.drop_index(batch_op.f('ix_records_tenant_id_entity_type_amount'))

    op.drop_table('records')
    op.drop_table('stages')
    op.drop_table('tenant_packs')
    op.drop_table('pipelines')
    op.drop_table('custom_fields')

