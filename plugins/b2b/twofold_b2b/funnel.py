"""The deals funnel and its gates.

Gates are cumulative: each stage also asks for what the stages before it asked, because a
deal may jump stages (Qualification straight to Won) and a gate that a jump skips would
not be a gate. Lost and On hold ask for their reason fields instead.
"""

from __future__ import annotations

from twofold.sdk import PipelineSpec, RelationRequirement, StageSpec

PROPOSAL = RelationRequirement("proposal", message="Add a proposal document to the deal.")
BUDGET_APPROVER = RelationRequirement(
    "budget_approver", message="Name the budget approver on the buying committee."
)
SIGNER = RelationRequirement("signer", message="Name who signs on the client's side.")
APPROVED_CONTRACT = RelationRequirement(
    "contract", where={"approval": "approved"}, message="Add a contract whose approval is approved."
)

# (key, name, probability %, days without activity before the deal counts as stalled,
#  the gates this stage adds)
_OPEN_STAGES = (
    ("qualification", "Qualification", 10, 14, ()),
    ("discovery", "Discovery", 20, 21, ()),
    ("proposal", "Proposal", 40, 14, (PROPOSAL,)),
    ("negotiation", "Negotiation", 60, 21, ()),
    ("approval", "Approval", 75, 14, (BUDGET_APPROVER,)),
    ("contract", "Contract", 90, 14, (SIGNER, APPROVED_CONTRACT)),
)


def _stages() -> tuple[StageSpec, ...]:
    stages: list[StageSpec] = []
    gates: tuple[RelationRequirement, ...] = ()
    for key, name, probability, stall_days, added in _OPEN_STAGES:
        gates += added
        stages.append(StageSpec(key, name, probability=probability, stall_days=stall_days,
                                required_relations=gates))
    # "All terms agreed" cannot be said with the core's requirements (they ask that a
    # matching related record exists, not that none is left unagreed): left for later.
    stages.append(StageSpec("won", "Won", kind="won", probability=100, required_relations=gates))
    stages.append(StageSpec("lost", "Lost", kind="lost", required_fields=("lost_reason",)))
    stages.append(StageSpec("on_hold", "On hold", kind="on_hold",
                            required_fields=("hold_reason", "review_date")))
    return tuple(stages)


DEALS = PipelineSpec(key="deals", name="Deals", entity_type="deal", stages=_stages())
PIPELINES = [DEALS]
