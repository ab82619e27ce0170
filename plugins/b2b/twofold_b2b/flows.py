"""The chatbot flow for a new B2B inquiry: the company, who is asking, what for, and when.

It fills three records: the contact (matched by the client's channel identity, phone or
e-mail, not duplicated), their company and the deal, which the contact initiated.
"""

from __future__ import annotations

from twofold.sdk import BotFlowSpec, BotStep
from twofold_b2b.entities import COMPANY_SIZES, TIMELINES

NEW_INQUIRY = BotFlowSpec(
    key="b2b.deal", name="New inquiry", entity_type="deal",
    greeting="Hello! A few short questions, and we will pass your inquiry to the right manager.",
    done="Thank you! Your manager will contact you shortly.",
    records={"contact": "contact", "company": "company", "deal": "deal"},
    links=(
        ("deal", "initiator", "contact"), ("deal", "company", "company"),
        ("contact", "company", "company"),  # the contact's own reference field
    ),
    steps=(
        BotStep("company", "Which company do you represent?", target_field="company.legal_name"),
        BotStep("position", "What is your role there?", target_field="contact.position"),
        BotStep("need", "What do you need from us?", target_field="deal.name"),
        BotStep("size", "How many people work at your company?", input="choice",
                choices=COMPANY_SIZES, target_field="company.size"),
        BotStep("timeline", "When do you plan to decide?", input="choice", choices=TIMELINES,
                target_field="deal.timeline"),
        BotStep("reach", "How should we contact you?", input="choice", choices=("Email", "Phone"),
                next={"Email": "email", "Phone": "phone"}),
        BotStep("email", "Your work e-mail?", input="email", target_field="contact.email", next="end"),
        BotStep("phone", "Your phone number, with the country code?", input="phone",
                target_field="contact.phone"),
    ),
)

BOT_FLOWS = [NEW_INQUIRY]
