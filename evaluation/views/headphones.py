"""The headphone check's page, audio and answers (Woods et al. 2017 antiphase test).

The page lists one opaque audio URL per item and three choices per item; which tone is the
quiet one lives only in the database, and answers are scored by services.headphones."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from evaluation.models import HeadphoneItem, Invite, Panelist
from evaluation.selectors.headphones import (
    headphone_attempts_left,
    headphone_item_order,
    headphone_open_items,
)
from evaluation.services import ServiceError
from evaluation.services.headphones import headphone_attempt_score, headphone_attempt_start
from evaluation.services.scheduling import trial_reserve
from evaluation.stimuli.headphones import ITEM_CONTENT_TYPE, item_audio_file
from evaluation.views.audio import audio_bytes_response
from evaluation.views.screening import remember_screened_out
from evaluation.views.session import current_panelist, invite_or_404, resume_context

TONES = (
    (1, pgettext_lazy("tone", "First")),
    (2, pgettext_lazy("tone", "Second")),
    (3, pgettext_lazy("tone", "Third")),
)


def screened_out_page(request, invite: Invite):
    """The polite "failed the check" message; the browser remembers it for this invite."""
    response = render(
        request,
        "listener/message.html",
        {
            "study": invite.study,
            "message": _(
                "Thank you for your time. This study needs headphones that it could not "
                "detect, so we can't ask you to continue. No answers are needed from you."
            ),
            "return_url": invite.screened_out_url,
            "return_code": invite.screened_out_code,
        },
    )
    return remember_screened_out(response, invite)


def headphone_page(request, invite: Invite, panelist: Panelist, *, error: str = "", status=200):
    """The check in progress, the "failed" message, or (no attempt made yet, e.g. the study
    turned the check on after this panelist joined) a button that starts one by POST."""
    if panelist.headphone_passed is False:
        return screened_out_page(request, invite)
    items = headphone_open_items(panelist=panelist)
    context = {
        "study": invite.study,
        "panelist": panelist,
        "items": items,
        "tones": TONES,
        "audio_urls": " ".join(
            reverse("listener:headphones-audio", args=[invite.token, item.token]) for item in items
        ),
        "answer_url": reverse("listener:headphones", args=[invite.token]),
        "attempt": panelist.headphone_attempts_made + 1,
        "attempts": invite.study.headphone_attempts,
        "retrying": panelist.headphone_attempts_made > 0,
        "error": error,
        "resume": resume_context(request, invite, panelist),
    }
    return render(request, "listener/headphones.html", context, status=status)


def _answers(post) -> dict[int, int]:
    answers = {}
    for name, value in post.items():
        if not name.startswith("item-"):
            continue
        try:
            answers[int(name.removeprefix("item-"))] = int(value)
        except ValueError as exc:
            raise ServiceError(
                _("each answer must be tone 1, 2 or 3 of one of the sounds on the page"),
                code="headphone_invalid",
            ) from exc
    return answers


def _attempt(post) -> int | None:
    try:
        return int(post.get("attempt", ""))
    except ValueError:
        return None


@never_cache
@require_POST
def answer(request, token: str):
    """Score the attempt (a form POST with CSRF), then: first trial, another attempt, or the
    polite "failed" message, each through a redirect to the listener page."""
    invite = invite_or_404(token, request)
    panelist = current_panelist(request, invite)
    if panelist is None:
        return redirect("listener:listen", token=token)
    try:
        outcome = headphone_attempt_score(
            panelist=panelist, answers=_answers(request.POST), attempt=_attempt(request.POST)
        )
    except ServiceError as exc:
        if exc.code == "no_headphone_check":
            return redirect("listener:listen", token=token)
        return headphone_page(request, invite, panelist, error=exc.message, status=exc.status)
    if outcome.passed:
        trial_reserve(panelist=panelist)
    elif outcome.passed is None and headphone_attempts_left(panelist=panelist):
        headphone_attempt_start(panelist=panelist)
    response = redirect("listener:listen", token=token)
    if outcome.passed is False:
        remember_screened_out(response, invite)
    return response


@require_http_methods(["GET", "HEAD"])
def audio(request, token: str, item_token: str):
    invite = invite_or_404(token, request)
    panelist = current_panelist(request, invite)
    item = HeadphoneItem.objects.filter(token=item_token).first()
    if panelist is None or item is None or item.panelist_id != panelist.pk:
        raise Http404("No such sound for this listener.")
    return audio_bytes_response(
        item_audio_file(headphone_item_order(item=item)),
        ITEM_CONTENT_TYPE,
        request,
        max_age_s=settings.EARSHOT["LISTENER_AUDIO_MAX_AGE_S"],
    )
