"""A failed screening remembered on the device: a signed cookie per invite, so rejoining
through the same link (a new session, the same browser) shows the polite "screened out"
message again instead of making a new pseudonym and a new headphone check.

The cookie holds only the invite's id and the word "failed", signed with the secret key
(``set_signed_cookie``), so it can be neither forged nor moved to another invite."""

from django.conf import settings

from evaluation.models import Invite

_SALT = "earshot.screened-out"


def _name(invite: Invite) -> str:
    return f"earshot_so_{invite.pk}"


def screened_out_on_device(request, invite: Invite) -> bool:
    """Whether this browser failed the screening of `invite` before."""
    value = request.get_signed_cookie(
        _name(invite),
        default=None,
        salt=_SALT,
        max_age=settings.EARSHOT["SCREENED_OUT_COOKIE_S"],
    )
    return value == f"{invite.pk}:failed"


def remember_screened_out(response, invite: Invite):
    """Mark this browser as screened out of `invite` (on the response that says so)."""
    response.set_signed_cookie(
        _name(invite),
        f"{invite.pk}:failed",
        salt=_SALT,
        max_age=settings.EARSHOT["SCREENED_OUT_COOKIE_S"],
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path=invite.path(),
    )
    return response
