"""Bot flows as data: the definition a tenant stores, its check on save, and walking it.

A definition is plain JSON so that admins can edit it::

    {"key": "b2c.lead", "name": "...", "greeting": "...", "done": "...",
     "records": [["contact", "contact"], ["lead", "lead"]], "links": [["lead", "contact", "contact"]],
     "steps": [{"key": "need", "question": "...", "input": "text", "target": "lead.need",
                "reask": "...", "next": "phone" | "end" | {"Yes": "budget", "*": "end"}}]}

``records`` pairs an alias with an entity type, in the order they are created: the first
is the contact (matched, not duplicated), the last the lead the flow exists to create. A
list, not an object, because the order is meaning and JSON objects are reordered on the
way (sorted keys, ``jsonb``).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from twofold.channels.meta import BotFlowSpec
from twofold.validation import ValidationError, normalise_email

INPUTS = ("text", "choice", "email", "phone", "number")
END = "end"
# What the bot says when an answer does not pass its input's check and the step has no reask.
DEFAULT_REASK = {
    "choice": "Please choose one of the options.",
    "email": "That does not look like an e-mail address. Could you check it?",
    "phone": "That does not look like a phone number. Please include the country code.",
    "number": "Please answer with a number.",
    "text": "Please answer in a few words.",
}


def from_spec(spec: BotFlowSpec) -> dict[str, Any]:
    records = list(spec.records.items()) or [("contact", spec.contact_type), ("lead", spec.entity_type)]
    lead_alias = records[-1][0]
    steps = []
    for step in spec.steps:
        raw = asdict(step)
        target = raw.pop("target_field")
        if target and "." not in target:
            target = f"{lead_alias}.{target}"
        raw.update(target=target, choices=list(step.choices))
        steps.append({k: v for k, v in raw.items() if v not in (None, [])})
    return {
        "key": spec.key,
        "name": spec.name,
        "greeting": spec.greeting,
        "done": spec.done,
        "records": [list(pair) for pair in records],
        "links": [list(link) for link in spec.links],
        "steps": steps,
    }


def records(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """``(alias, entity type)`` in creation order (an object from an older definition too)."""
    raw = definition.get("records") or []
    if isinstance(raw, dict):
        return [(str(a), str(t)) for a, t in raw.items()]
    return [(str(pair[0]), str(pair[1])) for pair in raw if isinstance(pair, list | tuple) and len(pair) == 2]


def steps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return list(definition.get("steps") or [])


def step(definition: dict[str, Any], key: str | None) -> dict[str, Any] | None:
    return next((s for s in steps(definition) if s.get("key") == key), None)


def first_key(definition: dict[str, Any]) -> str | None:
    found = steps(definition)
    return found[0]["key"] if found else None


def next_key(definition: dict[str, Any], current: dict[str, Any], answer: Any) -> str | None:
    """The step after ``current`` given its answer; ``None`` when the flow is over."""
    rule = current.get("next")
    if isinstance(rule, dict):
        rule = rule.get(str(answer), rule.get("*"))
    if rule == END:
        return None
    if rule:
        return str(rule)
    keys = [s["key"] for s in steps(definition)]
    index = keys.index(current["key"])
    return keys[index + 1] if index + 1 < len(keys) else None


def parse_answer(current: dict[str, Any], text: str) -> Any:
    """The answer's clean value, or :class:`ValidationError` with what to say instead."""
    kind = current.get("input", "text")
    text = (text or "").strip()
    reask = current.get("reask") or DEFAULT_REASK.get(kind, DEFAULT_REASK["text"])
    if not text:
        raise ValidationError(reask)
    if kind == "choice":
        choices = [str(c) for c in current.get("choices") or []]
        match = next((c for c in choices if c.casefold() == text.casefold()), None)
        if match is None and text.isdigit() and 1 <= int(text) <= len(choices):
            match = choices[int(text) - 1]  # "2" for the second option, as people type it
        if match is None:
            raise ValidationError(reask)
        return match
    if kind == "email":
        try:
            return normalise_email(text)
        except ValidationError:
            raise ValidationError(reask) from None
    if kind == "phone":
        from twofold.entities.phones import normalise_phone

        try:
            return normalise_phone(text)
        except ValidationError:
            raise ValidationError(reask) from None
    if kind == "number":
        try:
            number = Decimal(text.replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError(reask) from None
        if not number.is_finite():
            raise ValidationError(reask)
        return int(number) if number == number.to_integral_value() else float(number)
    return text[:2000]


def problems(definition: Any, entity_types: dict[str, Any] | None = None) -> list[str]:
    """Why a definition cannot run, in words an admin can act on; empty when it can.

    With ``entity_types`` (the tenant's registry), targets and links are checked against
    the real fields and relation roles too.
    """
    if not isinstance(definition, dict):
        return ["A flow is a JSON object."]
    out: list[str] = []
    given = definition.get("records")
    pairs = records(definition)
    if not pairs or (isinstance(given, list) and len(pairs) != len(given)):
        example = '[["contact", "contact"], ["lead", "lead"]]'
        out.append(f"records: a list of [alias, entity type], e.g. {example}.")
    elif len({alias for alias, _ in pairs}) != len(pairs):
        out.append("records: an alias is used twice.")
    elif entity_types is not None:
        for alias, type_name in pairs:
            if type_name not in entity_types:
                out.append(f"records.{alias}: there is no entity type {type_name!r}.")
    records_by_alias = dict(pairs)
    found = definition.get("steps")
    if not isinstance(found, list) or not found:
        return [*out, "steps: a flow needs at least one question."]
    keys: list[str] = []
    for index, raw in enumerate(found, start=1):
        where = f"step {index}"
        if not isinstance(raw, dict):
            out.append(f"{where}: a step is an object with a key and a question.")
            continue
        key = raw.get("key")
        if not isinstance(key, str) or not key.strip() or key == END:
            out.append(f"{where}: a step needs a key (any word but {END!r}).")
            continue
        where = f"step {key!r}"
        if key in keys:
            out.append(f"{where}: the key is used twice.")
        keys.append(key)
        if not str(raw.get("question") or "").strip():
            out.append(f"{where}: the question is empty.")
        kind = raw.get("input", "text")
        if kind not in INPUTS:
            out.append(f"{where}: input {kind!r} is not one of {', '.join(INPUTS)}.")
        choices = raw.get("choices") or []
        if kind == "choice" and (not isinstance(choices, list) or len(choices) < 2):
            out.append(f"{where}: a choice needs at least two options.")
        out.extend(_target_problems(where, raw.get("target"), records_by_alias, entity_types))
    for raw in found:
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            continue
        rule = raw.get("next")
        targets = list(rule.values()) if isinstance(rule, dict) else [rule] if rule else []
        if isinstance(rule, dict) and raw.get("input") == "choice":
            unknown = [c for c in rule if c != "*" and c not in (raw.get("choices") or [])]
            if unknown:
                out.append(f"step {raw['key']!r}: branches on {unknown}, which are not its choices.")
        for target in targets:
            if target != END and target not in keys:
                out.append(f"step {raw['key']!r}: goes to {target!r}, which is not a step.")
    if not out:
        out.extend(_loop_problems(definition))
    for link in definition.get("links") or []:
        out.extend(_link_problems(link, records_by_alias, entity_types))
    return out


def _target_problems(
    where: str, target: Any, records: dict[str, str], entity_types: dict[str, Any] | None
) -> list[str]:
    if target in (None, ""):
        return []
    alias, _, name = str(target).partition(".")
    if not name or alias not in records:
        return [f"{where}: target {target!r} is not <record>.<field> with a record of {sorted(records)}."]
    etype = (entity_types or {}).get(records[alias])
    if etype is not None and etype.field(name) is None:
        return [f"{where}: {records[alias]} has no field {name!r}."]
    return []


def _link_problems(link: Any, records: dict[str, str], entity_types: dict[str, Any] | None) -> list[str]:
    if not isinstance(link, list | tuple) or len(link) != 3:
        return [f"links: {link!r} is not [record, role, record]."]
    source, role, target = link
    if source not in records or target not in records:
        return [f"links: {link!r} names a record the flow does not fill."]
    etype = (entity_types or {}).get(records[source])
    if etype is None or role in {r.name for r in etype.relations}:
        return []
    field = etype.field(role)
    if field is not None and field.type == "reference":
        return []
    return [f"links: {records[source]} has no relation role or reference field {role!r}."]


def _loop_problems(definition: dict[str, Any]) -> list[str]:
    """A flow whose steps can come round again would ask forever: refuse it."""
    found = steps(definition)

    def successors(current: dict[str, Any]) -> set[str]:
        rule = current.get("next")
        if isinstance(rule, dict):
            targets = set(rule.values())
            if "*" not in rule:  # an unlisted answer falls through to the next step
                targets.add(_following(found, current["key"]) or END)
            return {t for t in targets if t != END}
        if rule == END:
            return set()
        if rule:
            return {rule}
        following = _following(found, current["key"])
        return {following} if following else set()

    graph = {s["key"]: successors(s) for s in found}
    done: set[str] = set()
    on_path: set[str] = set()

    def visit(key: str) -> bool:
        if key in on_path:
            return True
        if key in done:
            return False
        on_path.add(key)
        looped = any(visit(nxt) for nxt in graph.get(key, ()))
        on_path.discard(key)
        done.add(key)
        return looped

    looped = [key for key in graph if visit(key)]
    return [f"steps: the flow can loop back to {looped[0]!r} and would never end."] if looped else []


def _following(found: list[dict[str, Any]], key: str) -> str | None:
    keys = [s["key"] for s in found]
    index = keys.index(key)
    return keys[index + 1] if index + 1 < len(keys) else None
