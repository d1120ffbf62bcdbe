"""The open disagreements kept beside each stored result and their total per round (ADR 31).
The rows stored before hold 0 and no round has a total: every row is marked stale, so the next
read of its round recomputes it by the one rule (`scoring.materialize.current`; a large set as
one whole recomputation, which sets the total), rank and place kept. Plain SQL, the same on
SQLite and PostgreSQL (SQLite reads ON CONFLICT after a SELECT only once it has a WHERE)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0013_enrollment_newest"),
        ("scoring", "0004_pages_flat"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoundTally",
            fields=[
                (
                    "round",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="campaigns.acceptanceround",
                    ),
                ),
                ("disagreements", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="communityresult",
            name="disagreements",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="communityresult",
            index=models.Index(
                condition=models.Q(("disagreements__gt", 0)),
                fields=["round", "enrollment", "disagreements"],
                name="result_open_disagreements",
            ),
        ),
        migrations.RunSQL(
            "INSERT INTO results_staleresult (round_id, enrollment_id) "
            "SELECT round_id, enrollment_id FROM results_communityresult WHERE 1 = 1 "
            "ON CONFLICT DO NOTHING",
            migrations.RunSQL.noop,
        ),
    ]
