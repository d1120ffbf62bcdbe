# Score and VetoFinding now belong to the scoring app (ADR 17); their tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_evidence_versions"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Score"),
                migrations.DeleteModel(name="VetoFinding"),
            ]
        )
    ]
