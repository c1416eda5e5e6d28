"""The panelist's pages: consent and profile → trials → thank-you. No account; an invite
token in the URL and the panelist's id in the session. The page never learns which system
plays as A or B: audio comes through per-trial opaque URLs and answers are scored here."""

import json

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from evaluation.forms import ProfileForm
from evaluation.models import Invite, Panelist, Trial
from evaluation.selectors.designs import trial_questions
from evaluation.selectors.headphones import headphone_check_pending
from evaluation.selectors.listening import panelist_has_more_trials, panelist_open_trial
from evaluation.selectors.scheduling import answered_count
from evaluation.services import ServiceError
from evaluation.services.headphones import headphone_attempt_start
from evaluation.services.listening_evidence import response_record_heard, stimulus_fetch_record
from evaluation.services.panelists import panelist_join
from evaluation.services.reservations import trial_activity_record
from evaluation.services.responses import Answer, answer_questions, required_listen_s
from evaluation.services.scheduling import trial_reserve
from evaluation.views import headphones
from evaluation.views.audio import served_range, stimulus_response
from evaluation.views.screening import screened_out_on_device
from evaluation.views.session import current_panelist, invite_or_404, session_key


@never_cache
@require_http_methods(["GET", "POST"])
def listen(request, token: str):
    """One URL for the whole flow: what it shows depends on where the panelist is.

    GET only reads: it shows the headphone check in progress, or the trial already reserved
    for the panelist (so a reload or a reopened tab resumes it). Making check items and
    reserving the next trial are state changes and happen on POST: on joining, on the
    check's answers (views.headphones), on each answer (views.answer) and on the buttons of
    this page."""
    invite = invite_or_404(token)
    panelist = current_panelist(request, invite)
    if panelist is None:
        return _enrol(request, invite)
    if not invite.study.is_open:
        # Closed means closed, also for a trial reserved before closing: no player is shown
        # and services.responses refuses any answer. No thanks for nothing answered.
        message = (
            _("This study has closed. Thank you for listening.")
            if answered_count(panelist)
            else _("This study has closed; no more answers are being collected.")
        )
        return render(
            request,
            "listener/message.html",
            {"study": invite.study, "message": message},
            status=409 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        _advance(panelist)
        return redirect("listener:listen", token=token)
    if headphone_check_pending(panelist=panelist):
        return headphones.headphone_page(request, invite, panelist)
    trial = panelist_open_trial(panelist=panelist)
    if trial is None:
        answered = answered_count(panelist)
        if panelist_has_more_trials(panelist=panelist):
            return render(
                request,
                "listener/continue.html",
                {"study": invite.study, "answered": answered, "panelist": panelist},
            )
        if answered == 0:
            # Nothing answered: never "Thank you", but why, and a way to try again.
            return render(
                request,
                "listener/unavailable.html",
                {"study": invite.study, "panelist": panelist},
            )
        return render(
            request,
            "listener/done.html",
            {
                "study": invite.study,
                "answered": answered,
                "panelist": panelist,
                "return_url": invite.completion_url,
                "return_code": invite.completion_code,
            },
        )
    if trial.pair.kind != "ab":
        return _design_trial_page(request, invite, panelist, trial)
    context = {
        "study": invite.study,
        "questions": trial_questions(study=invite.study, kind="ab"),
        "position": answered_count(panelist) + 1,
        "planned": panelist.planned_trials,
        "audio_a_url": reverse("listener:audio", args=[token, trial.token, "a"]),
        "audio_b_url": reverse("listener:audio", args=[token, trial.token, "b"]),
        "answer_url": reverse("listener:answer", args=[token, trial.token]),
        "required_listen_s": round(required_listen_s(trial), 2),
        "ask_liked": invite.study.ask_liked,
        "ask_ai": invite.study.ask_ai,
    }
    return render(request, "listener/trial.html", context)


def _design_trial_page(request, invite: Invite, panelist: Panelist, trial: Trial):
    """A single-track or pool trial: one opaque audio URL per side (a pool's screen
    positions are the letters a, b, c, ...; nothing else about a candidate reaches the page)."""
    token = invite.token
    sides = trial.sides()
    context = {
        "study": invite.study,
        "questions": trial_questions(study=invite.study, kind=trial.pair.kind),
        "position": answered_count(panelist) + 1,
        "planned": panelist.planned_trials,
        "candidates": [
            {
                "number": n,
                "side": side,
                "url": reverse("listener:audio", args=[token, trial.token, side]),
            }
            for n, side in enumerate(sides, start=1)
        ],
        "audio_urls": ",".join(
            reverse("listener:audio", args=[token, trial.token, side]) for side in sides
        ),
        "answer_url": reverse("listener:answer", args=[token, trial.token]),
        "required_listen_s": round(required_listen_s(trial), 2),
    }
    template = (
        "listener/trial_single.html" if trial.pair.kind == "single" else "listener/trial_pool.html"
    )
    return render(request, template, context)


def _advance(panelist: Panelist) -> None:
    """The panelist's next step: the headphone check while it is pending, else a trial."""
    if headphone_check_pending(panelist=panelist):
        headphone_attempt_start(panelist=panelist)
    else:
        trial_reserve(panelist=panelist)


def _enrol(request, invite: Invite):
    if screened_out_on_device(request, invite):
        # This browser failed the screening of this invite: no new pseudonym, no new check.
        return headphones.screened_out_page(request, invite)
    refusal = invite.refusal()
    if refusal:
        return render(
            request,
            "listener/message.html",
            {"message": refusal, "study": invite.study},
            status=403,
        )
    form = ProfileForm(request.POST or None, member=invite.member)
    if request.method == "POST" and form.is_valid():
        try:
            panelist = panelist_join(
                invite=invite, external_ids=_external_ids(request, invite), **form.profile()
            )
        except ServiceError as exc:
            if exc.code in ("stratum_closed", "study_full"):
                screened_out = exc.code == "stratum_closed"
                context = {"message": exc.message, "study": invite.study}
                if screened_out:  # not needed in this study: the screened-out way back
                    context["return_url"] = invite.screened_out_url
                    context["return_code"] = invite.screened_out_code
                return render(request, "listener/message.html", context, status=exc.status)
            form.add_error(None, exc.message)
        else:
            request.session[session_key(invite)] = panelist.pk
            _advance(panelist)
            return redirect("listener:listen", token=invite.token)
    return render(request, "listener/consent.html", {"form": form, "study": invite.study})


def _external_ids(request, invite: Invite) -> dict[str, str]:
    """The invite's external-id query parameters present in the link (e.g. PROLIFIC_PID),
    hashed by the service before storing. The consent form posts back to the same URL, so
    the link's query string is still there on the POST."""
    names = [name.strip() for name in invite.external_id_params.split(",") if name.strip()]
    return {name: request.GET[name] for name in names if request.GET.get(name)}


def _owned_trial(request, token: str, trial_token: str) -> tuple[Panelist, Trial]:
    invite = invite_or_404(token)
    panelist = current_panelist(request, invite)
    trial = (
        Trial.objects.select_related("pair__first", "pair__second", "pair__study")
        .filter(token=trial_token, pair__study_id=invite.study_id)
        .first()
    )
    if panelist is None or trial is None or trial.panelist_id != panelist.pk:
        raise Http404("No such trial for this listener.")
    return panelist, trial


@never_cache
@require_http_methods(["GET", "HEAD"])
def audio(request, token: str, trial_token: str, side: str):
    panelist, trial = _owned_trial(request, token, trial_token)
    try:
        stimulus = trial.stimulus_at(side)
    except ValueError:
        raise Http404("No such side for this trial.") from None
    response = stimulus_response(stimulus, request)
    served = served_range(response)
    if served is not None:
        # Evidence for the answer check; nothing of it goes back to the page.
        stimulus_fetch_record(
            trial=trial, panelist=panelist, side=side, first_byte=served[0], last_byte=served[1]
        )
        # Real activity: the short first reservation grows to the full span.
        trial_activity_record(trial=trial, panelist=panelist)
    return response


# The answer with its listening log (at most MAX_EVENTS events of ~70 bytes each).
MAX_ANSWER_BYTES = 1024 * 1024


def _parse_answer(body: bytes) -> tuple[Answer, object]:
    """The answer and its raw listening log (checked by the service)."""
    if len(body) > MAX_ANSWER_BYTES:
        raise ServiceError(
            _("the answer is %(size)s bytes, more than the %(limit)s accepted")
            % {"size": len(body), "limit": MAX_ANSWER_BYTES},
            code="invalid_listening_log",
            status=413,
        )
    try:
        payload = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise ServiceError(_("the answer is not valid JSON"), code="invalid_json") from exc
    if not isinstance(payload, dict):
        raise ServiceError(_("the answer must be a JSON object"), code="invalid_json")

    def seconds(name):
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ServiceError(
                _("%(name)s must be a number of seconds") % {"name": name}, code="invalid_listen"
            )
        return float(value)

    def flag(name):
        value = payload.get(name)
        if value is not None and not isinstance(value, bool):
            raise ServiceError(
                _("%(name)s must be true, false or null") % {"name": name}, code="invalid_liked"
            )
        return value

    guess = payload.get("guess_ai") or ""
    answer = Answer(
        choice=str(payload.get("choice") or ""),
        listen_a_s=seconds("listen_a_s"),
        listen_b_s=seconds("listen_b_s"),
        liked_a=flag("liked_a"),
        liked_b=flag("liked_b"),
        guess_ai=str(guess),
        **answer_questions(payload),
    )
    return answer, payload.get("listening")


@never_cache
@require_POST
def answer(request, token: str, trial_token: str):
    invite = invite_or_404(token)
    panelist = current_panelist(request, invite)
    if panelist is None:
        return JsonResponse(
            {
                "error": "no_session",
                "detail": _("your session has ended; open the invite link again"),
            },
            status=403,
        )
    try:
        answer, listening = _parse_answer(request.body)
        response, created = response_record_heard(
            panelist=panelist, trial_token=trial_token, answer=answer, listening=listening
        )
    except ServiceError as exc:
        return JsonResponse({"error": exc.code, "detail": exc.message}, status=exc.status)
    if created:
        # Only the request that stored the answer reserves the next trial: a duplicate POST
        # (a retry, a double click) reserves nothing more.
        trial_reserve(panelist=panelist)
    return JsonResponse(
        {"stored": True, "created": created, "next": reverse("listener:listen", args=[token])},
        status=201 if created else 200,
    )
