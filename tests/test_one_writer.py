"""One validator and one writer of scores (issue 15, ADR 17): the page, the offline sheet and the
command line refuse the same bad values with the same messages, the sheet compares versions and
audits each score as the page does, empty is never 0, a per-occurrence count gives the points."""

from __future__ import annotations

import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from civicmark.assessments.services import score_save
from civicmark.assessments.sheets import SCORE_COLUMNS, export_sheet, import_sheet
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Department
from civicmark.scoring.models import Score
from civicmark.scoring.validate import Invalid, validate
from tests.factories import person

pytestmark = pytest.mark.django_db

# (case, item, points typed, not applicable, reason, the item already scored at version 1)
BAD = [
    ("off-step", "A1", "12.3", False, "x", False),
    ("above max", "A1", "31", False, "x", False),
    ("negative on graded", "A1", "-1", False, "x", False),
    ("all-or-nothing 4 of 8", "B1", "4", False, "x", False),
    ("N/A with points", "A1", "28", True, "x", False),
    ("missing reason", "A1", "28", False, "", False),
    ("empty", "A1", "", False, "", True),
]


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _stored() -> list[tuple]:
    return sorted(
        Score.objects.values_list("item__code", "points", "not_applicable", "reason", "version")
    )


def _sheet(s, assessor, rows: dict[str, dict]) -> bytes:  # noqa: ANN001
    """The FP sheet of C111 as `assessor` exports it, rows filled in by item code."""
    data = export_sheet(
        round_=s["round"],
        department=Department.objects.get(code="FP"),
        community=s["enrollments"]["C111"].community,
        assessor=assessor,
    )
    book = load_workbook(io.BytesIO(data))
    ws = book["scores"]
    names = {n: c.key for c in SCORE_COLUMNS for n in (c.key, *c.aliases)}
    at = {names[str(c.value)]: n for n, c in enumerate(ws[1]) if str(c.value) in names}
    for row in ws.iter_rows(min_row=2):
        values = rows.get(row[at["item_code"]].value)
        for key, value in (values or {}).items():
            row[at[key]].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def table(scoring):  # noqa: ANN001, ANN201
    """B1 becomes an all-or-nothing item worth 8."""
    b1 = scoring["items"]["B1"]
    b1.kind, b1.points = "all_or_nothing", Decimal(8)
    b1.save()
    scoring["items"] = {i.code: i for i in scoring["standard"].items.all()}
    return scoring


def _page_refusal(s, assessor, client_for, code, points, na, reason):  # noqa: ANN001, ANN201
    item = s["items"][code]
    mine = Score.objects.filter(item=item, assessor=assessor).first()
    post = {
        f"i{item.pk}-points": points,
        f"i{item.pk}-reason": reason,
        f"i{item.pk}-version": str(mine.version) if mine else "",
    }
    if na:
        post[f"i{item.pk}-na"] = "on"
    client = client_for(assessor)
    client.cookies["django_language"] = "zh-hans"  # the language the message is read in
    response = client.post(reverse("score_community", args=["c", 2, "C111"]), post)
    assert response.status_code == 200
    return next(r["error"] for r in response.context["rows"] if r["item"].pk == item.pk)


def _sheet_refusal(s, assessor, code, points, na, reason):  # noqa: ANN001, ANN201
    data = _sheet(
        s,
        assessor,
        {
            code: {
                "points": points or None,
                "reason": reason or None,
                "not_applicable": "是" if na else None,
            }
        },
    )
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=assessor, data=data)
    return [e.message for e in refused.value.errors]


def _command_refusal(s, assessor, code, points, na, reason, tmp_path):  # noqa: ANN001, ANN201
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(
        _sheet(
            s,
            assessor,
            {
                code: {
                    "points": points or None,
                    "reason": reason or None,
                    "not_applicable": "是" if na else None,
                }
            },
        )
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import-scores", str(path), "--user", assessor.username, stderr=err)
    return err.getvalue()


@pytest.mark.parametrize("entry_point", ["page", "sheet", "command line"])
@pytest.mark.parametrize(
    ("case", "code", "points", "na", "reason", "scored"), BAD, ids=[b[0] for b in BAD]
)
def test_every_entry_point_refuses_the_same_bad_value_with_the_same_message(
    table, client_for, tmp_path, entry_point, case, code, points, na, reason, scored
):  # noqa: ANN001
    s = table
    assessor = s["assessors"][0]
    item = s["items"][code]
    if scored:
        score_save(
            actor=assessor,
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=item,
            points=Decimal(28),
            reason="台账缺一季",
        )
    # Every entry point is read in Chinese, as a command is: a language another test left active
    # in this worker must not make the same refusal read apart (it did, on PostgreSQL).
    with translation.override("zh-hans"):
        with pytest.raises(Invalid) as expected:
            validate(item, points=_decimal(points), not_applicable=na, reason=reason)
        message = str(expected.value.message)
        assert item.code in message
        before, events = _stored(), AuditEvent.objects.count()
        if entry_point == "page":
            assert _page_refusal(s, assessor, client_for, code, points, na, reason) == message
        elif entry_point == "sheet":
            assert _sheet_refusal(s, assessor, code, points, na, reason) == [message]
        else:
            assert message in _command_refusal(s, assessor, code, points, na, reason, tmp_path)
    # Nothing changed: no score, no version, no audit event.
    assert _stored() == before and AuditEvent.objects.count() == events


def test_the_sheet_refuses_a_stale_version(scoring, client_for):
    s = scoring
    assessor, item = s["assessors"][0], s["items"]["A1"]
    enrollment = s["enrollments"]["C111"]
    score_save(
        actor=assessor,
        round_=s["round"],
        enrollment=enrollment,
        item=item,
        points=Decimal(28),
        reason="台账缺一季",
    )
    stale = _sheet(s, assessor, {"A1": {"points": 25, "reason": "台账缺两季"}})  # at version 1
    score_save(
        actor=assessor,
        round_=s["round"],
        enrollment=enrollment,
        item=item,
        points=Decimal(29),
        reason="台账缺一月",
        expected_version=1,
    )
    before, events = _stored(), AuditEvent.objects.count()
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=assessor, data=stale)
    [error] = refused.value.errors
    assert (error.sheet, error.column, error.value) == ("scores", "version", "1")
    assert "C111" in error.message and "A1" in error.message  # who changed it, and when
    assert _stored() == before and AuditEvent.objects.count() == events


def test_the_sheet_audits_each_score_it_changes(scoring):
    s = scoring
    assessor = s["assessors"][0]
    data = _sheet(s, assessor, {"A1": {"points": 28, "reason": "台账缺一季"}, "B1": {"points": 20}})
    result = import_sheet(actor=assessor, data=data)
    assert result.saved == 2
    events = AuditEvent.objects.filter(action="score.saved", via="sheet")
    assert sorted(e.summary.split()[0] for e in events) == ["A1", "B1"]
    assert {e.after["points"] for e in events} == {"28.0", "20.0"} or {
        e.after["points"] for e in events
    } == {"28", "20"}
    # Changing one row writes one more event, for that score only.
    again = _sheet(s, assessor, {"A1": {"points": 27, "reason": "台账缺两季"}})
    assert import_sheet(actor=assessor, data=again).saved == 1
    assert AuditEvent.objects.filter(action="score.saved", via="sheet").count() == 3


def test_an_empty_box_is_never_saved_as_zero(scoring, client_for):
    s = scoring
    assessor = s["assessors"][0]
    a1 = s["items"]["A1"]
    url = reverse("score_community", args=["c", 2, "C111"])
    # A row left blank that was never scored, with a reason typed: refused, not 0.
    page = client_for(assessor).post(
        url, {f"i{a1.pk}-points": "", f"i{a1.pk}-reason": "台账", f"i{a1.pk}-version": ""}
    )
    assert page.status_code == 200
    assert not Score.objects.exists()
    # The sheet: a row with a reason and no points is refused, not 0.
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=assessor, data=_sheet(s, assessor, {"A1": {"reason": "台账"}}))
    assert [(e.column, e.row) for e in refused.value.errors] == [("points", 2)]
    assert not Score.objects.exists()


def test_the_page_keeps_every_typed_value_after_an_error(scoring, client_for):
    s = scoring
    a1, b1 = s["items"]["A1"], s["items"]["B1"]
    page = client_for(s["assessors"][0]).post(
        reverse("score_community", args=["c", 2, "C111"]),
        {
            f"i{a1.pk}-points": "27.5",
            f"i{a1.pk}-reason": "台账缺一季度",
            f"i{a1.pk}-version": "",
            f"i{b1.pk}-points": "15",
            f"i{b1.pk}-reason": "",
            f"i{b1.pk}-version": "",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="27.5"' in html and ">台账缺一季度</textarea>" in html and 'value="15"' in html
    rows = {r["item"].code: r for r in page.context["rows"]}
    assert rows["B1"]["error"] and not rows["A1"]["error"]  # the error beside its own row
    assert not Score.objects.exists()


def test_a_per_occurrence_count_gives_the_points(scoring, client_for):
    s = scoring
    a1 = s["items"]["A1"]
    a1.kind, a1.per_occurrence, a1.floor = "per_occurrence", Decimal(2), Decimal(10)
    a1.save()
    assessor = s["assessors"][0]
    url = reverse("score_community", args=["c", 2, "C111"])
    client = client_for(assessor)
    response = client.post(
        url,
        {f"i{a1.pk}-occurrences": "3", f"i{a1.pk}-reason": "三处台账缺失", f"i{a1.pk}-version": ""},
    )
    assert response.status_code == 302
    score = Score.objects.get(item=a1)
    assert (score.occurrences, score.points) == (3, Decimal(24))
    assert "24" in client.get(url).content.decode()
    # Not below the floor: 15 occurrences of 2 from 30 give 10, not 0.
    response = client.post(
        url,
        {f"i{a1.pk}-occurrences": "15", f"i{a1.pk}-reason": "多处", f"i{a1.pk}-version": "1"},
    )
    assert response.status_code == 302
    score.refresh_from_db()
    assert (score.occurrences, score.points) == (15, Decimal(10))
    # The sheet takes the count in 扣分次数 the same way.
    import_sheet(
        actor=assessor,
        data=_sheet(s, assessor, {"A1": {"occurrences": 1, "points": None, "reason": "一处"}}),
    )
    score.refresh_from_db()
    assert (score.occurrences, score.points) == (1, Decimal(28))


def test_an_item_of_two_departments_is_scored_by_an_assessor_of_either(scoring, world):
    from tests.factories import person

    s = scoring
    fp = Department.objects.get(code="FP")
    only_fp = person("fponly", "assessor", world.d["C"], department=fp)
    a2 = s["items"]["A2"]  # a PSB item
    kw = {"round_": s["round"], "enrollment": s["enrollments"]["C111"], "item": a2}
    from civicmark.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        score_save(actor=only_fp, points=Decimal(30), **kw)
    assert not Score.objects.exists()
    a2.other_departments.add(fp)
    score_save(actor=only_fp, points=Decimal(30), **kw)
    assert Score.objects.get(item=a2).assessor == only_fp


def _veto_rows(data: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(data))["vetoes"]
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_the_vetoes_sheet_lists_the_vetoes_that_stand_and_lifts_one(scoring):
    from civicmark.scoring.models import VetoFinding

    s = scoring
    assessor = s["assessors"][0]
    v1 = s["standard"].vetoes.get(code="V1")
    round1 = s["campaign"].rounds.get(number=1)
    VetoFinding.objects.create(
        round=round1,
        enrollment=s["enrollments"]["C111"],
        veto=v1,
        assessor=assessor,
        reason="七月发现违反政策生育",
    )
    data = _sheet(s, assessor, {})
    book = load_workbook(io.BytesIO(data))
    assert [c.value for c in book["vetoes"][1]] == ["社区代码", "否决编号", "否决情形说明", "解除"]
    assert _veto_rows(data) == [("C111", "V1", "七月发现违反政策生育", None)]
    # Uploaded as exported: the veto stands already, nothing is recorded again.
    assert import_sheet(actor=assessor, data=data).vetoes == 0
    assert VetoFinding.objects.count() == 1
    # 解除 = 是 lifts it, the finding cell being the reason.
    book["vetoes"]["C2"].value = "已整改，经复查符合政策"
    book["vetoes"]["D2"].value = "是"
    out = io.BytesIO()
    book.save(out)
    assert import_sheet(actor=assessor, data=out.getvalue()).vetoes == 1
    lift = VetoFinding.objects.get(lifts=True)
    assert (lift.round, lift.reason) == (s["round"], "已整改，经复查符合政策")
    assert AuditEvent.objects.filter(action="veto.lifted", via="sheet").count() == 1
    assert _veto_rows(_sheet(s, assessor, {})) == []  # it stands no more


def test_a_sheet_without_the_new_columns_still_imports(scoring):
    """A sheet written before 评分标准, 扣分次数 and 解除 existed, with English headers."""
    from openpyxl import Workbook

    s = scoring
    book = Workbook()
    meta = book.active
    meta.title = "round"
    for row in (["key", "value"], ["campaign", "c"], ["round", 2], ["department", "FP"]):
        meta.append(row)
    scores = book.create_sheet("scores")
    scores.append(
        [
            "community_code",
            "community",
            "item_code",
            "item",
            "max_points",
            "points",
            "reason",
            "not_applicable",
            "version",
        ]
    )
    scores.append(["C111", "", "A1", "", 30, 28, "台账缺一季", None, None])
    book.create_sheet("vetoes").append(["community_code", "veto_code", "finding"])
    out = io.BytesIO()
    book.save(out)
    assert import_sheet(actor=s["assessors"][0], data=out.getvalue()).saved == 1
    assert Score.objects.get().points == Decimal(28)


def test_it_audits_a_batch_as_it_audits_one_event(world):
    """`record_many` writes its rows itself (one executemany, for a sheet's speed): each holds
    what `record` stores, JSON and an absent `before` (SQL NULL) included, on either database."""
    from django.db import transaction

    from civicmark.core import audit

    actor = person("auditor")
    given = dict(
        actor=actor,
        action="score.saved",
        object_type="score",
        object_ref="x" * 70,
        scope_path="C/T",
        summary="A1 社区",
        before=None,
        after={"points": "28.5", "not_applicable": False, "reason": "台账缺一季", "round": 2},
        via="sheet",
    )
    changed = {**given, "before": {"points": None, "occurrences": 3}}
    with transaction.atomic():
        audit.record(**given)
        audit.record(**changed)
    with transaction.atomic():
        audit.record_many([audit.Event(**given), audit.Event(**changed)])
    fields = [f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in ("id",)]
    rows = list(AuditEvent.objects.order_by("id").values(*fields))
    one, many = rows[:2], rows[2:]
    for row in rows:
        assert row.pop("public_id") and row.pop("at")
    assert many == one
    assert len({e.public_id for e in AuditEvent.objects.all()}) == 4
    assert AuditEvent.objects.filter(before__isnull=True).count() == 2  # NULL, not JSON null
    assert many[0]["object_ref"] == "x" * 64 and many[0]["actor_id"] == actor.pk
    assert many[1]["before"] == {"points": None, "occurrences": 3}


def test_it_hands_back_new_scores_as_they_are_stored(scoring):
    """The writer inserts new scores itself (one executemany): what it hands back to the page
    is the stored row, key included, and a second save of it goes by that key and version."""
    s = scoring
    assessor, enrollment, item = s["assessors"][0], s["enrollments"]["C111"], s["items"]["A1"]
    kw = dict(actor=assessor, round_=s["round"], enrollment=enrollment, item=item)
    saved = score_save(points=Decimal("28.5"), reason="台账缺一季", **kw)
    stored = Score.objects.get(pk=saved.pk)
    assert (stored.public_id, stored.points, stored.version, stored.reason) == (
        saved.public_id,
        Decimal("28.5"),
        1,
        "台账缺一季",
    )
    assert stored.updated_at == saved.updated_at and stored.occurrences is None
    assert not stored.not_applicable and stored.assessor == assessor
    again = score_save(points=Decimal(27), reason="台账缺两季", expected_version=1, **kw)
    assert again.pk == saved.pk and Score.objects.get(pk=saved.pk).version == 2
