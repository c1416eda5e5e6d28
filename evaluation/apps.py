import os

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from evaluation.services.roles import researcher_group_ensure

    researcher_group_ensure()


def _sqlite_file_private(sender, connection, **kwargs) -> None:
    """A SQLite database file (sessions, API tokens) is readable by its owner only, however
    it was made (migrate, a test run, a process that opened it first); config.local_setup
    makes it 0600 from the start."""
    name = connection.settings_dict.get("NAME")
    if connection.vendor == "sqlite" and name and os.path.isfile(str(name)):
        try:
            os.chmod(name, 0o600)
        except PermissionError:  # another user's file: theirs to protect
            pass


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Earshot evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, sender=self)
        connection_created.connect(_sqlite_file_private)
