from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from evaluation.services.roles import researcher_group_ensure

    researcher_group_ensure()


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Earshot evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, sender=self)
