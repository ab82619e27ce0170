"""Isolation through every route: tenant B cannot see or touch tenant A's data.

Tenant A gets real data through the product itself (two members, API tokens, an open
invitation, security events, a pack enabled, records, a custom field, a stage move, a CSV
import job); B gets the same kinds of rows, so that B's own ids can show each probe works.
Then, signed in as B's owner (web) and with B's API token (API), the test walks EVERY rule
of ``app.url_map`` and every method of it, with nothing hard-coded about the routes:

* each uuid parameter is filled in turn with every id A owns (the ids of all of A's rows in
  every tenant-owned table, A's tenant id and A's users' ids): the answer must be 403 or
  404, and must not mention A;
* routes without an id must answer without mentioning A (A's names, emails, token names,
  ids, any string only A's rows hold);
* every tenant page is also asked with A's address (``/t/<A>/…``): 404, since B's owner is
  not a member of A;
* public pages are read (GET), signed in and not, and must not mention A;
* at the end, every row A owns (and A's users and tenant) is exactly as it was.

A new route that leaks makes this test fail without anyone listing it here. So that the
walk cannot pass by asking nonsense, the test checks it probed every id route in the map
(at least MIN_ID_ROUTES), and that each GET id route answers 2xx with one of B's own ids:
the same request shape really reaches the handler, so A's ids get 404 from the scope and
not from a malformed URL.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.support.factories import PASSWORD, TenantHandle, csrf_token, invite_and_join, login, signup
from twofold.auth.models import User
from twofold.db import db, tenant_models
from twofold.integrations import signing
from twofold.tenancy.models import Tenant
from twofold.tenancy.scope import unscoped

# Every string tenant A owns contains this word, so a leak of any of them is easy to spot.
A_WORD = "alphaleak"

# Endpoints the walk does not call, each with the reason. Only truly public files belong here.
SKIPPED_ENDPOINTS = {
    "static": "files shipped with the app, the same for everyone",
}

# The walk must find at least this many (rule, method) pairs with a uuid parameter.
MIN_ID_ROUTES = 10

# <converter(args):name> or <name> in a rule's path.
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
SLUG_LIKE = re.compile(r"^[\w.\-]{1,63}$")
RANDOM_LIKE = re.compile(r"^[A-Za-z0-9_\-]{32,}$")


# --- the two tenants --------------------------------------------------------------------


@dataclass
class World:
    a: TenantHandle
    b: TenantHandle
    a_user_ids: set[uuid.UUID]
    a_rows: dict[str, list[dict[str, Any]]]
    b_rows: dict[str, list[dict[str, Any]]]
    a_ids: list[uuid.UUID] = field(default_factory=list)
    # A's identifiers that are not row ids (background job ids): path values B must not use.
    a_handles: list[str] = field(default_factory=list)
    markers: set[str] = field(default_factory=set)


def rows_of(tenant_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every row the tenant owns, table by table (found generically, not listed)."""
    with unscoped("test: collect every row one tenant owns"):
        return {
            model.__table__.name: [
                dict(row._mapping)
                for row in db.session.execute(
                    select(model.__table__).where(model.__table__.c.tenant_id == tenant_id)
                )
            ]
            for model in tenant_models()
        }


def snapshot(app: Flask, world: World) -> dict[str, list[tuple[str, ...]]]:
    """A's rows in every tenant table, A's tenant row and A's users, every column."""

    def frozen(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        return sorted(tuple(f"{k}={v!r}" for k, v in sorted(row.items())) for row in rows)

    with app.app_context():
        state = {table: frozen(rows) for table, rows in rows_of(world.a.tenant_id).items()}
        users = db.session.execute(select(User.__table__).where(User.id.in_(world.a_user_ids)))
        state["users"] = frozen([dict(r._mapping) for r in users])
        tenant = db.session.execute(select(Tenant.__table__).where(Tenant.id == world.a.tenant_id))
        state["tenants"] = frozen([dict(r._mapping) for r in tenant])
        db.session.remove()
    return state


def _api(app: Flask, handle: TenantHandle, method: str, path: str, body: Any = None) -> Any:
    response = app.test_client().open(path, method=method, json=body, headers=handle.api())
    assert response.status_code < 300, (method, path, response.status_code, response.get_json())
    return response.get_json()


def _value_for(field_spec: dict[str, Any], word: str, n: int) -> Any:
    """A valid value for a field of an entity type, from its declared type."""
    kind = field_spec.get("type")
    if field_spec.get("choices"):
        return field_spec["choices"][0]
    return {
        "email": f"{word}-{n}@{word}.example.com", "number": n, "money": "12.50", "bool": True,
        "date": f"2030-01-0{n % 9 + 1}", "datetime": "2030-01-01T10:00:00+00:00",
        "url": f"https://{word}.example.com/{n}", "phone": f"+3225550{n:03d}",
    }.get(kind, f"{word} {field_spec['name']} {n}")


def fill_tenant(app: Flask, handle: TenantHandle, word: str, records_per_type: int) -> None:
    """Enable packs until there are entity types (one pack is enough to reach every record
    route; more would only make the walk longer), then create records, through the API."""
    for pack in _api(app, handle, "GET", "/api/v1/packs")["data"]:
        # The core's own types (a task) are always there: wait for a pack's.
        if any(t["pack"] != "core" for t in _api(app, handle, "GET", "/api/v1/entity-types")["data"]):
            break
        _api(app, handle, "POST", f"/api/v1/packs/{pack['name']}/enable")
    # Integrations: a webhook subscription and an inbound form of the tenant's own.
    _api(app, handle, "POST", "/api/v1/webhooks",
         {"url": f"http://127.0.0.1:9/{word}", "description": f"{word} hook"})
    first_type = next(t["name"] for t in _api(app, handle, "GET", "/api/v1/entity-types")["data"]
                      if t["pack"] != "core")
    _api(app, handle, "POST", "/api/v1/inbound", {"kind": "form", "entity_type": first_type})
    # A chat channel with a client's conversation, a message in and a manager's reply out.
    channel = _api(app, handle, "POST", "/api/v1/channels", {"kind": "json", "name": f"{word} chat"})
    body = json.dumps({"user_id": f"{word}-client", "message_id": f"{word}-1", "text": f"{word} hello",
                       "name": f"{word} client"}).encode()
    response = app.test_client().post(
        f"/hooks/channels/{channel['id']}", data=body, content_type="application/json",
        headers={signing.HEADER: signing.signature(channel["secrets"]["secret"], body)},
    )
    assert response.status_code == 200, response.get_data()
    (chat,) = _api(app, handle, "GET", "/api/v1/conversations")["data"]
    _api(app, handle, "POST", f"/api/v1/conversations/{chat['id']}/messages", {"text": f"{word} reply"})
    # An automation rule of the tenant's own (its pages and run log take its id).
    _api(app, handle, "POST", "/api/v1/automations/rules",
         {"name": f"{word} rule", "entity_type": first_type,
          "trigger": {"type": "event", "event": "record.created"}, "actions": [{"type": "set_field"}]})
    for etype in _api(app, handle, "GET", "/api/v1/entity-types")["data"]:
        simple = {"text", "email", "number", "money", "bool", "date", "datetime", "url", "phone", "choice"}
        if any(f["required"] and f["type"] not in simple for f in etype["fields"]):
            continue  # a required reference or user field: not needed to test isolation
        for n in range(1, records_per_type + 1):
            body = {f["name"]: _value_for(f, word, n) for f in etype["fields"] if f["type"] in simple}
            path = f"/api/v1/records/{etype['name']}"
            response = app.test_client().post(path, json=body, headers=handle.api())
            if response.status_code == 422:  # a constraint the filler cannot guess: keep it simple
                optional = {f["name"] for f in etype["fields"] if not f["required"]}
                refused = set(response.get_json().get("errors", {}))
                if refused <= optional:
                    body = {k: v for k, v in body.items() if k not in refused}
                    response = app.test_client().post(path, json=body, headers=handle.api())
            assert response.status_code in (201, 422), (path, body, response.status_code, response.get_data())


def build_world(app: Flask) -> World:
    a = signup(app, A_WORD, name="Alphaleak Ltd", email=f"owner@{A_WORD}.example.com")
    b = signup(app, "bravo", name="Bravo Inc", email="owner@bravo.example.com")
    agent = invite_and_join(app, a, f"agent@{A_WORD}.example.com", "agent")
    for name in (f"{A_WORD} sync", f"{A_WORD} backup"):
        _api(app, a, "POST", "/api/v1/tokens", {"name": name})
    _api(app, a, "POST", "/api/v1/invitations", {"email": f"pending@{A_WORD}.example.com", "role": "manager"})
    # A failed and a good sign-in: security events in A's log.
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"email": a.email, "password": "wrong password!", "csrf_token": token})
    login(client, a.email)

    fill_tenant(app, a, A_WORD, records_per_type=2)
    fill_tenant(app, b, "bravo", records_per_type=1)
    types = _api(app, a, "GET", "/api/v1/entity-types")["data"]
    assert types, "no pack declares an entity type: the record routes would go untested"
    _api(app, a, "POST", f"/api/v1/entity-types/{types[0]['name']}/fields",
         {"name": f"{A_WORD}_note", "type": "text", "label": "Alphaleak note"})
    for pipeline in _api(app, a, "GET", "/api/v1/pipelines")["data"]:
        records = _api(app, a, "GET", f"/api/v1/records/{pipeline['entity_type']}")["data"]
        stage = next((s for s in pipeline["stages"][1:] if not any(s["requirements"].values())), None)
        if records and stage:
            _api(app, a, "POST", f"/api/v1/records/{pipeline['entity_type']}/{records[0]['id']}/move",
                 {"stage": stage["key"]})

    # A CSV import: a background job whose id only A may ask about.
    csv_fields = [f for f in types[0]["fields"] if f["type"] in ("text", "email", "choice")]
    csv = ",".join(f["name"] for f in csv_fields) + "\n"
    csv += ",".join(str(_value_for(f, A_WORD, 9)) for f in csv_fields) + "\n"
    response = app.test_client().post(f"/api/v1/records/{types[0]['name']}/import", data=csv,
                                      content_type="text/csv", headers=a.api())
    assert response.status_code == 202, response.get_json()

    with app.app_context():
        world = World(a=a, b=b, a_user_ids={a.user_id, agent},
                      a_rows=rows_of(a.tenant_id), b_rows=rows_of(b.tenant_id))
        db.session.remove()
    world.a_handles = [response.get_json()["job_id"]]
    world.a_ids = sorted(
        {row["id"] for rows in world.a_rows.values() for row in rows} | {a.tenant_id} | world.a_user_ids
    )
    b_strings = {
        v for rows in world.b_rows.values() for row in rows for v in row.values() if isinstance(v, str)
    }
    # A's own words, and long random values only A holds (token and link hashes); words
    # like a role or an event kind are vocabulary, not data.
    distinctive = {
        v for rows in world.a_rows.values() for row in rows for v in row.values()
        if isinstance(v, str) and v not in b_strings and (A_WORD in v.lower() or RANDOM_LIKE.match(v))
    }
    world.markers = (
        {A_WORD, a.name, a.email, f"agent@{A_WORD}.example.com"} | distinctive
        | {str(i) for i in world.a_ids} | {i.hex for i in world.a_ids} | set(world.a_handles)
    )
    assert sum(len(rows) for rows in world.a_rows.values()) >= 20, "tenant A has too little data to walk with"
    missing = [table for table, rows in world.b_rows.items() if rows and not world.a_rows[table]]
    assert not missing, f"tenant A has no rows in {missing}: their routes would not see A's ids"
    return world


# --- the walk ---------------------------------------------------------------------------


@dataclass
class Probe:
    rule: Rule
    method: str
    values: dict[str, Any]
    body: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return PARAM.sub(lambda m: quote(str(self.values[m.group(2)]), safe=""), self.rule.rule)


def params(rule: Rule) -> dict[str, str]:
    """Parameter name -> converter name ("default" for plain strings)."""
    return {m.group(2): m.group(1) or "default" for m in PARAM.finditer(rule.rule)}


def uuid_params(rule: Rule) -> list[str]:
    return [name for name, conv in params(rule).items() if conv == "uuid"]


def string_params(rule: Rule) -> list[str]:
    return [name for name, conv in params(rule).items() if conv != "uuid" and name != "tenant"]


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS]


def is_tenant_rule(rule: Rule) -> bool:
    return "tenant" in params(rule)


def is_api_rule(rule: Rule) -> bool:
    return rule.rule.startswith("/api/")


def table_for(param: str, tables: dict[str, list[dict[str, Any]]]) -> str | None:
    """The table a ``<x>_id`` parameter most likely names: ``record_id`` -> records,
    ``token_id`` -> api_tokens, ``field_id`` -> custom_fields."""
    stem = param.removesuffix("_id")
    for name in sorted(tables):
        if tables[name] and (name == f"{stem}s" or name.endswith(f"_{stem}s")):
            return name
    return None


class Walker:
    def __init__(self, app: Flask, world: World) -> None:
        self.app, self.world = app, world
        self.failures: list[str] = []
        self.id_routes_probed: set[tuple[str, str]] = set()
        self.web = app.test_client()
        login(self.web, world.b.email, PASSWORD)
        self.csrf = csrf_token(self.web, f"/t/{world.b.slug}/")
        self.api = app.test_client()
        self.anonymous = app.test_client()
        self.seen: set[str] = set()
        self.learned: dict[str, dict[str, str]] = {}
        self.string_values = self._discover_string_values()
        b_record = self._b_id("record_id")
        # Values common handlers validate before they look the id up, so that the probe
        # reaches the lookup. A new id route answering 422 needs its field added here.
        self.body = {
            "name": "probe", "role": "agent", "email": "probe@bravo.example.com", "stage": "new",
            "reason": "probe", "to_id": str(b_record), "duplicate_id": str(b_record),
            "text": "probe",
        }

    # -- values for parameters --

    def _b_id(self, param: str) -> uuid.UUID:
        table = table_for(param, self.world.b_rows) or "memberships"
        return self.world.b_rows[table][0]["id"]

    def _a_id(self, param: str) -> uuid.UUID:
        table = table_for(param, self.world.a_rows)
        return self.world.a_rows[table][0]["id"] if table else self.world.a_ids[0]

    def _discover_string_values(self) -> dict[str, list[str]]:
        """Valid values for string parameters (an entity type's name…), learnt from B's own
        API answers and kept when a GET route with only that parameter accepts them."""
        for rule in rules(self.app):
            if is_api_rule(rule) and "GET" in methods(rule) and not params(rule):
                response = self.api.get(rule.rule, headers=self.world.b.api())
                if response.is_json:
                    self.seen |= {s for s in _strings(response.get_json()) if SLUG_LIKE.match(s)}
                response.close()
        valid: dict[str, list[str]] = {}
        judges: dict[str, Rule] = {}  # one GET route per parameter name is enough to judge
        for rule in rules(self.app):
            names = string_params(rule)
            routed = is_api_rule(rule) or is_tenant_rule(rule)
            if routed and len(names) == 1 and not uuid_params(rule) and "GET" in methods(rule):
                judges.setdefault(names[0], rule)
        for rule in judges.values():
            names = string_params(rule)
            for value in sorted(self.seen):
                probe = Probe(rule, "GET", {**self._base(rule), names[0]: value})
                if self.send(probe, who="api" if is_api_rule(rule) else "web")[0] < 300:
                    valid.setdefault(names[0], [])
                    if value not in valid[names[0]]:
                        valid[names[0]].append(value)
        return valid

    def _strings_for(self, rule: Rule, row: dict[str, Any] | None, *, search: bool = False) -> Iterator[dict]:
        """Values for a rule's string parameters. The value matching the row the id came
        from (a record's own type) comes first; then what the positive control learnt for
        this rule; with ``search``, every value seen in B's answers is tried."""
        names = string_params(rule)
        learned = self.learned.get(rule.rule, {})
        options = []
        for name in names:
            known = self.string_values.get(name, [])
            matching = [v for v in known if row and v in row.values()]
            if matching:
                options.append(matching[:1])
            elif name in learned and not search:
                options.append([learned[name]])
            elif known:
                options.append(known[:1] if row and not search else known)
            else:
                options.append(sorted(self.seen) if search else ["probe"])
        for combo in _product(options):
            yield dict(zip(names, combo, strict=True))

    # -- sending --

    def send(self, probe: Probe, *, who: str) -> tuple[int, str]:
        if who == "api":
            body = probe.body if probe.method != "GET" else None
            response = self.api.open(probe.path, method=probe.method, json=body, headers=self.world.b.api())
        elif who == "web":
            data = probe.body if probe.method != "GET" else None
            response = self.web.open(probe.path, method=probe.method, data=data,
                                     headers={"X-CSRFToken": self.csrf})
        else:
            response = self.anonymous.open(probe.path, method=probe.method)
        text = response.get_data(as_text=True)
        response.close()
        return response.status_code, text

    def check(self, probe: Probe, who: str, allowed: set[int] | None) -> int:
        status, text = self.send(probe, who=who)
        where = f"{probe.method} {probe.path} ({who}, {probe.rule.endpoint})"
        if allowed is not None and status not in allowed:
            self.failures.append(f"{where}: status {status}, expected one of {sorted(allowed)}: {text[:200]}")
        elif status >= 500:
            self.failures.append(f"{where}: status {status}: {text[:200]}")
        sent = (probe.path + repr(probe.body)).lower()
        leaked = sorted(m for m in self.world.markers if m.lower() in text.lower() and m.lower() not in sent)
        if leaked:
            self.failures.append(f"{where}: status {status}, the answer mentions tenant A: {leaked[:5]}")
        return status

    # -- the walk itself --

    def run(self) -> None:
        all_rules = rules(self.app)
        id_rules = [r for r in all_rules if uuid_params(r) and (is_tenant_rule(r) or is_api_rule(r))]
        other_rules = [r for r in all_rules if r not in id_rules]
        # First make sure B's own ids work on every GET id route (and learn the other path
        # values it needs); then the routes with ids, before the routes without ids, which
        # may change B's state (enable, disable).
        for rule in id_rules:
            if "GET" in methods(rule):
                self.positive_control(rule)
        for rule in id_rules:
            for method in methods(rule):
                self.walk_id_route(rule, method)
        for rule in other_rules:
            for method in methods(rule):
                if is_tenant_rule(rule) or is_api_rule(rule):
                    self.walk_plain_route(rule, method)
                elif method == "GET":
                    self.walk_public_page(rule)
        for rule in all_rules:
            if is_tenant_rule(rule):
                for method in methods(rule):
                    self.walk_other_tenants_address(rule, method)

    def _base(self, rule: Rule) -> dict[str, Any]:
        return {"tenant": self.world.b.slug} if is_tenant_rule(rule) else {}

    def walk_id_route(self, rule: Rule, method: str) -> None:
        who = "web" if is_tenant_rule(rule) else "api"
        self.id_routes_probed.add((rule.rule, method))
        a_rows_by_id = {row["id"]: row for rows in self.world.a_rows.values() for row in rows}
        for target in uuid_params(rule):
            others = {p: self._b_id(p) for p in uuid_params(rule) if p != target}
            for a_id in self.world.a_ids:
                for strings in self._strings_for(rule, a_rows_by_id.get(a_id)):
                    values = {**self._base(rule), **others, **strings, target: a_id}
                    self.check(Probe(rule, method, values, self.body), who, {403, 404})

    def positive_control(self, rule: Rule) -> None:
        """The same request with B's own ids must work: the shape of the probe is right."""
        who = "web" if is_tenant_rule(rule) else "api"
        first, *rest = uuid_params(rule)
        table = table_for(first, self.world.b_rows)
        everything = [row for rows in self.world.b_rows.values() for row in rows]
        candidates = self.world.b_rows[table] if table else everything
        for row in candidates:
            for strings in self._strings_for(rule, row, search=True):
                values = {**self._base(rule), **{p: self._b_id(p) for p in rest}, **strings, first: row["id"]}
                if self.send(Probe(rule, method="GET", values=values), who=who)[0] < 300:
                    self.learned[rule.rule] = strings
                    return
        self.failures.append(
            f"GET {rule.rule}: no request with B's own ids answered 2xx, so the probes with A's ids "
            "prove nothing (give tenant B data this route can show)"
        )

    def walk_plain_route(self, rule: Rule, method: str) -> None:
        who = "web" if is_tenant_rule(rule) else "api"
        base = self._base(rule)
        for strings in self._strings_for(rule, None):
            self.check(Probe(rule, method, {**base, **strings}, self.body), who, None)
        # A's own identifiers as path values: /jobs/<A's job>, /things/<A's name> must not
        # answer (422 is a body check that comes first, which reveals nothing).
        names = string_params(rule)
        a_values = sorted(s for s in self.world.markers if SLUG_LIKE.match(s) and A_WORD in s.lower())
        for value in [*self.world.a_handles, *a_values] if names else []:
            for name in names:
                strings = {n: (self.string_values.get(n) or ["probe"])[0] for n in names} | {name: value}
                self.check(Probe(rule, method, {**base, **strings}, self.body), who, {403, 404, 422})

    def walk_public_page(self, rule: Rule) -> None:
        values = {name: "probe" for name in params(rule)}
        for who in ("web", "anonymous"):
            self.check(Probe(rule, "GET", values), who, None)
            for name in values:  # a link token naming A's tenant (invitations start with it)
                naming_a = {**values, name: f"{self.world.a.tenant_id.hex}.probe"}
                self.check(Probe(rule, "GET", naming_a), who, None)

    def walk_other_tenants_address(self, rule: Rule, method: str) -> None:
        values: dict[str, Any] = {"tenant": self.world.a.slug}
        values |= {p: self._a_id(p) for p in uuid_params(rule)}
        values |= {p: (self.string_values.get(p) or ["probe"])[0] for p in string_params(rule)}
        self.check(Probe(rule, method, values, self.body), "web", {404})


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _product(options: list[list[str]]) -> Iterator[tuple[str, ...]]:
    if not options:
        yield ()
        return
    for head in options[0]:
        for tail in _product(options[1:]):
            yield (head, *tail)


# --- the test ---------------------------------------------------------------------------


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


def test_tenant_b_cannot_reach_tenant_a_through_any_route(app, world):
    before = snapshot(app, world)
    walker = Walker(app, world)
    walker.run()

    report = "\n".join(walker.failures[:60])
    assert not walker.failures, f"{len(walker.failures)} isolation failures:\n{report}"
    expected_id_routes = {
        (r.rule, m) for r in rules(app) if uuid_params(r) and (is_tenant_rule(r) or is_api_rule(r))
        for m in methods(r)
    }
    assert walker.id_routes_probed == expected_id_routes
    assert len(walker.id_routes_probed) >= MIN_ID_ROUTES, walker.id_routes_probed
    assert snapshot(app, world) == before, "tenant A's data changed while B walked the routes"


def test_the_walk_catches_a_leaking_route(app, world):
    """The walk must be able to fail: a route added for the test that reads any row by id,
    ignoring the scope, is reported."""
    from twofold.auth.models import ApiToken

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "api.revoke_token")

    def leaky(token_id: uuid.UUID) -> Any:
        with unscoped("test: a deliberately broken route"):
            token = db.session.scalars(select(ApiToken).where(ApiToken.id == token_id)).first()
        return ({"name": token.name}, 200) if token else ({}, 404)

    original = app.view_functions[rule.endpoint]
    app.view_functions[rule.endpoint] = leaky
    try:
        walker = Walker(app, world)
        walker.walk_id_route(rule, "DELETE")
    finally:
        app.view_functions[rule.endpoint] = original
    a_tokens = {str(row["id"]) for row in world.a_rows["api_tokens"]}
    reported = [f for f in walker.failures if any(t in f for t in a_tokens)]
    assert len(reported) >= len(a_tokens) and all("status 200" in f for f in reported), walker.failures
