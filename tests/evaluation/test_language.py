"""Which language a listener page speaks (evaluation.views.language): the switcher's
choice, then Accept-Language, then the study's default; and the switcher itself."""

import pytest
from django.test import Client

from evaluation.models import Study

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:
    html = response.content.decode()
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh", "zh-hans"),
        ("en-GB,en;q=0.8", "en"),
        ("de-DE,fr;q=0.8,zh-CN;q=0.5", "zh-hans"),
    ],
)
def test_the_browsers_accept_language_picks_the_page_language(invite, header, expected):
    assert lang_of(Client(HTTP_ACCEPT_LANGUAGE=header).get(invite.path())) == expected


def test_the_study_default_applies_when_the_browser_names_no_language_we_speak(invite):
    Study.objects.filter(pk=invite.study_id).update(default_language="zh-hans")
    assert lang_of(Client().get(invite.path())) == "zh-hans"
    assert lang_of(Client(HTTP_ACCEPT_LANGUAGE="de-DE,fr;q=0.8").get(invite.path())) == "zh-hans"
    assert lang_of(Client(HTTP_ACCEPT_LANGUAGE="en-US").get(invite.path())) == "en"


def test_without_a_study_default_the_fallback_is_english(invite):
    assert lang_of(Client(HTTP_ACCEPT_LANGUAGE="de-DE").get(invite.path())) == "en"


def test_the_switcher_posts_with_csrf_and_its_choice_wins_over_the_browser(invite):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = client.get(invite.path())
    html = page.content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html
    refused = client.post("/i18n/setlang/", {"language": "en", "next": invite.path()})
    assert refused.status_code == 403
    token = client.cookies["csrftoken"].value
    switched = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": invite.path(), "csrfmiddlewaretoken": token},
    )
    assert (switched.status_code, switched["Location"]) == (302, invite.path())
    assert lang_of(client.get(invite.path())) == "en"


def test_the_switcher_never_redirects_to_another_site(invite):
    client = Client()
    client.get(invite.path())
    switched = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "https://evil.example/"}
    )
    assert switched["Location"] == "/"


def test_the_javascript_catalogue_serves_the_listener_strings(client):
    """window.gettext("Paused.") on a Chinese page: the catalogue maps it to 已暂停。"""
    import json
    import re

    zh = client.get("/i18n/js/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", zh, re.S).group(1))
    assert catalog["Paused."] == "已暂停。"
    assert catalog["%(heard)s of %(required)s s"] == "%(heard)s / %(required)s 秒"
