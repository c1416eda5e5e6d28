"""The panelist's pages: consent and profile → trials → thank-you, and resuming on any device
(resume code, resume link, the recognition cookie; see views.session). No account; an invite
token in the URL and the panelist's id in the session. The page never learns which system
plays as A or B: audio comes through per-trial opaque URLs and answers are scored here."""

import json
import re

from django.conf import settings
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
from evaluation.selectors.resume import panelist_by_resume_code, resume_code_normalize
from evaluation.selectors.scheduling import answered_count
from evaluation.services import ServiceError
from evaluation.services.enrolment import (
    enrolment_key_new,
    panelist_enrol,
    panelist_resume_code_issue,
    panelist_step,
)
from evaluation.services.listening_evidence import response_record_heard, stimulus_fetch_record
from evaluation.services.reservations import trial_activity_record
from evaluation.services.responses import Answer, answer_questions, required_listen_s
from evaluation.services.scheduling import trial_reserve, trial_reserve_ahead
from evaluation.views import headphones
from evaluation.views.audio import served_range, stimulus_response
from evaluation.views.screening import screened_out_on_device
from evaluation.views.session import (
    current_panelist,
    invite_or_404,
    panelist_remember,
    recognised_panelist,
    resume_code_known,
    resume_context,
    resume_cookie_set,
)

ENROLMENT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@never_cache
@require_http_methods(["GET", "POST"])
def listen(request, token: str):
    """One URL for the whole flow: what it shows depends on where the panelist is.

    GET only reads: it shows the headphone check in progress, or the trial already reserved
    for the panelist (so a reload or a reopened tab resumes it). Making check items and
    reserving the next trial are state changes and happen on POST: on joining, on the
    check's answers (views.headphones), on each answer (views.answer) and on the buttons of
    this page."""
    invite = invite_or_404(token, request)
    panelist = current_panelist(request, invite)
    if panelist is None:
        panelist = recognised_panelist(request, invite)
        if panelist is None:
            return _enrol(request, invite)
        # A returning listener (this device's resume cookie): resume, never enrol again.
        panelist_remember(request, invite, panelist, None)
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
        panelist_step(panelist=panelist)
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
                {
                    "study": invite.study,
                    "answered": answered,
                    "panelist": panelist,
                    "resume": resume_context(request, invite, panelist),
                },
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
    position = answered_count(panelist) + 1
    if trial.pair.kind != "ab":
        return _design_trial_page(request, invite, panelist, trial, position)
    context = {
        "study": invite.study,
        "questions": trial_questions(study=invite.study, kind="ab"),
        "position": position,
        "planned": panelist.planned_trials,
        "audio_a_url": reverse("listener:audio", args=[token, trial.token, "a"]),
        "audio_b_url": reverse("listener:audio", args=[token, trial.token, "b"]),
        "answer_url": reverse("listener:answer", args=[token, trial.token]),
        "ahead_url": (
            reverse("listener:ahead", args=[token, trial.token])
            if settings.EARSHOT["LISTENER_PREFETCH"]
            else ""
        ),
        "required_listen_s": round(required_listen_s(trial), 2),
        "ask_liked": invite.study.ask_liked,
        "ask_ai": invite.study.ask_ai,
        "pause_url": reverse("listener:pause", args=[token]),
    }
    # The first trial shows the resume code once more (the start of the test).
    context["resume"] = resume_context(request, invite, panelist) if position == 1 else None
    return render(request, "listener/trial.html", context)


def _design_trial_page(request, invite: Invite, panelist: Panelist, trial: Trial, position: int):
    """A single-track or pool trial: one opaque audio URL per side (a pool's screen
    positions are the letters a, b, c, ...; nothing else about a candidate reaches the page).
    Like the A/B page it links the pause page and shows the resume code on the first trial;
    it prefetches nothing ahead (its player, static/earshot/pool.js, loads only its own)."""
    token = invite.token
    sides = trial.sides()
    context = {
        "study": invite.study,
        "questions": trial_questions(study=invite.study, kind=trial.pair.kind),
        "position": position,
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
        "pause_url": reverse("listener:pause", args=[token]),
        "resume": resume_context(request, invite, panelist) if position == 1 else None,
    }
    template = (
        "listener/trial_single.html" if trial.pair.kind == "single" else "listener/trial_pool.html"
    )
    return render(request, template, context)


def _enrolment_key(request) -> str:
    """The consent form's one-time key: the posted one (a retry carries the same), else new."""
    posted = request.POST.get("enrolment_key", "")
    return posted if ENROLMENT_KEY_PATTERN.match(posted) else enrolment_key_new()


def _enrol(request, invite: Invite):
    """Consent and profile for someone new here; a used or expired link offers resuming."""
    if screened_out_on_device(request, invite):
        # This browser failed the screening of this invite: no new pseudonym, no new check.
        return headphones.screened_out_page(request, invite)
    form = ProfileForm(request.POST or None, member=invite.member)
    key = _enrolment_key(request)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = panelist_enrol(
                invite=invite,
                enrolment_key=key,
                external_ids=_external_ids(request, invite),
                **form.profile(),
            )
        except ServiceError as exc:
            if exc.code in ("stratum_closed", "study_full"):
                screened_out = exc.code == "stratum_closed"
                context = {"message": exc.message, "study": invite.study}
                if screened_out:  # not needed in this study: the screened-out way back
                    context["return_url"] = invite.screened_out_url
                    context["return_code"] = invite.screened_out_code
                return render(request, "listener/message.html", context, status=exc.status)
            if exc.code == "invite_refused" and invite.study.is_open:
                return _resume_page(request, invite, notice=exc.message)
            form.add_error(None, exc.message)
        else:
            panelist = enrolment.panelist
            code = (
                enrolment.code
                or resume_code_known(request, invite, panelist)
                or panelist_resume_code_issue(panelist=panelist)
            )
            return _signed_in(request, invite, panelist, code)
    refusal = invite.refusal()
    if refusal:
        if invite.study.is_open:
            # Used (a personal link opened again) or expired: whoever started can resume.
            return _resume_page(request, invite, notice=refusal)
        return render(
            request,
            "listener/message.html",
            {"message": refusal, "study": invite.study},
            status=403,
        )
    return render(
        request,
        "listener/consent.html",
        {
            "form": form,
            "study": invite.study,
            "enrolment_key": key,
            "resume_url": reverse("listener:resume", args=[invite.token]),
        },
    )


def _external_ids(request, invite: Invite) -> dict[str, str]:
    """The invite's external-id query parameters present in the link (e.g. PROLIFIC_PID),
    hashed by the service before storing. The consent form posts back to the same URL, so
    the link's query string is still there on the POST."""
    names = [name.strip() for name in invite.external_id_params.split(",") if name.strip()]
    return {name: request.GET[name] for name in names if request.GET.get(name)}


def _signed_in(request, invite: Invite, panelist: Panelist, code: str):
    """Bind the panelist to this device (session and resume cookie) and go on."""
    panelist_remember(request, invite, panelist, code)
    response = redirect("listener:listen", token=invite.token)
    resume_cookie_set(response, request, invite, code)
    return response


def _resume_page(request, invite: Invite, *, code="", notice="", error="", status=200):
    return render(
        request,
        "listener/resume.html",
        {
            "study": invite.study,
            "code": code,
            "notice": notice,
            "error": error,
            "action": reverse("listener:resume", args=[invite.token]),
            "start_url": reverse("listener:listen", args=[invite.token]),
            "can_start": invite.refusal() is None,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def resume(request, token: str):
    """Resume with a code on any device: GET shows the form, POST checks the code and binds
    its panelist to this device (same reserved trial, same planned order)."""
    invite = invite_or_404(token, request)
    if request.method == "GET":
        return _resume_page(request, invite)
    typed = request.POST.get("code", "")
    panelist = panelist_by_resume_code(study=invite.study, code=typed)
    if panelist is None:
        return _resume_page(
            request,
            invite,
            code=typed[:40],
            error=_(
                "This resume code does not match anyone in this study. Check it (16 letters "
                "and digits, as shown when you started) and try again."
            ),
            status=400,
        )
    return _signed_in(request, invite, panelist, resume_code_normalize(typed))


@never_cache
@require_http_methods(["GET"])
def resume_link(request, token: str, code: str):
    """The personal resume link: the resume form with the code filled in (resuming binds a
    device, so it waits for the listener's POST)."""
    invite = invite_or_404(token, request)
    return _resume_page(request, invite, code=code[:40])


@never_cache
@require_http_methods(["GET", "POST"])
def pause(request, token: str):
    """Continue later or elsewhere: the resume code and link. POST makes a new code when this
    device does not know the current one (e.g. a panelist who joined before codes existed)."""
    invite = invite_or_404(token, request)
    panelist = current_panelist(request, invite)
    if panelist is None:
        return redirect("listener:listen", token=token)
    if request.method == "POST":
        code = panelist_resume_code_issue(panelist=panelist)
        return _pause_signed(request, invite, panelist, code)
    return render(
        request,
        "listener/pause.html",
        {
            "study": invite.study,
            "panelist": panelist,
            "answered": answered_count(panelist),
            "resume": resume_context(request, invite, panelist),
            "continue_url": reverse("listener:listen", args=[token]),
        },
    )


def _pause_signed(request, invite: Invite, panelist: Panelist, code: str):
    panelist_remember(request, invite, panelist, code)
    response = redirect("listener:pause", token=invite.token)
    resume_cookie_set(response, request, invite, code)
    return response


def _owned_trial(request, token: str, trial_token: str) -> tuple[Panelist, Trial]:
    invite = invite_or_404(token, request)
    panelist = current_panelist(request, invite)
    trial = (
        Trial.objects.select_related("pair__first", "pair__second", "pair__study")
        .filter(token=trial_token, pair__study_id=invite.study_id)
        .first()
    )
    if panelist is None or trial is None or trial.panelist_id != panelist.pk:
        raise Http404("No such trial for this listener.")
    return panelist, trial


@require_http_methods(["GET", "HEAD"])
def audio(request, token: str, trial_token: str, side: str):
    """One side of the panelist's trial (private cache: see views.audio), its bytes recorded
    as listening evidence and as activity on the reservation."""
    panelist, trial = _owned_trial(request, token, trial_token)
    try:
        stimulus = trial.stimulus_at(side)
    except ValueError:
        raise Http404("No such side for this trial.") from None
    response = stimulus_response(
        stimulus, request, max_age_s=settings.EARSHOT["LISTENER_AUDIO_MAX_AGE_S"]
    )
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
    invite = invite_or_404(token, request)
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


@never_cache
@require_POST
def ahead(request, token: str, trial_token: str):
    """Reserve the trial after this one (``services.scheduling.trial_reserve_ahead``) and give
    the page its two opaque audio URLs to download and decode while the listener answers;
    ``{"audio": []}`` when nothing comes next. The page calls it once the answer is allowed."""
    if not settings.EARSHOT["LISTENER_PREFETCH"]:
        return JsonResponse({"audio": []})
    invite = invite_or_404(token, request)
    panelist, trial = _owned_trial(request, token, trial_token)
    if not invite.study.is_open or trial.pair.kind != "ab":
        # Only the A/B page prefetches (the single-track and pool pages load their own).
        return JsonResponse({"audio": []})
    ahead_trial = trial_reserve_ahead(panelist=panelist, current=trial)
    if ahead_trial is None or ahead_trial.pair.kind != "ab":
        return JsonResponse({"audio": []})
    return JsonResponse(
        {
            "audio": [
                reverse("listener:audio", args=[token, ahead_trial.token, side])
                for side in ("a", "b")
            ]
        }
    )
