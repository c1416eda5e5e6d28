"""Security settings (config/settings.py): admin login lockout (django-axes) and the
Content-Security-Policy on the listener pages and the admin."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(admin_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    statuses = [login(client, "admin", f"wrong-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    locked = login(client, "admin", "pw-admin-1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same username from another address is locked too (per account) ...
    assert login(Client(REMOTE_ADDR="198.51.100.9"), "admin", "pw-admin-1").status_code == 429


def test_one_address_trying_many_usernames_is_locked_out(admin_user, researcher):
    client = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(5):
        login(client, f"guess-{n}", "wrong")
    assert login(client, "admin", "pw-admin-1").status_code == 429
    # ... while the account itself still logs in from elsewhere.
    assert login(Client(REMOTE_ADDR="198.51.100.10"), "admin", "pw-admin-1").status_code == 302


def test_a_right_password_before_the_limit_logs_in_and_resets_the_count(admin_user):
    client = Client()
    for n in range(4):
        login(client, "admin", f"wrong-{n}")
    assert login(client, "admin", "pw-admin-1").status_code == 302
    client.logout()
    for n in range(4):
        assert login(client, "admin", f"wrong-again-{n}").status_code == 200


def policy_of(response) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1]
        for part in (p.strip() for p in response["Content-Security-Policy"].split(";"))
        if part
    }


def test_listener_pages_carry_a_policy_without_inline_script(client, invite):
    page = client.get(invite.path())
    policy = policy_of(page)
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["media-src"] == "'self' blob:"
    html = page.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html


def test_the_admin_pages_run_without_inline_script(client, admin_user):
    client.force_login(admin_user)
    for url in ("/admin/", "/admin/evaluation/study/", "/admin/evaluation/study/add/"):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        inline = [
            tag
            for tag in re.findall(r"<script[^>]*>", html)
            if "src=" not in tag and 'type="application/json"' not in tag
        ]
        assert inline == [], url
