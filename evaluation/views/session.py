"""Who is listening: the invite in the URL and the panelist's id in the session (no account),
and how a returning listener is recognised.

Besides the session, a device that joined or resumed keeps a long-lived signed cookie per study
(``earshot_resume_<study id>``, HttpOnly, path ``/p/``) holding the panelist's resume code.
A listener whose session is gone (another browser window, an expired session, the multi-use
link opened again) is recognised by it and resumes instead of being enrolled twice. The code
is theirs to see anyway (it is shown on the pages); the signature only keeps a forged cookie
from being read as one."""

from django.conf import settings
from django.http import Http404
from django.urls import reverse

from evaluation.models import Invite, Panelist
from evaluation.selectors.resume import (
    panelist_by_resume_code,
    resume_code_format,
    resume_code_matches,
)

RESUME_COOKIE_SALT = "earshot.resume"
RESUME_COOKIE_MAX_AGE_S = 180 * 24 * 3600


def session_key(invite: Invite) -> str:
    return f"earshot:panelist:{invite.study_id}"


def _code_key(invite: Invite) -> str:
    return f"earshot:resume:{invite.study_id}"


def resume_cookie_name(invite: Invite) -> str:
    return f"earshot_resume_{invite.study_id}"


def current_panelist(request, invite: Invite) -> Panelist | None:
    """The panelist this session signed in for the invite's study, or None. Their study (and
    their invite, when it is this one) are the objects the view already holds: no join, and
    no second read when a service looks at ``panelist.invite``."""
    panelist_id = request.session.get(session_key(invite))
    if panelist_id is None:
        return None
    panelist = Panelist.objects.filter(pk=panelist_id, study_id=invite.study_id).first()
    if panelist is not None:
        panelist.study = invite.study
        if panelist.invite_id == invite.pk:
            panelist.invite = invite
    return panelist


def _cookie_code(request, invite: Invite) -> str | None:
    return request.get_signed_cookie(
        resume_cookie_name(invite),
        default=None,
        salt=RESUME_COOKIE_SALT,
        max_age=RESUME_COOKIE_MAX_AGE_S,
    )


def recognised_panelist(request, invite: Invite) -> Panelist | None:
    """The panelist whose resume code this device's cookie holds, or None."""
    code = _cookie_code(request, invite)
    return panelist_by_resume_code(study=invite.study, code=code) if code else None


def panelist_remember(request, invite: Invite, panelist: Panelist, code: str | None) -> None:
    """Bind `panelist` to this session; keep `code` (bare) to show it again on this device."""
    request.session.cycle_key()  # a new session id on every sign-in, as for a login
    request.session[session_key(invite)] = panelist.pk
    if code:
        request.session[_code_key(invite)] = code


def resume_cookie_set(response, request, invite: Invite, code: str) -> None:
    response.set_signed_cookie(
        resume_cookie_name(invite),
        code,
        salt=RESUME_COOKIE_SALT,
        max_age=RESUME_COOKIE_MAX_AGE_S,
        path="/p/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def resume_code_known(request, invite: Invite, panelist: Panelist) -> str | None:
    """The panelist's current resume code (bare) if this device knows it: from the session,
    else from the cookie; None when neither holds the current one."""
    for code in (request.session.get(_code_key(invite)), _cookie_code(request, invite)):
        if code and resume_code_matches(panelist=panelist, code=code):
            return code
    return None


def resume_context(request, invite: Invite, panelist: Panelist) -> dict | None:
    """What the pages show of the resume code: the code and the link that carries it."""
    code = resume_code_known(request, invite, panelist)
    if code is None:
        return None
    link = request.build_absolute_uri(reverse("listener:resume-link", args=[invite.token, code]))
    return {"code": resume_code_format(code), "url": link}


def invite_by_token(token: str) -> Invite | None:
    """The invite with its study, panel and member, or None (one indexed read)."""
    invites = Invite.objects.select_related("study", "panel", "member").order_by()
    return next(iter(invites.filter(token=token)[:1]), None)


def invite_or_404(token: str, request=None) -> Invite:
    """The invite of the URL. With `request`, it is read once per request: kept on the
    request (``request.listener_invite``, where the listener language middleware may have
    put it already) for every later call."""
    invite = getattr(request, "listener_invite", None) if request is not None else None
    if invite is None or invite.token != token:
        invite = invite_by_token(token)
        if request is not None:
            request.listener_invite = invite
    if invite is None:
        raise Http404("No such invite.")
    return invite
