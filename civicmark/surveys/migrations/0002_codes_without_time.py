# ADR 9: the code side keeps whether a code was used, never when. The dates already stored are
# turned into "used" and dropped; the keyings of finalised paper forms (which said which form
# was the paper answer, and when it was keyed) are deleted.

from django.db import migrations, models


def forget_when(apps, schema_editor):
    Drawn = apps.get_model("surveys", "Drawn")
    PaperEntry = apps.get_model("surveys", "PaperEntry")
    Drawn.objects.filter(used_at__isnull=False).update(used=True)
    PaperEntry.objects.filter(final=True).delete()


def nothing_to_restore(apps, schema_editor):
    # Going back cannot bring the dates back: they are gone on purpose. A used code is given
    # no date, which the old code reads as unused; refuse rather than reopen used codes.
    Drawn = apps.get_model("surveys", "Drawn")
    if Drawn.objects.filter(used=True).exists():
        raise RuntimeError(
            "surveys 0002 cannot be reversed once codes are used: their dates were dropped."
        )


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="drawn",
            name="used",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(forget_when, nothing_to_restore),
        migrations.RemoveField(
            model_name="drawn",
            name="used_at",
        ),
        migrations.RemoveField(
            model_name="paperentry",
            name="entered_at",
        ),
        migrations.RemoveField(
            model_name="paperentry",
            name="final",
        ),
    ]
