"""Tasks that follow the work (issue 16, item 4): the plan's self-assessment and county-round
tasks learn what work they stand for, and the campaigns that exist are brought in line once with
where that work stands (the rule is civicmark.assessments.followers; written out here on the
historical models, as a migration must be). Each change is an audit event, via "system"."""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

SUBMITTED_STATES = (
    "submitted",
    "town_reviewed",
    "county_pre_accepted",
    "reported",
    "standard_unit",
    "not_reached",
    "vetoed",
    "rectifying",
    "proposed",
    "commended",
)


def _county_path(path):
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/{parts[1]}/" if len(parts) >= 2 else None


def tag_and_follow(apps, schema_editor):
    Task = apps.get_model("campaigns", "Task")
    Enrollment = apps.get_model("campaigns", "Enrollment")
    AcceptanceRound = apps.get_model("campaigns", "AcceptanceRound")
    RoundPart = apps.get_model("campaigns", "RoundPart")
    AuditEvent = apps.get_model("core", "AuditEvent")
    # Every plan so far gave a community one self-assessment task (in the full start, or before
    # issue 15 in the acceptance step) and a county one task in the acceptance step; the title
    # was stored in the language of the day, English or Chinese.
    Task.objects.filter(
        Q(title__icontains="self-assessment") | Q(title__contains="自评"),
        division__level="community",
    ).update(follows="submission")
    Task.objects.filter(phase__key="acceptance", division__level="county").update(
        follows="county_round"
    )
    submitted = set(
        Enrollment.objects.filter(status__in=SUBMITTED_STATES).values_list(
            "campaign_id", "community_id"
        )
    )
    whole = set(
        AcceptanceRound.objects.filter(level="county", finalised_at__isnull=False).values_list(
            "campaign_id", flat=True
        )
    )
    sealed_parts = set(
        RoundPart.objects.filter(round__level="county", finalised_at__isnull=False).values_list(
            "round__campaign_id", "county__path"
        )
    )
    now = timezone.now()
    changed, events = [], []
    for task in Task.objects.exclude(follows="").select_related("division"):
        if task.follows == "submission":
            done = (task.campaign_id, task.division_id) in submitted
        else:
            done = task.campaign_id in whole or (
                task.campaign_id,
                _county_path(task.division.path),
            ) in sealed_parts
        if done == (task.status == "done"):
            continue
        before = task.status
        task.status, task.done_at = ("done", now) if done else ("open", None)
        changed.append(task)
        events.append(
            AuditEvent(
                via="system",
                action="task.followed_work",
                object_type="task",
                object_ref=str(task.public_id),
                scope_path=task.division.path[:255],
                summary=task.title[:255],
                before={"status": before},
                after={"status": task.status, "follows": task.follows, "because": "migration"},
            )
        )
    Task.objects.bulk_update(changed, ["status", "done_at"], batch_size=1000)
    AuditEvent.objects.bulk_create(events, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_acceptanceround_disagreement_gap"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="follows",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "nothing: its unit reports it done"),
                    ("submission", "the community submits its self-assessment"),
                    ("county_round", "the county round is finalised for the county"),
                ],
                default="",
                max_length=16,
                verbose_name="done when",
            ),
        ),
        migrations.RunPython(tag_and_follow, migrations.RunPython.noop),
    ]
