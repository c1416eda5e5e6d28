"""Who is listening: the invite in the URL and the panelist's id in the session (no account)."""

from django.shortcuts import get_object_or_404

from evaluation.models import Invite, Panelist


def session_key(invite: Invite) -> str:
    return f"earshot:panelist:{invite.study_id}"


def current_panelist(request, invite: Invite) -> Panelist | None:
    panelist_id = request.session.get(session_key(invite))
    if panelist_id is None:
        return None
    return (
        Panelist.objects.select_related("study")
        .filter(pk=panelist_id, study_id=invite.study_id)
        .first()
    )


def invite_or_404(token: str) -> Invite:
    return get_object_or_404(Invite.objects.select_related("study", "panel", "member"), token=token)
