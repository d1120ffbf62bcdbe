# The score's models move here from assessments and results (ADR 17): their tables stay as
# they are; only Django's record of which app holds them changes.

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0008_round_part"),
        ("standards", "0001_initial"),
        ("assessments", "0007_evidence_versions"),
        ("results", "0005_result_scored"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state = [
        migrations.CreateModel(
            name="Score",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("points", models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True, verbose_name="points")),
                ("not_applicable", models.BooleanField(default=False, verbose_name="not applicable")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
                ("version", models.PositiveIntegerField(default=1)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("assessor", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="scores", to=settings.AUTH_USER_MODEL)),
                ("enrollment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="scores", to="campaigns.enrollment")),
                ("item", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="standards.item")),
                ("round", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="scores", to="campaigns.acceptanceround")),
            ],
            options={
                "db_table": "assessments_score",
                "indexes": [
                    models.Index(fields=["round", "enrollment", "item"], name="assessments_round_i_f82bdc_idx"),
                    models.Index(condition=models.Q(("not_applicable", True)), fields=["round"], name="score_na_round"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("round", "enrollment", "item", "assessor"), name="one_score_per_assessor"),
                    models.CheckConstraint(condition=models.Q(models.Q(("not_applicable", True), ("points__isnull", True)), models.Q(("not_applicable", False), ("points__isnull", False)), _connector="OR"), name="points_or_not_applicable"),
                ],
            },
        ),
        migrations.CreateModel(
            name="VetoFinding",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("reason", models.TextField(verbose_name="finding")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("assessor", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="veto_findings", to=settings.AUTH_USER_MODEL)),
                ("enrollment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="veto_findings", to="campaigns.enrollment")),
                ("round", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="veto_findings", to="campaigns.acceptanceround")),
                ("veto", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="standards.vetoitem")),
            ],
            options={
                "db_table": "assessments_vetofinding",
                "constraints": [models.UniqueConstraint(fields=("round", "enrollment", "veto", "assessor"), name="one_finding_per_assessor")],
            },
        ),
        migrations.CreateModel(
            name="CommunityResult",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("total", models.DecimalField(decimal_places=2, max_digits=7)),
                ("outcome", models.CharField(max_length=16)),
                ("level", models.CharField(blank=True, max_length=64)),
                ("subtotals", models.JSONField(default=dict)),
                ("below_minimum", models.JSONField(default=list)),
                ("possible", models.DecimalField(decimal_places=2, default=0, max_digits=7)),
                ("assessed", models.BooleanField(default=False)),
                ("scored", models.JSONField(default=dict)),
                ("enrollment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="campaigns.enrollment")),
                ("round", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="campaigns.acceptanceround")),
            ],
            options={
                "db_table": "results_communityresult",
                "indexes": [
                    models.Index(fields=["round", "outcome"], name="results_com_round_i_1de5d2_idx"),
                    models.Index(fields=["round", "-total"], name="results_com_round_i_c5dc02_idx"),
                ],
                "constraints": [models.UniqueConstraint(fields=("round", "enrollment"), name="one_result_per_round")],
            },
        ),
        migrations.CreateModel(
            name="StaleResult",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enrollment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="campaigns.enrollment")),
                ("round", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="campaigns.acceptanceround")),
            ],
            options={
                "db_table": "results_staleresult",
                "constraints": [models.UniqueConstraint(fields=("round", "enrollment"), name="one_stale_mark")],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state)]
