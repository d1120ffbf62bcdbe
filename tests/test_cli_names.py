"""Issue 16 item 5 on the command line: every option that takes communities (campaign create
--division/--communities/--pilots, workflow --communities, round cover --communities, round
settle --community, export-scores --community, and the community of self-assessment export and
rectification) reads names as well as codes through the pages' resolver (core.lookup), within
the acting person's reach; an ambiguous or unknown name is one line on stderr and exit status 1,
with no traceback, and nothing changed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Campaign
from civicmark.core.models import AuditEvent
from tests.factories import division

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):  # noqa: ANN001, ANN201
    """Commands speak LANGUAGE_CODE: the refusals asserted are the English ones."""
    settings.LANGUAGE_CODE = "en"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(exc.value)


@pytest.fixture
def twins(world):  # noqa: ANN001, ANN201
    """A second "Community 111" in town T12 (code C122): the name alone is ambiguous."""
    return division("C122", "Community 111", "community", world.d["T12"])


def test_a_campaign_is_created_with_its_division_communities_and_pilots_named(world, city, scoring):
    standard = scoring["standard"]
    out = run(
        "campaign", "create", "--slug", "by-name", "--name", "By name", "--year", "2027",
        "--standard", standard.slug, "--division", "County One",
        "--communities", "Community 111, C112、Community 121", "--pilots", "Community 112",
    )  # fmt: skip
    assert "3 communities" in out
    campaign = Campaign.objects.get(slug="by-name")
    assert campaign.division == world.d["K1"]
    enrolled = set(campaign.enrollments.values_list("community__code", flat=True))
    assert enrolled == {"C111", "C112", "C121"}
    pilots = campaign.enrollments.filter(is_pilot=True).values_list("community__code", flat=True)
    assert list(pilots) == ["C112"]


def test_an_ambiguous_or_unknown_name_is_one_line_and_creates_nothing(world, scoring, twins):
    standard = scoring["standard"]
    base = ["campaign", "create", "--slug", "x", "--name", "X", "--year", "2027"]
    base += ["--standard", standard.slug, "--division", "County One"]
    campaigns, events = Campaign.objects.count(), AuditEvent.objects.count()
    message = refused(*base, "--communities", "Community 111")
    assert "names several" in message and "(C111)" in message and "(C122)" in message
    assert "\n" not in message
    message = refused(*base, "--pilots", "Community 999")
    assert "Nothing you can see is named or coded “Community 999”" in message
    # The division is read among cities and counties; another county's communities are not
    # under it.
    assert "Nothing" in refused(*base[:-2], "--division", "Atlantis")
    assert "Community 211" in refused(*base, "--communities", "Community 211")
    assert (Campaign.objects.count(), AuditEvent.objects.count()) == (campaigns, events)


def test_a_name_out_of_the_acting_persons_reach_is_not_found(world, scoring):
    standard = scoring["standard"]
    message = refused(
        "campaign", "create", "--slug", "x", "--name", "X", "--year", "2027",
        "--standard", standard.slug, "--division", "County One", "--user", "other_county_officer",
    )  # fmt: skip
    assert "Nothing you can see is named or coded “County One”" in message
    # workflow: the other county's officer does not reach Community 111, by name or code.
    for typed in ("Community 111", "C111"):
        message = refused(
            "workflow", "c", "--to", "submitted", "--communities", typed,
            "--user", "other_county_officer",
        )  # fmt: skip
        assert "Nothing you can see is named or coded" in message, typed


def test_workflow_round_and_sheet_commands_take_community_names(world, scoring, tmp_path):
    staff = world.users["community_staff"]
    out = run(
        "workflow", "c", "--to", "self_assessing", "--communities", "Community 111",
        "--user", staff.username,
    )  # fmt: skip
    assert "moved 1" in out
    enrollment = scoring["enrollments"]["C111"]
    enrollment.refresh_from_db()
    assert enrollment.status == State.SELF_ASSESSING
    out = run(
        "round", "cover", "c", "2", "--communities", "Community 111, Community 112",
        "--confirm-removal",
        "--user", "city_admin",
    )  # fmt: skip
    assert "covers: C111, C112" in out
    sheet = tmp_path / "sheet.xlsx"
    run("self-assessment", "export", "c", "Community 111", str(sheet))
    assert sheet.exists()
    run("export-scores", "c", "2", str(tmp_path / "s.xlsx"), "--department", "FP",
        "--community", "Community 112")  # fmt: skip
    assert (tmp_path / "s.xlsx").exists()
    assert "Nothing" in refused("self-assessment", "export", "c", "Atlantis", str(sheet))


def test_from_the_shell_a_refused_name_is_one_line_and_exit_status_1(world, scoring, capsys):
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(
            ["civicmark", "workflow", "c", "--to", "submitted", "--communities",
             "Community 111, Atlantis", "--user", "city_admin"]
        )  # fmt: skip
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("CommandError: ") and "“Atlantis”" in err
    assert "Traceback" not in err and err.count("\n") == 1
