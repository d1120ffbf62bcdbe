# CommunityResult and StaleResult now belong to the scoring app (ADR 17); their tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0005_result_scored"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CommunityResult"),
                migrations.DeleteModel(name="StaleResult"),
            ]
        )
    ]
