"""The B2C pack's records: the person who buys, their requests, their orders, the campaigns.

The B2B pack declares ``contact`` too, and a tenant running both sees the union of the two
packs' fields; a field both declare must have the same type in both, so the shared ones
(name, phone, email, telegram) are spelled exactly as agreed with the B2B pack.
"""

from __future__ import annotations

from twofold.sdk import EntityType, Field, RelationRole

CHANNELS = ("email", "sms", "telegram")
LIFECYCLE = ("lead", "customer", "repeat_customer", "lapsed")
ORDER_STATUSES = ("new", "paid", "shipped", "delivered", "cancelled", "refunded")
ORDER_CHANNELS = ("website", "telegram", "whatsapp", "phone", "email", "store", "marketplace", "other")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def consent_fields(channel: str) -> tuple[Field, ...]:
    """Consent to marketing on one channel: yes or no, since when, and where it was given.

    Each channel has its own time and source rather than one shared pair: a client who
    agrees to e-mails at checkout and opts out of SMS a month later must leave a trace of
    each, and the proof of consent is asked per channel.
    """
    label = {"email": "e-mail", "sms": "SMS", "telegram": "Telegram"}[channel]
    return (
        # False, not blank: marketing goes only to those who said yes.
        Field(f"consent_{channel}", "bool", label=f"Agrees to {label} marketing", default=False),
        Field(f"consent_{channel}_at", "datetime", label=f"{label} consent changed at"),
        Field(f"consent_{channel}_source", label=f"{label} consent source",
              help="Where the client said so: a checkout form, the bot, a call…"),
    )


CONTACT = EntityType(
    name="contact", label="Contact", title="name",
    fields=(
        # Shared with the B2B pack: same names, same types.
        Field("name", required=True, personal=True),
        Field("phone", "phone", unique=True, personal=True),
        Field("email", "email", unique=True, personal=True),
        Field("telegram", label="Telegram", personal=True, help="@username"),
        *(f for channel in CHANNELS for f in consent_fields(channel)),
        Field("tags", "multi_choice", choices=("vip", "newsletter", "promo", "gift", "complaint")),
        Field("segment", "choice", choices=("mass", "middle", "premium"), indexed=True),
        Field("lifecycle", "choice", choices=LIFECYCLE, default="lead", indexed=True),
    ),
)

LEAD = EntityType(
    name="lead", label="Lead", title="need",
    fields=(
        Field("need", required=True, label="What the client wants"),
        Field("amount", "money", column="amount", label="Expected amount"),
        Field("source", indexed=True, help="The channel the request came from."),
        *(Field(name, label=f"UTM {name[4:]}", indexed=name == "utm_source") for name in UTM_FIELDS),
        Field("campaign"),
        Field("referrer"),
        Field("first_response_due", "datetime", label="First response due", indexed=True),
        Field("lost_reason", label="Why lost"),
    ),
    relations=(RelationRole("contact", "contact", label="Client"),),
)

ORDER = EntityType(
    name="order", label="Order", title="{number} {items}",
    fields=(
        Field("number", label="Order number", unique=True, help="The shop's own number, for imports."),
        Field("amount", "money", column="amount", required=True),
        Field("currency", column="currency", default="RUB"),
        Field("items", help="What was bought."),
        Field("status", "choice", column="status", choices=ORDER_STATUSES, default="new"),
        Field("channel", "choice", choices=ORDER_CHANNELS, indexed=True),
        Field("ordered_at", "datetime", label="Ordered at", indexed=True),
    ),
    relations=(RelationRole("contact", "contact", label="Client"),),
)

CAMPAIGN = EntityType(
    name="campaign", label="Campaign", title="name",
    fields=(
        Field("name", required=True),
        Field("utm_source", label="UTM source"),
        Field("utm_medium", label="UTM medium"),
        # The key that ad-spend rows and leads' UTM tags are matched on.
        Field("utm_campaign", label="UTM campaign", unique=True),
        Field("notes"),
    ),
)


def entity_types() -> list[EntityType]:
    return [CONTACT, LEAD, ORDER, CAMPAIGN]
