"""Password reset and invitations by email: a real RQ worker, a real SMTP server."""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import urlsplit

from rq import SimpleWorker

from tests.support.factories import PASSWORD, csrf_token, login, signup
from twofold import jobs

NEW_PASSWORD = "a completely new passphrase"


def run_worker(app) -> None:
    """Deliver what is queued, as a worker process would, then check nothing failed."""
    with app.app_context():
        queues = [jobs.queue("default"), jobs.queue("mail")]
        SimpleWorker(queues, connection=app.extensions["twofold.redis"]).work(burst=True)
        for queue in queues:
            assert queue.failed_job_registry.count == 0, f"a job failed on {queue.name}"
            assert queue.count == 0


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode(message.get_content_charset() or "utf-8")


def link_in(message: Message, path_prefix: str) -> str:
    """The path of the first link in the email body that starts with ``path_prefix``."""
    urls = re.findall(r"https?://\S+", body_of(message))
    for url in urls:
        parts = urlsplit(url)
        if parts.path.startswith(path_prefix):
            assert f"{parts.scheme}://{parts.netloc}" == "http://localhost"  # PUBLIC_URL
            return parts.path
    raise AssertionError(f"no {path_prefix} link in {urls}")


def sign_in_status(app, email: str, password: str) -> int:
    client = app.test_client()
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)}).status_code


def without_csrf_tokens(page: str) -> str:
    page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", page)


def ask_for_reset(app, email: str):
    client = app.test_client()
    token = csrf_token(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


# --- password reset -----------------------------------------------------------------------


def test_password_reset_by_email_end_to_end(app, smtp_server):
    acme = signup(app, "acme")
    signed_in_elsewhere = app.test_client()
    login(signed_in_elsewhere, acme.email)

    response = ask_for_reset(app, acme.email)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert smtp_server.messages == [], "the email leaves from the worker, not the request"

    run_worker(app)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == acme.email
    assert message["Subject"] == "Reset your Twofold password"
    assert "twofold" in message["From"].lower()
    path = link_in(message, "/password/reset/")

    browser = app.test_client()
    form = browser.get(path)
    assert form.status_code == 200
    assert "Choose a new password" in form.get_data(as_text=True)

    too_short = browser.post(path, data={"password": "short", "csrf_token": csrf_token(browser, path)})
    assert too_short.status_code == 422
    assert "at least 10 characters" in too_short.get_data(as_text=True)
    assert sign_in_status(app, acme.email, PASSWORD) == 302, "a rejected new password changes nothing"

    done = browser.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf_token(browser, path)})
    assert done.status_code == 302
    assert browser.get("/t/acme/").status_code == 200, "the reset signs the user in"

    assert sign_in_status(app, acme.email, PASSWORD) == 401
    assert sign_in_status(app, acme.email, NEW_PASSWORD) == 302
    assert signed_in_elsewhere.get("/t/acme/").status_code == 302, "older sessions end"

    # The link works once.
    again = app.test_client()
    assert again.get(path).status_code == 404
    reuse = again.post(path, data={"password": "yet another passphrase", "csrf_token": csrf_token(again)})
    assert reuse.status_code == 404
    assert sign_in_status(app, acme.email, NEW_PASSWORD) == 302

    kinds = {e["kind"] for e in app.test_client().get("/api/v1/security-events", headers=acme.api())
             .get_json()["events"]}
    assert {"password.reset_requested", "password.reset"} <= kinds


def test_a_tampered_reset_link_is_refused(app, smtp_server):
    acme = signup(app, "acme")
    ask_for_reset(app, acme.email)
    run_worker(app)
    path = link_in(smtp_server.wait_for(1)[0], "/password/reset/")
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert app.test_client().get(tampered).status_code == 404
    assert app.test_client().get("/password/reset/nonsense").status_code == 404


def test_unknown_email_sends_nothing_and_answers_the_same_page(app, smtp_server):
    acme = signup(app, "acme")
    unknown = ask_for_reset(app, "nobody@acme.example.com")
    malformed = ask_for_reset(app, "not an email")
    assert unknown.status_code == 200 and malformed.status_code == 200
    with app.app_context():
        assert jobs.queue("mail").count == 0
    run_worker(app)
    assert smtp_server.messages == []

    known = ask_for_reset(app, acme.email)
    assert known.status_code == 200
    page = without_csrf_tokens(known.get_data(as_text=True))
    assert without_csrf_tokens(unknown.get_data(as_text=True)) == page
    assert without_csrf_tokens(malformed.get_data(as_text=True)) == page
    run_worker(app)
    assert [m["To"] for m in smtp_server.wait_for(1)] == [acme.email]


# --- invitations --------------------------------------------------------------------------


def invite_on_the_members_page(app, owner_email: str, email: str, role: str):
    admin = app.test_client()
    login(admin, owner_email)
    token = csrf_token(admin, "/t/acme/settings/members")
    response = admin.post("/t/acme/settings/members/invite",
                          data={"email": email, "role": role, "csrf_token": token})
    return admin, response


def test_invitation_of_a_new_user_end_to_end(app, smtp_server):
    acme = signup(app, "acme")
    admin, response = invite_on_the_members_page(app, acme.email, "new.hire@example.com", "manager")
    assert response.status_code == 302
    assert "Invitation sent to new.hire@example.com." in admin.get("/t/acme/settings/members").get_data(
        as_text=True)
    assert smtp_server.messages == []

    run_worker(app)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "new.hire@example.com"
    assert "Acme Company" in message["Subject"]
    assert "as manager" in body_of(message)
    path = link_in(message, "/invite/")

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Join Acme Company" in html and "Choose a password" in html

    short = newcomer.post(path, data={"password": "short", "csrf_token": csrf_token(newcomer, path)})
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)

    joined = newcomer.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf_token(newcomer, path)})
    assert joined.status_code == 302
    assert joined.headers["Location"] == "/t/acme/"
    home = newcomer.get("/t/acme/").get_data(as_text=True)
    assert "<strong>manager</strong>" in home

    members = app.test_client().get("/api/v1/members", headers=acme.api()).get_json()["members"]
    assert {m["email"]: m["role"] for m in members}["new.hire@example.com"] == "manager"
    assert sign_in_status(app, "new.hire@example.com", NEW_PASSWORD) == 302

    # The link is used up.
    assert app.test_client().get(path).status_code == 404


def test_invitation_of_an_existing_user_confirms_with_their_password(app, smtp_server):
    acme = signup(app, "acme")
    globex = signup(app, "globex", email="pat@globex.example.com")
    _admin, response = invite_on_the_members_page(app, acme.email, "Pat@Globex.example.com", "agent")
    assert response.status_code == 302
    run_worker(app)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "pat@globex.example.com"
    path = link_in(message, "/invite/")

    pat = app.test_client()
    html = pat.get(path).get_data(as_text=True)
    assert "Your password" in html and "already have a Twofold account" in html

    wrong = pat.post(path, data={"password": "not pat's password", "csrf_token": csrf_token(pat, path)})
    assert wrong.status_code == 422
    assert "Enter the password of your existing account." in wrong.get_data(as_text=True)
    members = app.test_client().get("/api/v1/members", headers=acme.api()).get_json()["members"]
    assert "pat@globex.example.com" not in {m["email"] for m in members}

    joined = pat.post(path, data={"password": PASSWORD, "csrf_token": csrf_token(pat, path)})
    assert joined.status_code == 302
    assert "<strong>agent</strong>" in pat.get("/t/acme/").get_data(as_text=True)
    members = app.test_client().get("/api/v1/members", headers=acme.api()).get_json()["members"]
    assert {m["email"]: m["role"] for m in members}["pat@globex.example.com"] == "agent"
    # Pat now belongs to both companies, with one account.
    choose = pat.get("/").get_data(as_text=True)
    assert "Acme Company" in choose and "Globex Company" in choose
    assert pat.get("/t/globex/").status_code == 200
    assert globex.user_id


def test_invitation_errors_are_shown_next_to_the_field(app, smtp_server):
    acme = signup(app, "acme")
    _admin, response = invite_on_the_members_page(app, acme.email, "not-an-email", "agent")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="e-email">[^<]+</p>', html)
    _admin, response = invite_on_the_members_page(app, acme.email, acme.email, "agent")
    assert response.status_code == 422
    assert "This person is already a member." in response.get_data(as_text=True)
    run_worker(app)
    assert smtp_server.messages == []


def test_a_second_invitation_to_someone_who_joined_does_not_break(app, smtp_server):
    acme = signup(app, "acme")
    admin, first = invite_on_the_members_page(app, acme.email, "sam@example.com", "agent")
    assert first.status_code == 302
    token = csrf_token(admin, "/t/acme/settings/members")
    second = admin.post("/t/acme/settings/members/invite",
                        data={"email": "sam@example.com", "role": "manager", "csrf_token": token})
    assert second.status_code == 302
    run_worker(app)
    links = [link_in(m, "/invite/") for m in smtp_server.wait_for(2)]
    assert len(set(links)) == 2

    sam = app.test_client()
    joined = sam.post(links[0], data={"password": NEW_PASSWORD, "csrf_token": csrf_token(sam, links[0])})
    assert joined.status_code == 302
    again = sam.post(links[1], data={"password": NEW_PASSWORD, "csrf_token": csrf_token(sam, links[1])})
    assert again.status_code == 302
    assert again.headers["Location"] == "/t/acme/"
    members = app.test_client().get("/api/v1/members", headers=acme.api()).get_json()["members"]
    assert [m["role"] for m in members if m["email"] == "sam@example.com"] == ["agent"]
    assert app.test_client().get(links[1]).status_code == 404, "the second link is used up too"
