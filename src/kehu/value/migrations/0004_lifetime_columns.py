"""Lifetime value (§4.6) per customer in a snapshot: probability alive, expected purchases over
the next 12 months and expected spend per purchase, next to the existing lifetime value."""

from django.db import migrations, models


class Migration(migrations.Migration):
    # Placed after the segment-action and superseded-status migrations, which were written
    # before this one, so that the value app keeps a single line of migrations.
    dependencies = [
        ("value", "0003_snapshot_superseded"),
    ]

    operations = [
        migrations.AddField(
            model_name="customervalue",
            name="probability_alive",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                max_digits=9,
                null=True,
                verbose_name="probability alive",
            ),
        ),
        migrations.AddField(
            model_name="customervalue",
            name="expected_purchases",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                max_digits=12,
                null=True,
                verbose_name="expected purchases, next 12 months",
            ),
        ),
        migrations.AddField(
            model_name="customervalue",
            name="expected_spend",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=18,
                null=True,
                verbose_name="expected spend per purchase",
            ),
        ),
    ]
