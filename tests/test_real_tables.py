"""Real tables as officials lay them out (issue 15, item 4): the rules they use, read from the
workbook and YAML, validated on import at each sheet, row and column, shown on the standard's page."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from civicmark.core.errors import ImportRefused
from civicmark.standards import formats
from civicmark.standards.models import AwardLevel, Category, Item, Standard, VetoItem
from civicmark.standards.rules import (
    KINDS,
    CategoryData,
    ItemData,
    LevelData,
    StandardData,
    VetoData,
    check_methods,
    validate,
)
from civicmark.standards.services import standard_data, standard_import

from .test_standards import DEPARTMENTS, cells, default_yaml, snapshot

ITEM_HEADER = [
    "类别编号",
    "类别",
    "类别分值",
    "项目编号",
    "考核内容",
    "分值",
    "评分标准",
    "考核方式",
    "责任部门",
    "计分方式",
    "步长",
    "每次扣分",
    "最低得分",
    "不适用处理",
    "门槛分",
    "门槛效果",
]


def real_table(*, levels: bool = True) -> bytes:
    """A table laid out as a city office publishes it: title rows above each header, merged
    category cells, subtotal, total and note rows, Chinese headers, every item kind, a gate, a
    capping veto, a failing band (or, with levels=False, no award level at all)."""
    book = Workbook()
    ws = book.active
    ws.title = "标准"
    ws.append(["城市示范社区考核验收评分表（2026年版）"])
    ws.append(["键", "值"])
    for row in (
        ["标识", "real-table"],
        ["名称", "真实评分表"],
        ["版本", 1],
        ["总分", 100],
        ["达标分", 60],
        ["加分上限", 5],
        ["步长", 0.5],
    ):
        ws.append(row)
    ws.append(["注：分值单位为分。"])
    if levels:
        lv = book.create_sheet("等级")
        lv.append(["等级设置"])
        lv.append(["等级", "最低分", "是否达标"])
        lv.append(["不合格", 0, "否"])
        lv.append(["合格", 60, "是"])
        lv.append(["优秀", 90, "是"])
    it = book.create_sheet("评分表")
    it.append(["附件2  城市示范社区考核验收评分表"])  # row 1, merged across
    it.merge_cells("A1:P1")
    it.append([])  # row 2
    it.append(ITEM_HEADER)  # row 3
    gate_b3 = "限定等级:合格" if levels else "否决"
    rows: list[list[Any]] = [
        # row 4..6: category A, its cells merged down
        ["A", "组织建设", 40, "A1", "班子健全", 20, "不健全不得分", "查阅资料，实地查看", "ORG"]
        + ["全有全无", None, None, None, None, None, None],
        ["", "", "", "A2", "工作人员配备", 10, "每缺一人扣2分", "查看台账", "CIVIL、FP"]
        + ["按次扣分", None, 2, 0, None, None, None],
        ["", "", "", "A3", "群团组织", 10, "酌情扣分", "座谈", "ORG"]
        + ["评分", 0.1, None, None, "计满分", None, None],
        ["", "", "", "", "小计", 40, "", "", ""] + [None] * 7,  # row 7
        # row 8..10: category B
        [
            "B",
            "居民满意度",
            60,
            "B1",
            "居民满意度测评",
            60,
            "按满意率折算",
            "发放问卷、抽样电话回访",
        ]
        + ["PSB", "", None, None, None, "", 36, "不得表彰"],
        ["", "", "", "B2", "创新加分", 5, "有创新做法加分", "", "ORG"]
        + ["加分", None, None, None, None, None, None],
        ["", "", "", "B3", "负面事项减分", None, "每起扣1分", "", "FIN"]
        + ["减分", None, None, -5, None, -3, gate_b3],
        ["合计", "", "", "", "", 100, "", "", ""] + [None] * 7,  # row 11
        ["注：加分、减分项不计入类别分值。"],  # row 12
    ]
    for row in rows:
        it.append(row)
    for column in "ABC":
        it.merge_cells(f"{column}4:{column}6")
        it.merge_cells(f"{column}8:{column}10")
    vt = book.create_sheet("一票否决")
    vt.append(["一票否决事项"])
    vt.append(["编号", "否决情形", "责任部门", "否决效果"])
    vt.append(["V1", "发生重大安全责任事故", "PSB", "不达标"])
    vt.append(["V2", "群体性事件处置不力", "FP", "限定等级:合格" if levels else ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read(content: bytes) -> StandardData:
    return formats.read_xlsx(content)


def test_a_real_table_imports_to_the_rows_it_means(city):
    standard, changed = standard_import(actor=None, data=read(real_table()), division=city)
    assert changed
    assert (standard.total_points, standard.pass_threshold) == (100, 60)
    assert (standard.step, standard.bonus_cap) == (Decimal("0.5"), Decimal(5))
    assert [(c.code, c.name, c.points) for c in Category.objects.filter(standard=standard)] == [
        ("A", "组织建设", 40),
        ("B", "居民满意度", 60),
    ]
    items = {i.code: i for i in Item.objects.filter(standard=standard)}
    assert list(items) == ["A1", "A2", "A3", "B1", "B2", "B3"]
    a1, a2, a3, b1, b2, b3 = items.values()
    assert (a1.kind, a1.points, a1.category.code) == ("all_or_nothing", 20, "A")
    assert a1.check_words == "查阅资料，实地查看"
    assert (a1.check_methods, a1.check_method) == (["documents", "site_visit"], "documents")
    assert (a2.kind, a2.per_occurrence, a2.floor) == ("per_occurrence", 2, 0)
    assert a2.department.code == "CIVIL"
    assert [d.code for d in a2.other_departments.all()] == ["FP"]
    assert (a2.check_methods, a2.check_method) == (["documents"], "documents")
    assert (a3.kind, a3.step, a3.na_rule) == ("graded", Decimal("0.1"), "full")
    # Words that name no known method are kept, not refused.
    assert (a3.check_words, a3.check_methods, a3.check_method) == ("座谈", [], "")
    assert b1.check_words == "发放问卷、抽样电话回访"
    assert (b1.check_methods, b1.check_method) == (["survey"], "survey")
    assert (b1.gate_below, b1.gate_effect, b1.gate_level) == (36, "no_commendation", "")
    assert (b2.kind, b2.points, b2.category.code) == ("bonus", 5, "B")
    assert (b3.kind, b3.points, b3.floor) == ("penalty", 0, -5)
    assert (b3.gate_below, b3.gate_effect, b3.gate_level) == (-3, "cap", "合格")
    assert (b2.check_words, b2.check_methods, b2.check_method) == ("", [], "")
    assert list(AwardLevel.objects.filter(standard=standard).values_list("name", "passing")) == [
        ("不合格", False),
        ("合格", True),
        ("优秀", True),
    ]
    assert list(
        VetoItem.objects.filter(standard=standard).values_list("code", "effect", "cap_level")
    ) == [("V1", "fail", ""), ("V2", "cap", "合格")]


def test_a_standard_may_have_no_award_level(city):
    data = read(real_table(levels=False))
    assert data.levels == []
    standard, _ = standard_import(actor=None, data=data, division=city, publish=True)
    assert not AwardLevel.objects.filter(standard=standard).exists()
    assert Item.objects.get(standard=standard, code="B3").gate_effect == "veto"
    # The workbook written back has an empty levels sheet, and reads back the same.
    for chinese in (True, False):
        again = read(formats.write_xlsx(standard_data(standard), chinese=chinese))
        assert again.comparable() == standard_data(standard).comparable()


@pytest.mark.parametrize("chinese", [True, False])
def test_a_real_table_round_trips_through_the_workbook_and_yaml(city, chinese):
    standard, _ = standard_import(actor=None, data=read(real_table()), division=city)
    stored = standard_data(standard)
    assert stored.comparable() == read(real_table()).comparable()
    first = formats.write_xlsx(stored, chinese=chinese)
    assert read(first).comparable() == stored.comparable()
    before = snapshot()
    again, changed = standard_import(actor=None, data=read(first), division=city)
    assert not changed and snapshot() == before
    assert cells(formats.write_xlsx(standard_data(again), chinese=chinese)) == cells(first)
    text = formats.to_yaml(stored)
    assert formats.from_yaml(text).comparable() == stored.comparable()
    assert formats.to_yaml(formats.from_yaml(text)) == text
    assert "gate_effect: cap:合格" in text and "- CIVIL\n" in text and "passing: false" in text


def test_exports_write_chinese_headers_by_default(city):
    standard, _ = standard_import(actor=None, data=read(real_table()), division=city)
    sheets = cells(formats.write_xlsx(standard_data(standard)))
    assert {"标准", "等级", "评分表", "一票否决", "说明"} <= set(sheets)
    header = sheets["评分表"][0]
    assert header[:3] == ("类别编号", "类别", "类别分值") and "门槛效果" in header
    a2 = next(r for r in sheets["评分表"] if r[4] == "A2")
    assert "CIVIL、FP" in a2 and "按次扣分" in a2
    assert sheets["等级"][1] == ("不合格", 0, "否")
    assert sheets["一票否决"][2][3] == "限定等级:合格"


def test_an_old_workbook_and_the_demo_yaml_import_unchanged(city):
    """A workbook written before the rules existed: no new column, sheet or key."""
    data = formats.from_yaml(default_yaml("en"))
    book = load_workbook(io.BytesIO(formats.write_xlsx(data, chinese=False)))
    del book["help"]
    book["items"].delete_cols(12, 7)
    book["levels"].delete_cols(3)
    book["vetoes"].delete_cols(4)
    book["standard"].delete_rows(7, 2)
    buffer = io.BytesIO()
    book.save(buffer)
    old = read(buffer.getvalue())
    assert old.comparable() == data.comparable()
    standard, _ = standard_import(actor=None, data=old, division=city)
    items = Item.objects.filter(standard=standard)
    assert {i.kind for i in items} == {"graded"} and {i.na_rule for i in items} == {"exclude"}
    assert all(i.check_methods == [i.check_method] and i.check_method for i in items)
    assert not items.exclude(gate_effect="").exists()
    assert set(AwardLevel.objects.filter(standard=standard).values_list("passing", flat=True)) == {
        True
    }
    assert (standard.step, standard.bonus_cap) == (Decimal("0.5"), None)
    assert formats.to_yaml(standard_data(standard)).encode() == default_yaml("en")


def test_method_words_map_in_order_once_each():
    assert check_methods("发放问卷、抽样电话回访") == ["survey"]
    assert check_methods("查阅资料，实地查看") == ["documents", "site_visit"]
    assert check_methods("现场查看台账；数据比对、满意度测评") == [
        "site_visit",
        "documents",
        "data",
        "survey",
    ]
    assert check_methods("documents") == ["documents"]
    assert check_methods("metadata") == [] and check_methods("听取汇报") == []


# --- Each rule refused at its place --------------------------------------------------------


def _item(data: StandardData, code: str):  # noqa: ANN202
    return next(i for c in data.categories for i in c.items if i.code == code)


def _level(data: StandardData, which: str, **changes: Any) -> None:
    data.levels = [lv._replace(**changes) if lv.name == which else lv for lv in data.levels]


def _set(which: str, **changes: object):  # noqa: ANN202
    def mutate(data: StandardData) -> None:
        item = _item(data, which)
        for key, value in changes.items():
            setattr(item, key, value)

    return mutate


def _veto(which: str, **changes: object):  # noqa: ANN202
    def mutate(data: StandardData) -> None:
        veto = next(v for v in data.vetoes if v.code == which)
        for key, value in changes.items():
            setattr(veto, key, value)

    return mutate


def _standard(**changes: object):  # noqa: ANN202
    def mutate(data: StandardData) -> None:
        for key, value in changes.items():
            setattr(data, key, value)

    return mutate


RULES = [
    ("points off the step grid", _set("A1", points=Decimal("20.3")), ("items", 4, "points")),
    ("item step not allowed", _set("A3", step=Decimal("0.2")), ("items", 6, "step")),
    ("standard step not allowed", _standard(step=Decimal("0.25")), ("standard", 9, "step")),
    ("all or nothing worth nothing", _set("A1", points=Decimal(0)), ("items", 4, "points")),
    (
        "per occurrence without a deduction",
        _set("A2", per_occurrence=None),
        ("items", 5, "per_occurrence"),
    ),
    ("per occurrence floor above points", _set("A2", floor=Decimal(12)), ("items", 5, "floor")),
    (
        "per occurrence deduction off the grid",
        _set("A2", per_occurrence=Decimal("0.3")),
        ("items", 5, "per_occurrence"),
    ),
    ("bonus without a cap", _standard(bonus_cap=None), ("standard", 8, "bonus_cap")),
    ("bonus worth nothing", _set("B2", points=Decimal(0)), ("items", 9, "points")),
    ("penalty with a floor above zero", _set("B3", floor=Decimal(2)), ("items", 10, "floor")),
    ("penalty without a floor", _set("B3", floor=None), ("items", 10, "floor")),
    ("penalty with points", _set("B3", points=Decimal(5)), ("items", 10, "points")),
    ("floor on a graded item", _set("A3", floor=Decimal(1)), ("items", 6, "floor")),
    ("gate above the maximum", _set("B1", gate_below=Decimal(70)), ("items", 8, "gate_below")),
    ("gate below zero", _set("B1", gate_below=Decimal(-1)), ("items", 8, "gate_below")),
    ("gate effect without threshold", _set("B1", gate_below=None), ("items", 8, "gate_below")),
    ("gate threshold without effect", _set("B1", gate_effect=""), ("items", 8, "gate_effect")),
    (
        "gate capping at an unknown level",
        _set("B3", gate_level="良好"),
        ("items", 10, "gate_effect"),
    ),
    (
        "gate capping at a failing level",
        _set("B3", gate_level="不合格"),
        ("items", 10, "gate_effect"),
    ),
    ("unknown kind", _set("A1", kind="weighted"), ("items", 4, "kind")),
    ("unknown N/A rule", _set("A3", na_rule="half"), ("items", 6, "na_rule")),
    (
        "unknown department in the list",
        _set("A2", other_departments=["FP", "NOPE"]),
        ("items", 5, "department"),
    ),
    (
        "a department listed twice",
        _set("A2", other_departments=["CIVIL"]),
        ("items", 5, "department"),
    ),
    (
        "bonus counted toward the category",
        _set("A3", kind="bonus"),
        ("items", 4, "points"),  # category A no longer adds up (its first row)
    ),
    ("veto effect unknown", _veto("V1", effect="explode"), ("vetoes", 3, "effect")),
    ("veto capping at an unknown level", _veto("V2", cap_level="良好"), ("vetoes", 4, "effect")),
    ("veto capping without a level", _veto("V2", cap_level=""), ("vetoes", 4, "effect")),
    (
        "a passing level below the pass mark",
        lambda d: _level(d, "合格", min_score=Decimal(50)),
        ("levels", 4, "min_score"),
    ),
    (
        "a failing level above the pass mark",
        lambda d: _level(d, "不合格", min_score=Decimal(70)),
        ("levels", 3, "min_score"),
    ),
    ("a level given twice", lambda d: _level(d, "优秀", name="合格"), ("levels", 5, "name")),
    # Longer than the fields hold: refused here, not by PostgreSQL with a server error.
    ("an item code too long", _set("A1", code="A" * 33), ("items", 4, "item_code")),
    ("a level name too long", lambda d: _level(d, "优秀", name="优" * 65), ("levels", 5, "name")),
    ("a cap at a long name", _set("B3", gate_level="合" * 300), ("items", 10, "gate_effect")),
]


@pytest.mark.parametrize(("label", "mutate", "place"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_is_refused_at_its_place(city, label, mutate, place):
    data = read(real_table())
    assert validate(data, set(DEPARTMENTS)) == []
    mutate(data)
    errors = validate(data, set(DEPARTMENTS))
    assert place in {(e.sheet, e.row, e.column) for e in errors}, (label, errors)
    assert all(e.message for e in errors)
    before = snapshot()
    with pytest.raises(ImportRefused):
        standard_import(actor=None, data=data, division=city)
    assert snapshot() == before


def _cell(sheet: str, cell: str, value: object) -> bytes:
    book = load_workbook(io.BytesIO(real_table()))
    book[sheet][cell] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


WORDS = [
    ("an unknown kind word", "评分表", "J4", "随便", ("评分表", 4, "kind"), "随便"),
    ("an unknown N/A word", "评分表", "N6", "不管", ("评分表", 6, "na_rule"), "不管"),
    (
        "a cap without a level",
        "评分表",
        "P10",
        "限定等级",
        ("评分表", 10, "gate_effect"),
        "限定等级",
    ),
    ("an unknown gate word", "评分表", "P8", "警告", ("评分表", 8, "gate_effect"), "警告"),
    ("an unknown veto effect", "一票否决", "D3", "罚款", ("一票否决", 3, "effect"), "罚款"),
    ("a passing word", "等级", "C4", "也许", ("等级", 4, "passing"), "也许"),
    ("two decimals", "评分表", "L5", 0.25, ("评分表", 5, "per_occurrence"), "0.25"),
    ("text in a step", "评分表", "K6", "一", ("评分表", 6, "step"), "一"),
]


@pytest.mark.parametrize(
    ("label", "sheet", "cell", "value", "place", "shown"), WORDS, ids=[w[0] for w in WORDS]
)
def test_a_word_the_table_does_not_know_is_refused_at_its_cell(
    label, sheet, cell, value, place, shown
):
    with pytest.raises(ImportRefused) as refused:
        read(_cell(sheet, cell, value))
    found = {(e.sheet, e.row, e.column): e for e in refused.value.errors}
    assert place in found, (label, refused.value.errors)
    assert shown in found[place].message  # what was typed is shown back


def test_a_new_category_without_a_code_is_refused_at_its_row():
    book = load_workbook(io.BytesIO(real_table()))
    book["评分表"].unmerge_cells("A8:A10")
    book["评分表"]["A8"] = None
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRefused) as refused:
        read(buffer.getvalue())
    assert ("评分表", 8, "category_code") in {
        (e.sheet, e.row, e.column) for e in refused.value.errors
    }


def test_the_yaml_refuses_the_same_rules(city):
    standard, _ = standard_import(actor=None, data=read(real_table()), division=city)
    text = formats.to_yaml(standard_data(standard))
    with pytest.raises(ImportRefused) as refused:
        formats.from_yaml(text.replace("kind: bonus", "kind: weighted"))
    assert any(e.column == "kind" and "weighted" in e.message for e in refused.value.errors)
    data = formats.from_yaml(text.replace("floor: '-5'", "floor: '5'"))
    assert any(e.column == "floor" for e in validate(data, set(DEPARTMENTS)))


# --- The standard's page ---------------------------------------------------------------------


def test_the_page_shows_the_rules_in_plain_words(city, world, client_for):
    standard, _ = standard_import(actor=None, data=read(real_table()), division=city)
    client = client_for(world.users["viewer"])
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(
        reverse("standard_detail", args=[standard.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    for text in (
        "发放问卷、抽样电话回访",
        "查阅资料，实地查看",
        "座谈",
        "All or nothing: 0 or 20.",
        "2 off each occurrence, not below 0.",
        "When it does not apply: counted as full marks.",
        "Below 36: the community cannot be commended.",
        "Below -3: the level is at most 合格.",
        "Penalty: down to -5",
        "Bonus: up to 5 above the total",
        "Bonus items add at most 5 points above the total",
        "not passing",
        "The level is at most 合格.",
        "each scores the item",
    ):
        assert text in page, text
    assert Standard.objects.count() == 1
    standard_none, _ = standard_import(
        actor=None,
        data=dataclasses.replace(read(real_table(levels=False)), slug="no-levels"),
        division=city,
    )
    page = client.get(reverse("standard_detail", args=[standard_none.public_id])).content.decode()
    assert 'data-testid="no-levels"' in page


def test_the_export_command_writes_chinese_headers_unless_told_english(city, tmp_path):
    from django.core.management import call_command

    standard_import(actor=None, data=read(real_table()), division=city)
    for flags, sheet in (([], "评分表"), (["--english"], "items")):
        path = tmp_path / f"t{len(flags)}.xlsx"
        call_command("export-standard", "real-table", str(path), *flags)
        content = path.read_bytes()
        assert sheet in cells(content)
        assert read(content).comparable() == read(real_table()).comparable()


@pytest.mark.parametrize(
    "text",
    [
        "slug: x\ncategories: [1]\n",
        "slug: x\nlevels: abc\n",
        "slug: x\ncategories:\n- code: A\n  items: [3]\n",
        "slug: x\nvetoes: {a: 1}\n",
    ],
)
def test_a_yaml_of_the_wrong_shape_is_refused_plainly(world, client_for, city, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.users["city_admin"])
    response = client.post(
        reverse("standard_import"), {"file": SimpleUploadedFile("s.yaml", text.encode())}
    )
    assert response.status_code == 422
    assert 'data-testid="import-errors"' in response.content.decode()
    assert not Standard.objects.exists()


# --- Any valid standard round-trips ----------------------------------------------------------


@st.composite
def real_standards(draw):  # noqa: ANN001, ANN201, C901
    """Random valid standards using every kind, step, N/A rule, gate, veto effect and band."""
    step = draw(st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal(1)]))
    levels = [LevelData("合格", Decimal(60)), LevelData("优秀", Decimal(90))]
    if draw(st.booleans()):
        levels.insert(0, LevelData("不合格", Decimal(0), False))
    if draw(st.booleans()):
        levels = []
    passing = [lv.name for lv in levels if lv.passing]
    categories, total, has_bonus = [], Decimal(0), False
    for c in range(draw(st.integers(min_value=1, max_value=3))):
        items = []
        for n in range(draw(st.integers(min_value=1, max_value=5))):
            kind = draw(st.sampled_from(KINDS))
            own = draw(st.sampled_from([None, Decimal("0.1"), Decimal(1)]))
            grid = own or step
            points = grid * draw(st.integers(min_value=1, max_value=40))
            item = ItemData(f"C{c}I{n}", f"内容 {c}-{n}", points, "评分标准", "", "ORG", "")
            item.kind, item.step = kind, own
            item.check = draw(
                st.sampled_from(
                    ["", "查阅资料，实地查看", "发放问卷、抽样电话回访", "座谈", "data"]
                )
            )
            item.other_departments = draw(st.sampled_from([[], ["FP"], ["FP", "PSB"]]))
            item.na_rule = draw(st.sampled_from(["exclude", "full"]))
            if kind == "per_occurrence":
                item.per_occurrence = grid * draw(st.integers(min_value=1, max_value=5))
                item.floor = draw(st.sampled_from([None, Decimal(0), points]))
            if kind == "penalty":
                item.points, item.floor = Decimal(0), -grid * draw(st.integers(1, 20))
            has_bonus = has_bonus or kind == "bonus"
            effect = draw(st.sampled_from(["", "veto", "no_commendation", "cap"]))
            if effect == "cap" and not passing:
                effect = "veto"
            if effect:
                low = item.floor if kind == "penalty" else Decimal(0)
                high = Decimal(0) if kind == "penalty" else points
                item.gate_effect = effect
                item.gate_below = draw(
                    st.decimals(min_value=low, max_value=high, places=2, allow_nan=False)
                )
                item.gate_level = draw(st.sampled_from(passing)) if effect == "cap" else ""
            items.append(item)
        counted = sum((i.points for i in items if i.counted), Decimal(0))
        total += counted
        categories.append(CategoryData(f"C{c}", f"类别{c}", counted, None, items))
    if total == 0:
        categories[0].items[0].kind = "graded"
        categories[0].items[0].per_occurrence = categories[0].items[0].floor = None
        categories[0].items[0].gate_below, categories[0].items[0].gate_effect = None, ""
        categories[0].items[0].gate_level = ""
        categories[0].items[0].points = categories[0].points = Decimal(100)
        total = sum((c.points for c in categories), Decimal(0))
    threshold = (total * Decimal("0.6")).quantize(Decimal("0.1"))
    levels = [
        lv._replace(
            min_score=threshold if lv.name == "合格" else total if lv.passing else Decimal(0)
        )
        for lv in levels
    ]
    veto_effect = draw(st.sampled_from(["fail", "cap"])) if passing else "fail"
    vetoes = [
        VetoData("V1", "重大事故", "PSB"),
        VetoData(
            "V2",
            "其他",
            "FP",
            effect=veto_effect,
            cap_level=passing[0] if veto_effect == "cap" else "",
        ),
    ]
    return StandardData(
        "random", "随机", 1, total, threshold, levels, [], categories, vetoes,
        step=step, bonus_cap=Decimal(5) if has_bonus else None,
    )  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(real_standards(), st.booleans())
def test_any_valid_standard_round_trips_through_the_workbook_and_yaml(data, chinese):
    assert validate(data, set(DEPARTMENTS)) == []
    assert formats.read_xlsx(formats.write_xlsx(data, chinese=chinese)).comparable() == (
        data.comparable()
    )
    assert formats.from_yaml(formats.to_yaml(data)).comparable() == data.comparable()


def test_a_refusal_shows_back_the_value_given():
    data = read(real_table())
    _item(data, "A1").points = Decimal("20.3")
    _item(data, "A2").floor = Decimal(12)
    _item(data, "B3").floor = Decimal(2)
    with translation.override("en"):
        messages = " ".join(e.message for e in validate(data, set(DEPARTMENTS)))
    assert "20.3" in messages and "12" in messages and "(2)" in messages


def test_a_one_cell_row_is_a_note_only_when_it_reads_as_one():
    from civicmark.standards.formats import _is_note

    for note in ("注：本表满分100分。", "注1. 加分项", "说明", "备注：无", "Note: none"):
        assert _is_note([note, "", ""]), note
    for text in ("注册登记", "notebook", "说明文字", ""):
        assert not _is_note([text, "", ""]), text
    assert not _is_note(["注：", "A1"])


def test_a_new_draft_keeps_every_rule(city):
    from civicmark.standards.services import standard_new_draft

    standard, _ = standard_import(actor=None, data=read(real_table()), division=city, publish=True)
    draft = standard_new_draft(actor=None, standard=standard)
    old, new = standard_data(standard), standard_data(draft)
    assert draft.version == 2 and new.comparable()[3:] == old.comparable()[3:]
    assert [
        d.code for d in Item.objects.get(standard=draft, code="A2").other_departments.all()
    ] == ["FP"]


def test_a_running_number_column_and_headers_wrapped_in_their_cells_are_read():
    """Real tables put a 序号 column first and wrap long headers onto two lines in the cell: both
    were refused ("Unknown column")."""
    book = load_workbook(io.BytesIO(real_table()))
    sheet = book["评分表"]
    for merged in list(sheet.merged_cells.ranges):  # openpyxl does not move merges with columns
        sheet.unmerge_cells(str(merged))
    sheet.insert_cols(1)
    sheet.cell(row=3, column=1, value="序号")
    items = [r for r in range(4, sheet.max_row + 1) if sheet.cell(row=r, column=5).value]
    for n, row in enumerate(items, start=1):  # only the item rows are numbered
        sheet.cell(row=row, column=1, value=n)
    title = sheet.cell(row=3, column=6).value
    sheet.cell(row=3, column=6, value=f"{title[:2]}\n{title[2:]}")
    buffer = io.BytesIO()
    book.save(buffer)
    assert read(buffer.getvalue()).comparable() == read(real_table()).comparable()
