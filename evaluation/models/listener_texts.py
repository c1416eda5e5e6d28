"""What listeners read about a study, per language: a public title, a description and the
consent text (``Study.listener_texts``), kept apart from the internal title and description
that only researchers see.

The stored value is a JSON object ``{language: {"title", "description", "consent"}}`` with
languages from ``settings.LANGUAGES`` (``"en"``, ``"zh-hans"``) and every key optional:

    {"en": {"title": "Piano duets", "consent": "..."}, "zh-hans": {"title": "钢琴二重奏"}}
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

# Longest accepted text per key, in characters.
LISTENER_TEXT_LIMITS = {"title": 120, "description": 2000, "consent": 4000}

DEFAULT_CONSENT_TEXT = gettext_noop(
    "You will hear pairs of short music excerpts and answer a few questions about each. "
    "Your answers are stored under a pseudonymous id and used for research only."
)
# What a listener sees when a study names no public title in their language (never the
# internal title).
DEFAULT_PUBLIC_TITLE = gettext_noop("Listening test")


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def listener_texts_problems(value) -> list[str]:
    """Every reason ``value`` is not a valid listener-texts map (empty when it is)."""
    if not isinstance(value, dict):
        return ["must be a JSON object mapping a language (en, zh-hans) to its texts"]
    problems = []
    codes = language_codes()
    for language, texts in value.items():
        if language not in codes:
            problems.append(f"unknown language {language!r}; use one of {', '.join(codes)}")
            continue
        if not isinstance(texts, dict):
            problems.append(f"{language}: must be an object with title, description, consent")
            continue
        for key, text in texts.items():
            if key not in LISTENER_TEXT_LIMITS:
                problems.append(
                    f"{language}: unknown key {key!r}; use title, description or consent"
                )
            elif not isinstance(text, str):
                problems.append(f"{language}.{key}: must be text, not {type(text).__name__}")
            elif len(text) > LISTENER_TEXT_LIMITS[key]:
                problems.append(
                    f"{language}.{key}: {len(text)} characters, more than the "
                    f"{LISTENER_TEXT_LIMITS[key]} allowed"
                )
    return problems


def validate_listener_texts(value) -> None:
    problems = listener_texts_problems(value)
    if problems:
        raise ValidationError("; ".join(problems))


def listener_text(texts: dict, key: str, language: str, custom_consent: str = "") -> str:
    """The study's ``key`` text for ``language``: its own text in that language, else the
    built-in default in the active language (a generic title, the study's custom consent
    text if it has one, else the standard consent text; no description)."""
    own = ((texts or {}).get(language) or {}).get(key, "").strip()
    if own:
        return own
    if key == "title":
        return gettext(DEFAULT_PUBLIC_TITLE)
    if key == "consent":
        if custom_consent.strip() and custom_consent.strip() != DEFAULT_CONSENT_TEXT:
            return custom_consent
        return gettext(DEFAULT_CONSENT_TEXT)
    return ""
