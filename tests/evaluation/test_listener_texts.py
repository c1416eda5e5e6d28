"""A study's listener texts per language (models.listener_texts, services.studies
.study_listener_texts_set, PUT /api/studies/<slug>/listener-texts/): validated, editable
while open, and the internal title never stands in for the public one."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from evaluation.models import Study
from evaluation.models.listener_texts import listener_texts_problems, validate_listener_texts
from evaluation.services import ServiceError
from evaluation.services.studies import study_listener_texts_set, study_new_version

pytestmark = pytest.mark.django_db

GOOD = {"en": {"title": "Piano sketches"}, "zh-hans": {"title": "钢琴小品", "consent": "好"}}


def test_a_good_map_has_no_problems():
    assert listener_texts_problems(GOOD) == []
    assert listener_texts_problems({}) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (["en"], "must be a JSON object mapping a language (en, zh-hans) to its texts"),
        ({"fr": {"title": "x"}}, "unknown language 'fr'; use one of en, zh-hans"),
        ({"en": "x"}, "en: must be an object with title, description, consent"),
        (
            {"en": {"subtitle": "x"}},
            "en: unknown key 'subtitle'; use title, description or consent",
        ),
        ({"en": {"title": 3}}, "en.title: must be text, not int"),
        ({"en": {"title": "x" * 121}}, "en.title: 121 characters, more than the 120 allowed"),
    ],
)
def test_each_problem_is_named(value, problem):
    assert listener_texts_problems(value) == [problem]
    with pytest.raises(ValidationError):
        validate_listener_texts(value)


def test_the_public_title_falls_back_to_a_generic_one_never_the_internal_title(prepared_study):
    prepared_study.title = "Vendor X vs Y, internal"
    prepared_study.listener_texts = {"en": {"title": "Piano sketches"}}
    with translation.override("en"):
        assert prepared_study.public_title == "Piano sketches"
    with translation.override("zh-hans"):
        assert prepared_study.public_title == "听音测试"
        assert prepared_study.public_consent.startswith("您将听到若干组简短的音乐片段")
        assert prepared_study.public_description == ""


def test_a_custom_consent_text_shows_where_a_language_has_none_of_its_own(prepared_study):
    prepared_study.consent_text = "Custom consent."
    prepared_study.listener_texts = {"zh-hans": {"consent": "自定义同意书。"}}
    with translation.override("en"):
        assert prepared_study.public_consent == "Custom consent."
    with translation.override("zh-hans"):
        assert prepared_study.public_consent == "自定义同意书。"


def test_the_service_stores_texts_on_an_open_study_and_refuses_bad_ones_whole(prepared_study):
    assert prepared_study.is_open
    study_listener_texts_set(
        study=prepared_study,
        listener_texts={"en": {"title": "  Duets  "}},
        default_language="zh-hans",
    )
    stored = Study.objects.get(pk=prepared_study.pk)
    assert (stored.listener_texts, stored.default_language) == (
        {"en": {"title": "Duets"}},
        "zh-hans",
    )
    with pytest.raises(ServiceError) as refused:
        study_listener_texts_set(
            study=stored, listener_texts={"xx": {}}, default_language="klingon"
        )
    assert refused.value.code == "invalid_listener_texts"
    assert "unknown language 'xx'" in refused.value.message
    assert "default_language 'klingon'" in refused.value.message
    stored.refresh_from_db()
    assert (stored.listener_texts, stored.default_language) == (
        {"en": {"title": "Duets"}},
        "zh-hans",
    )


def test_a_new_version_keeps_the_listener_texts(prepared_study):
    study_listener_texts_set(study=prepared_study, listener_texts=GOOD, default_language="zh-hans")
    draft = study_new_version(study=prepared_study)
    assert (draft.listener_texts, draft.default_language) == (GOOD, "zh-hans")


def test_researchers_set_texts_through_the_api_and_outsiders_cannot(
    client, prepared_study, researcher, outsider
):
    url = f"/api/studies/{prepared_study.slug}/listener-texts/"
    client.force_login(outsider)
    assert (
        client.put(url, {"listener_texts": GOOD}, content_type="application/json").status_code
        == 403
    )
    client.force_login(researcher)
    response = client.put(
        url,
        {"listener_texts": GOOD, "default_language": "zh-hans"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["listener_texts"], response.json()["default_language"]) == (
        GOOD,
        "zh-hans",
    )
    bad = client.put(url, {"listener_texts": {"en": {"title": 5}}}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid_listener_texts",
        "detail": "en.title: must be text, not int",
    }
    assert Study.objects.get(pk=prepared_study.pk).listener_texts == GOOD


def test_the_admin_shows_the_fields_and_its_form_validation_refuses_an_unknown_language(
    client, prepared_study, admin_user
):
    client.force_login(admin_user)
    url = f"/admin/evaluation/study/{prepared_study.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="listener_texts"' in html and 'name="default_language"' in html
    # The admin's model form runs the field validators (full_clean).
    prepared_study.listener_texts = {"fr": {"title": "Bonjour"}}
    with pytest.raises(ValidationError) as refused:
        prepared_study.full_clean()
    assert refused.value.message_dict["listener_texts"] == [
        "unknown language 'fr'; use one of en, zh-hans"
    ]
