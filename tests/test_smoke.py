from tests.support.factories import login, signup


def test_signup_then_sign_in_and_see_the_workspace(app):
    acme = signup(app, "acme")
    client = app.test_client()
    login(client, acme.email)
    page = client.get("/t/acme/")
    assert page.status_code == 200
    assert "Acme Company" in page.get_data(as_text=True)
