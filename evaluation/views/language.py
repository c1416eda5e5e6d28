"""The listener's language, and the page for a link that leads nowhere.

Which language a listener page speaks, first match wins (docs/i18n.md):
1. the listener's own choice: the switcher posts to ``set_language``, which sets the
   language cookie;
2. the browser's Accept-Language, when it names a language Earshot speaks (``zh-CN``,
   ``zh-Hans``, ``zh`` → ``zh-hans``; ``en-GB`` → ``en``);
3. the study's ``default_language``;
4. ``settings.LANGUAGE_CODE``.

Django's LocaleMiddleware does 1, 2 and 4; ListenerLanguageMiddleware adds 3 on listener
URLs, where the invite token names the study."""

import logging

from django.conf import settings
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from evaluation.views.session import invite_by_token

logger = logging.getLogger(__name__)

# Seconds before a page that failed on our side loads itself again (server_error).
SERVER_ERROR_RETRY_S = 5


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def chosen_language(request) -> str | None:
    """The language the listener or their browser asks for (steps 1 and 2), or None."""
    chosen = _supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code != "*" and (found := _supported(code)):
            return found
    return None


class ListenerLanguageMiddleware:
    """On listener URLs (``/p/<token>/…``), a study's default language for listeners whose
    cookie and browser name none that Earshot speaks. It reads the invite (with its study)
    and leaves it on the request (``request.listener_invite``), where the view finds it
    (``views.session.invite_or_404``) instead of reading it again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.namespace != "listener" or "token" not in view_kwargs:
            return None
        if chosen_language(request):
            return None
        invite = invite_by_token(view_kwargs["token"])
        request.listener_invite = invite
        default = invite.study.default_language if invite is not None else None
        if default and _supported(default):
            translation.activate(default)
            request.LANGUAGE_CODE = translation.get_language()
        return None


def not_found(request, exception=None):
    """Any unknown page, in the reader's language; on listener URLs (a mistyped or revoked
    invite link above all) it says what to do instead of Django's bare "Not Found"."""
    if request.path.startswith("/p/"):
        heading = _("This link does not work")
        message = _(
            "We could not find a listening test at this address. Please check that you "
            "copied the whole link, or ask the person who invited you for a new one."
        )
    else:
        heading = _("Page not found")
        message = _("There is no page at this address.")
    return render(
        request,
        "listener/message.html",
        {"heading": heading, "message": message},
        status=404,
    )


def server_error(request):
    """A failure on our side (the database restarting, a worker killed mid-request), in the
    reader's language. A page load (GET) tries itself again every ``SERVER_ERROR_RETRY_S``
    seconds, so a listener who meets a short outage goes on without doing anything; answers
    are sent again by the page's script (``webaudio.js`` ``postAnswer``), and each is stored
    once (docs/benchmarks.md, faults). Reads nothing from the database, which may be the thing
    that is down; if even this page cannot be drawn, a plain line in English."""
    retry_s = SERVER_ERROR_RETRY_S if request.method in ("GET", "HEAD") else None
    if retry_s:
        message = _(
            "Your answers so far are saved. This page tries again by itself in a few "
            "seconds; you can also reload it."
        )
    else:
        message = _("Your answers so far are saved. Please go back and try again in a moment.")
    try:
        return render(
            request,
            "listener/server_error.html",
            {
                "heading": _("Something went wrong on our side"),
                "message": message,
                "retry_s": retry_s,
            },
            status=500,
        )
    except Exception:  # the page itself failed: say so plainly rather than not at all
        logger.exception("the server error page could not be drawn")
        return HttpResponseServerError(
            "Something went wrong on our side. Your answers so far are saved; please reload "
            "this page in a moment.",
            content_type="text/plain; charset=utf-8",
        )
