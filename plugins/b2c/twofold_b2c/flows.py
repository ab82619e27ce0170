"""The bot's flow for a new B2C lead: what the client wants, and how to reach them.

Short on purpose: a B2C client leaves after the third question. The bot takes the request
and a way back; the manager does the selling. "Here in chat" needs no contact detail: the
conversation itself is the way back.
"""

from __future__ import annotations

from twofold.sdk import BotFlowSpec, BotStep

FLOW = "b2c.lead"
REACH = ("Phone", "Email", "Here in chat")


def bot_flows() -> list[BotFlowSpec]:
    return [
        BotFlowSpec(
            key=FLOW, name="New lead", entity_type="lead",
            records={"contact": "contact", "lead": "lead"},
            links=(("lead", "contact", "contact"),),
            greeting="Hello! Two quick questions and a manager will take it from there.",
            done="Thank you! A manager has your request and will get back to you shortly.",
            steps=(
                BotStep("need", "What would you like to buy or ask about?", target_field="lead.need",
                        reask="Tell us in a few words what you are looking for."),
                BotStep("reach", "How should we reach you?", input="choice", choices=REACH,
                        next={"Phone": "phone", "Email": "email", "Here in chat": "end"}),
                BotStep("phone", "Your phone number, please?", input="phone", target_field="contact.phone",
                        reask="That does not look like a phone number. Please include the country code.",
                        next="end"),
                BotStep("email", "Your e-mail, please?", input="email", target_field="contact.email",
                        reask="That does not look like an e-mail address. Could you check it?",
                        next="end"),
            ),
        )
    ]
