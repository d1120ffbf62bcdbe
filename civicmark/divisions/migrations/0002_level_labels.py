from django.db import migrations

LABELS = [
    ("city", "市", "City"),
    ("county", "县（区）", "County (district)"),
    ("town", "镇（街道）", "Town (street)"),
    ("community", "社区", "Community"),
]


def add_labels(apps, schema_editor):
    LevelLabel = apps.get_model("divisions", "LevelLabel")
    for level, zh, en in LABELS:
        LevelLabel.objects.get_or_create(level=level, defaults={"name_zh": zh, "name_en": en})


class Migration(migrations.Migration):
    dependencies = [("divisions", "0001_initial")]
    operations = [migrations.RunPython(add_labels, migrations.RunPython.noop)]
