"""System.kind is now human|ai, stated by the manifest or the generate job (never guessed);
the former kind (where tracks came from) becomes `source`. Existing systems keep what their
`is_human` flag said."""

from django.db import migrations, models


def kind_from_is_human(apps, schema_editor):
    System = apps.get_model("evaluation", "System")
    System.objects.filter(is_human=True).update(kind="human")
    System.objects.filter(is_human=False).update(kind="ai")
    # "human" was a source before; human-made tracks were imported or rendered from the corpus.
    System.objects.filter(source="human").update(source="imported")


def is_human_from_kind(apps, schema_editor):
    System = apps.get_model("evaluation", "System")
    System.objects.filter(kind="human").update(is_human=True, source="human")
    System.objects.filter(kind="ai").update(is_human=False)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0006_evidence_catch_copies")]

    operations = [
        migrations.RenameField("system", "kind", "source"),
        migrations.AddField(
            model_name="system",
            name="kind",
            field=models.CharField(
                default="ai",
                help_text="human or ai, as stated by the manifest or the generate job (never guessed).",
                max_length=8,
                choices=[("human", "human-made"), ("ai", "AI system")],
            ),
            preserve_default=False,
        ),
        migrations.RunPython(kind_from_is_human, is_human_from_kind),
        migrations.AlterField(
            model_name="system",
            name="source",
            field=models.CharField(
                choices=[
                    ("builtin", "built-in generator"),
                    ("http", "external HTTP backend"),
                    ("imported", "imported audio"),
                    ("corpus", "rendered from the chorale corpus"),
                ],
                default="imported",
                max_length=16,
            ),
        ),
        migrations.RemoveField(model_name="system", name="is_human"),
        migrations.AddConstraint(
            model_name="system",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=["human", "ai"]), name="system_kind_stated"
            ),
        ),
    ]
