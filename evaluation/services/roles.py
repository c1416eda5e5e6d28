"""Roles: admin = superuser; researcher = member of the "researchers" group."""

from django.contrib.auth.models import Group, Permission

RESEARCHERS = "researchers"

RESEARCHER_MODELS = (
    "study",
    "system",
    "prompt",
    "track",
    "stimulus",
    "pair",
    "panel",
    "panelmember",
    "invite",
    "job",
)
READ_ONLY_MODELS = (
    "panelist",
    "trial",
    "response",
    "auditentry",
    "listeningevidence",
    "stimulusfetch",
)
# Custom permissions: running a study's actions and exporting its answers. Deleting a
# panelist's data (privacy request) stays with admins.
RESEARCHER_PERMISSIONS = ("run_study", "export_study")


def researcher_group_ensure() -> Group:
    """The researchers group with its model permissions (idempotent)."""
    group, _ = Group.objects.get_or_create(name=RESEARCHERS)
    codenames = (
        [
            f"{action}_{model}"
            for model in RESEARCHER_MODELS
            for action in ("add", "change", "delete", "view")
        ]
        + [f"view_{model}" for model in READ_ONLY_MODELS]
        + list(RESEARCHER_PERMISSIONS)
    )
    permissions = Permission.objects.filter(
        content_type__app_label="evaluation", codename__in=codenames
    )
    group.permissions.set(permissions)
    return group


def is_researcher(user) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=RESEARCHERS).exists()
