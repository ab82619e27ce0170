"""Every mapped model, imported in one place so the metadata (and Alembic) sees them all."""

from twofold.auth.models import ApiToken, Invitation, Membership, SecurityEvent, User
from twofold.automations.models import ActionRun, Rule, RuleRun
from twofold.channels.models import BotFlow, Channel, ContactIdentity, Conversation, Message
from twofold.entities.models import Activity, CustomField, Record, Relation
from twofold.events.models import OutboxEvent
from twofold.integrations.models import (
    ConnectorSettings,
    IdempotencyKey,
    InboundEndpoint,
    WebhookDelivery,
    WebhookSubscription,
)
from twofold.packs.models import TenantPack
from twofold.pipelines.models import Pipeline, Stage, StageChange
from twofold.tenancy.models import Tenant

__all__ = [
    "ActionRun",
    "Activity",
    "ApiToken",
    "BotFlow",
    "Channel",
    "ConnectorSettings",
    "ContactIdentity",
    "Conversation",
    "CustomField",
    "IdempotencyKey",
    "InboundEndpoint",
    "Invitation",
    "Membership",
    "Message",
    "OutboxEvent",
    "Pipeline",
    "Record",
    "Relation",
    "Rule",
    "RuleRun",
    "SecurityEvent",
    "Stage",
    "StageChange",
    "Tenant",
    "TenantPack",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
