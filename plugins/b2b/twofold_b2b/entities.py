"""The B2B pack's entity types: companies, the people in them, deals, documents and terms.

``contact`` is declared by the B2C pack too, and the core merges both declarations, failing
a pack whose field has another type than the other pack gave it. The fields both packs
share (name, phone, email, telegram) keep the agreed names and types; B2B adds the
person's position and company.
"""

from __future__ import annotations

from twofold.sdk import EntityType, Field, RelationRole

COMPANY_SIZES = ("1-50", "51-250", "251-1000", "1000+")
TIERS = ("A", "B", "C")
RISK_FLAGS = (
    "stalled", "no_budget_approver", "no_next_step", "competitor", "discount", "champion_left",
)
TIMELINES = ("this month", "this quarter", "this year", "not sure")
DOCUMENT_KINDS = ("proposal", "specification", "contract", "invoice", "act")
APPROVAL_STATES = ("draft", "in_review", "approved", "rejected")
TERM_ITEMS = ("price", "discount", "payment_terms", "delivery", "warranty")
TERM_STATES = ("proposed", "agreed", "rejected")

# The buying committee: the roles a contact can hold on a deal (one person may hold several).
COMMITTEE_ROLES = (
    ("initiator", "Initiator"),
    ("budget_approver", "Budget approver"),
    ("document_reviewer", "Document reviewer"),
    ("signer", "Signer"),
    ("user", "User"),
    ("influencer", "Influencer"),
)

CONTACT = EntityType(
    name="contact", label="Contact", title="name",
    fields=(
        # Shared with the B2C pack: same names, same types, and the same flags, because the
        # core keeps whichever pack's declaration of a shared field it merges first.
        Field("name", "text", required=True, personal=True),
        Field("phone", "phone", unique=True, personal=True),
        Field("email", "email", unique=True, personal=True),
        Field("telegram", "text", personal=True, help="Telegram username, e.g. @ivan"),
        # B2B's own.
        Field("position", "text", help="The person's job title at their company."),
        Field("company", "reference", reference="company"),
    ),
)

COMPANY = EntityType(
    name="company", label="Company", label_plural="Companies", title="legal_name",
    fields=(
        Field("legal_name", "text", required=True, indexed=True),
        Field("tax_id", "text", label="INN", indexed=True,
              help="10 digits for an organisation, 12 for an individual entrepreneur."),
        Field("kpp", "text", label="KPP", help="9 digits; organisations only."),
        Field("industry", "text"),
        Field("size", "choice", choices=COMPANY_SIZES, help="Number of employees."),
        Field("tier", "choice", choices=TIERS),
        Field("strategic", "bool", default=False),
        Field("parent", "reference", reference="company", label="Parent company"),
    ),
)

DEAL = EntityType(
    name="deal", label="Deal", title="name",
    fields=(
        Field("name", "text", required=True),
        Field("amount", "money", column="amount"),
        Field("currency", "text", column="currency", default="RUB"),
        Field("cost", "money", help="What delivering the deal costs us."),
        Field("margin", "money"),
        Field("expected_close", "date"),
        Field("timeline", "choice", choices=TIMELINES, help="When the client plans to decide."),
        Field("next_step", "text"),
        Field("next_step_due", "datetime"),
        Field("competitors", "text"),
        Field("risk_flags", "multi_choice", choices=RISK_FLAGS),
        Field("lost_reason", "text"),
        Field("hold_reason", "text"),
        Field("review_date", "date", help="When a deal on hold comes back for review."),
        # Filled by the chatbot with the channel and the ad campaign a deal came from.
        Field("source", "text"),
        Field("campaign", "text"),
    ),
    relations=(
        *(RelationRole(role, "contact", label) for role, label in COMMITTEE_ROLES),
        RelationRole("company", "company", "Company"),
        *(RelationRole(kind, "document", kind.capitalize()) for kind in DOCUMENT_KINDS),
        RelationRole("term", "term", "Terms"),
    ),
)

DOCUMENT = EntityType(
    name="document", label="Document", title="name",
    fields=(
        Field("name", "text", required=True),
        Field("kind", "choice", choices=DOCUMENT_KINDS, required=True),
        Field("version", "number", default=1),
        Field("approval", "choice", choices=APPROVAL_STATES, default="draft"),
        Field("approved_by", "user"),
        Field("approved_at", "datetime"),
    ),
    relations=(RelationRole("deal", "deal", "Deal"),),
)

TERM = EntityType(
    name="term", label="Term", title="{item} {value}",
    fields=(
        Field("deal", "reference", reference="deal", required=True),
        Field("item", "choice", choices=TERM_ITEMS, required=True),
        Field("value", "text", required=True, help="What is on the table, e.g. 5% or 30 days."),
        Field("state", "choice", choices=TERM_STATES, default="proposed"),
    ),
)

ENTITY_TYPES = [COMPANY, CONTACT, DEAL, DOCUMENT, TERM]
