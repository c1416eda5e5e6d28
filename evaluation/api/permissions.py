from rest_framework.permissions import BasePermission

from evaluation.services.roles import is_researcher


class IsResearcher(BasePermission):
    """Superusers and members of the researchers group; everyone else is refused."""

    message = "Researcher access required (ask an admin to add you to the 'researchers' group)."

    def has_permission(self, request, view) -> bool:
        return is_researcher(request.user)
