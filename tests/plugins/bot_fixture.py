"""A test-only pack for the chatbot: a contact, a lead in a pipeline, and a branching flow."""

from __future__ import annotations

from twofold import sdk
from twofold.sdk import hookimpl

NAME = "botshop"
FLOW = "botshop.lead"


@hookimpl
def twofold_pack() -> sdk.PackInfo:
    return sdk.PackInfo(NAME, "Bot shop", "A contact, a lead and a bot flow, for the chatbot's tests.")


@hookimpl
def twofold_entity_types() -> list[sdk.EntityType]:
    return [
        sdk.EntityType(
            name="contact", label="Contact", title="name",
            fields=(
                sdk.Field("name", required=True),
                sdk.Field("phone", "phone", unique=True, personal=True),
                sdk.Field("email", "email", unique=True, personal=True),
            ),
        ),
        sdk.EntityType(
            name="lead", label="Lead", title="need",
            fields=(
                sdk.Field("need", required=True),
                sdk.Field("budget", "number"),
                sdk.Field("size", "choice", choices=("small", "large")),
                sdk.Field("source"),
                sdk.Field("campaign"),
                sdk.Field("utm_source"),
                sdk.Field("utm_campaign"),
            ),
            relations=(sdk.RelationRole("contact", "contact"),),
        ),
    ]


@hookimpl
def twofold_pipelines() -> list[sdk.PipelineSpec]:
    return [
        sdk.PipelineSpec(
            key="leads", name="Leads", entity_type="lead",
            stages=(sdk.StageSpec("new", "New"), sdk.StageSpec("won", "Won", kind="won")),
        )
    ]


@hookimpl
def twofold_bot_flows() -> list[sdk.BotFlowSpec]:
    return [
        sdk.BotFlowSpec(
            key=FLOW, name="Shop lead", entity_type="lead",
            greeting="Hi! I am the shop's bot.",
            done="Thanks! A manager will write to you here.",
            links=(("lead", "contact", "contact"),),
            steps=(
                sdk.BotStep("need", "What are you looking for?", target_field="need"),
                sdk.BotStep("size", "Is it a small or a large order?", input="choice",
                            choices=("small", "large"), target_field="size",
                            next={"large": "budget", "*": "reach"}),
                sdk.BotStep("budget", "What is your budget?", input="number", target_field="budget",
                            reask="Just the number, please."),
                sdk.BotStep("reach", "How should we reach you?", input="choice", choices=("Phone", "Email"),
                            next={"Phone": "phone", "Email": "email"}),
                sdk.BotStep("phone", "Your phone number?", input="phone", target_field="contact.phone",
                            next="end"),
                sdk.BotStep("email", "Your e-mail?", input="email", target_field="contact.email"),
            ),
        )
    ]
