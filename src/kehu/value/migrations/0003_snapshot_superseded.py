"""A snapshot status `superseded`: a newer snapshot of the same period, engine and measure
finished, so this one's customer rows were deleted and the snapshot row stays as run history."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("value", "0002_segment_actions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="valuesnapshot",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("done", "Done"),
                    ("empty", "Done, no transactions in the window"),
                    ("failed", "Failed"),
                    ("superseded", "Superseded by a newer run"),
                ],
                default="running",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
