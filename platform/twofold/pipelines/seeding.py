"""Copying a pack's declared pipelines into a tenant's tables, once."""

from __future__ import annotations

from dataclasses import asdict

from twofold.db import db
from twofold.pipelines.meta import PipelineSpec, StageSpec
from twofold.pipelines.models import Pipeline, Stage
from twofold.plugins import plugins


def requirements_of(spec: StageSpec) -> dict:
    return {
        "fields": list(spec.required_fields),
        "relations": [asdict(r) for r in spec.required_relations],
        "reason": spec.requires_reason,
    }


def seed_pipeline(spec: PipelineSpec, pack: str) -> Pipeline:
    """Create the pipeline and its stages unless the tenant already has it (by key)."""
    pipeline = db.session.scalar(db.select(Pipeline).where(Pipeline.key == spec.key))
    if pipeline is not None:
        return pipeline
    has_default = db.session.scalar(
        db.select(Pipeline.id).where(Pipeline.entity_type == spec.entity_type, Pipeline.is_default.is_(True))
    )
    pipeline = Pipeline(
        key=spec.key,
        name=spec.name,
        entity_type=spec.entity_type,
        is_default=spec.default and not has_default,
        pack=pack,
    )
    db.session.add(pipeline)
    db.session.flush()
    for position, stage in enumerate(spec.stages):
        db.session.add(
            Stage(
                pipeline_id=pipeline.id,
                key=stage.key,
                name=stage.name,
                position=position,
                kind=stage.kind,
                probability=stage.probability,
                requirements=requirements_of(stage),
                stall_days=stage.stall_days,
            )
        )
    db.session.flush()
    return pipeline


def seed_pipelines(pack: str) -> list[Pipeline]:
    """Seed every pipeline the pack declares, and the indexes its entity types need."""
    from twofold.entities import indexes

    out = []
    for contribution in plugins().collect("twofold_pipelines", [pack]):
        if contribution.plugin == pack:
            out.append(seed_pipeline(contribution.value, pack))
    for contribution in plugins().collect("twofold_entity_types", [pack]):
        if contribution.plugin == pack:
            indexes.ensure_type_indexes(contribution.value)
    return out
