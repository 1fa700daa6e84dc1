"""The typical-case library (10.1.2), training packs and sessions (6.2) and the archive workflow (10.1.1):
de-identification of every kind of personal data, Chinese search and ranking, marking history, exports
that open and carry no personal data, archiving through the rule engine."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from db.audit import search
from db.importer import import_files
from db.library import (LibraryFilters, LibraryRefused, archive_cases, archive_queue, current_mark, library_case,
                        mark_history, mark_typical, record_training, search_library, trainings, unmark_typical)
from db.models import Case, Obligation
from db.queries import case_obligations
from db.session import session_scope
from services.board import export_xlsx
from domain.deid import scrub
from services.library_view import RIGHT, WRONG, pack_docx, pack_rows, story
from domain.textsearch import highlight_markdown, rank, segments, tokens
from tests.helpers import case_row, contact_row, write_csv

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------- de-identification

@pytest.mark.parametrize("text, expected, kind", [
    ("客户手机13912345678一直无法接通", "客户手机[手机号]一直无法接通", "mobile"),
    ("请回拨 +86 139-1234-5678 或 139 1234 5678", "请回拨 [手机号] 或 [手机号]", "mobile"),
    ("家中固话0523-86221234经常杂音，办公电话(0523)86225678", "家中固话[固话]经常杂音，办公电话[固话]", "landline"),
    ("座机：86221234无拨号音", "座机：[固话]无拨号音", "landline"),
    ("客户身份证号32120219850312123X，要求核实实名", "客户身份证号[身份证号]，要求核实实名", "id_card"),
    ("老身份证321202850312123仍在使用", "老身份证[身份证号]仍在使用", "id_card"),
    ("扣款银行卡6222021234567890123，另一张 6217 0000 1000 1234", "扣款银行卡[银行卡号]，另一张 [银行卡号]", "bank_card"),
    ("发票请发到wang.xiaoming@163.com", "发票请发到[邮箱]", "email"),
    ("宽带账号：tz052386221234 经常掉线", "宽带账号：[账号] 经常掉线", "account"),
    ("营业员工号A10086态度差", "营业员工号[工号]态度差", "staff_no"),
    ("家住海陵区凤凰路88号3栋2单元501室，信号很差", "家住海陵区[地址]，信号很差", "address"),
    ("装维地址：泰州市姜堰区三水街道锦绣花园12栋1单元302室", "装维地址：泰州市姜堰区三水街道[地址]", "address"),
    ("客户反映在兴化市昭阳镇英武村5组18号附近没有信号", "客户反映在兴化市昭阳镇[地址]附近没有信号", "address"),
])
def test_each_kind_of_personal_data_is_replaced_by_its_placeholder(text, expected, kind):
    result = scrub(text)
    assert result.text == expected
    assert kind in result.kinds


def test_the_customers_name_is_removed_wherever_it_appears():
    text = "王小明来电称信号差。王先生要求赔偿，小明表示已多次投诉；处理人李娜已回访。"
    out = scrub(text, ["王小明"])
    assert out.text == "[姓名]来电称信号差。[姓名]要求赔偿，[姓名]表示已多次投诉；处理人李娜已回访。"
    assert out.kinds == ("name",)


def test_typed_lists_split_on_chinese_and_western_separators():
    from services.library_view import split_items

    assert split_items("张三、李四，王五\n赵六, 张三 ,") == ["张三", "李四", "王五", "赵六"]
    assert split_items("") == [] and split_items(None) == []


def test_monthly_training_counts_and_the_matching_line():
    from zoneinfo import ZoneInfo

    from services.library_view import matching_line, training_months

    sh = ZoneInfo("Asia/Shanghai")
    sessions = [{"held_at": datetime(2026, 2, 28, 17, 0, tzinfo=timezone.utc), "attendees": ["甲", "乙"]},  # 1 March local
                {"held_at": datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc), "attendees": ["丙"]},
                {"held_at": datetime(2026, 2, 10, 6, 0, tzinfo=timezone.utc), "attendees": ["丁"]}]
    months = training_months(sessions, sh)
    assert months.to_dict("records") == [{"month": "2026-02", "sessions": 1, "attendees": 1},
                                         {"month": "2026-03", "sessions": 2, "attendees": 3}]
    text = "总结\n教训\n网络\n宽带断网\n客户家庭宽带频繁断线，光猫指示灯闪红。"
    assert matching_line(text, ["宽带"]) == "客户家庭宽带频繁断线，光猫指示灯闪红。"
    assert matching_line(text, ["资费"]) is None


def test_ordinary_numbers_are_left_alone():
    text = "工单TZ20261129040000043于2026-11-02 10:00回访，套餐128元/月，基站9342号扇区，退费58.5元。"
    assert scrub(text).text == text and scrub(text).kinds == ()
    assert scrub(None).text == "" and scrub("").kinds == ()


# ---------------------------------------------------------------- search

def test_chinese_segmentation_and_ranking():
    assert "宽带" in tokens("家庭宽带频繁断网") and "的" not in tokens("家里的信号")
    docs = [(1, " ".join(tokens("宽带断网 宽带断网 光猫红灯 入户光缆弯折"))),
            (2, " ".join(tokens("资费争议 流量费 宽带 提了一句"))), (3, " ".join(tokens("营业厅服务态度差")))]
    ranked = rank("宽带断网", docs)
    assert [d for d, _ in ranked] == [1, 2]
    assert rank("不存在的词语组合", docs) == []
    assert segments("家庭宽带断网", ["宽带", "断网"]) == [("家庭", False), ("宽带断网", True)]
    assert highlight_markdown("宽带*断网", ["宽带"]) == ":orange-background[宽带]\\*断网"


# ---------------------------------------------------------------- a small library

def rows():
    base = dict(received_at="2026-03-01 09:00", promised_reply_at="2026-03-02 09:00", decision="已处理",
                survey_at="2026-03-03 10:00", closed_at="2026-03-03 12:00", satisfaction="satisfied")
    return [
        case_row("L-1", subcategory="宽带断网", customer_name="王小明", customer_phone="13812345678",
                 description="王小明家中宽带频繁断网，光猫红灯，回拨13812345678；家住海陵区凤凰路88号3栋2单元501室。", **base),
        case_row("L-2", category="business", subcategory="资费争议", customer_name="陈静", customer_phone="13900001111",
                 description="陈女士对流量费有异议，顺带提到宽带偶尔慢。", **{**base, "satisfaction": "dissatisfied",
                                                                 "dissatisfaction_cause": "补偿不够"}),
        case_row("L-3", category="service", subcategory="营业厅服务态度", customer_name="赵强", customer_phone="13700002222",
                 description="营业员态度冷淡。", **{**base, "decision": ""}),
        case_row("L-4", received_at="2026-03-01 09:00", description="未办结的工单"),
    ]


@pytest.fixture
def library(db_url, tmp_path):
    cases = write_csv(tmp_path / "cases.csv", rows())
    contacts = write_csv(tmp_path / "contacts.csv", [
        contact_row("L-1", "2026-03-01 10:00", "first", note="已致电王先生 13812345678"),
        contact_row("L-1", "2026-03-02 08:00", "final"), contact_row("L-2", "2026-03-01 10:00", "first"),
        contact_row("L-2", "2026-03-02 08:00", "final"), contact_row("L-3", "2026-03-01 10:00", "first"),
        contact_row("L-3", "2026-03-02 08:00", "final")])
    assert import_files(cases, contacts, now=NOW).ok
    with session_scope(db_url) as s:
        mark_typical(s, "L-1", version(s, "L-1"), "宽带断网类：先查光猫和入户光缆，当天上门修复并减免断网天数的费用。",
                     "断网投诉要当天响应，王小明这类老客户更要主动回访。", ["宽带", "上门维修"], ["8.3.5"], "good", "trainer", NOW)
        mark_typical(s, "L-2", version(s, "L-2"), "资费争议：先解释计费规则，再给出可选补偿。", "", ["资费"],
                     ["9.2"], "bad", "trainer", NOW)
    return db_url


def version(s, case_no):
    return s.scalar(select(Case.version).where(Case.case_no == case_no))


def test_a_chinese_query_finds_the_right_cases_ranked_with_matches_highlightable(library):
    with session_scope(library) as s:
        found = search_library(s, LibraryFilters(query="宽带断网"))
        assert [e["case_no"] for e in found] == ["L-1", "L-2"]  # L-2 only mentions broadband in passing
        assert found[0]["score"] > found[1]["score"]
        assert search_library(s, LibraryFilters(query="营业厅")) == []  # L-3 is not in the library
        assert [e["case_no"] for e in search_library(s, LibraryFilters(tags=["资费"]))] == ["L-2"]
        assert [e["case_no"] for e in search_library(s, LibraryFilters(clauses=["8.3.5"]))] == ["L-1"]
        assert [e["case_no"] for e in search_library(s, LibraryFilters(example="bad"))] == ["L-2"]
        assert [e["case_no"] for e in search_library(s, LibraryFilters(outcome="satisfied"))] == ["L-1"]
        assert [e["case_no"] for e in search_library(s, LibraryFilters(categories=["business"]))] == ["L-2"]


def test_the_library_carries_no_personal_data(library):
    with session_scope(library) as s:
        entries = search_library(s, LibraryFilters())
        rec = library_case(s, "L-1")
    text = " ".join(e["library_text"] + e["summary"] + e["lesson"] for e in entries)
    text += " ".join(str(v) for v in rec.values() if isinstance(v, str))
    text += " ".join(c["note"] or "" for c in rec["contacts"]) + rec["mark"]["summary"] + rec["mark"]["lesson"]
    for secret in ("王小明", "13812345678", "凤凰路88号", "王先生", "陈静", "陈女士"):
        assert secret not in text
    assert "[姓名]" in rec["mark"]["lesson"] and "[手机号]" in rec["contacts"][0]["note"]
    assert rec["customer_name"] is None and rec["customer_phone"] is None


def test_marking_keeps_history_and_unmarking_leaves_the_case(library):
    with session_scope(library) as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == "L-2"))
        mark_typical(s, "L-2", version(s, "L-2"), "资费争议（修订）：解释规则并给出两种补偿方案。", "", ["资费"], [], "good",
                     "lead", NOW)
    with session_scope(library) as s:
        unmark_typical(s, "L-2", version(s, "L-2"), "lead", NOW)
    with session_scope(library) as s:
        history = mark_history(s, case_id)
        assert [h["end_reason"] for h in history] == ["unmarked", "edited"]
        assert history[0]["summary"].startswith("资费争议（修订）") and not any(h["active"] for h in history)
        assert current_mark(s, case_id) is None
        assert s.scalar(select(Case.typical).where(Case.id == case_id)) is False
        assert [e["case_no"] for e in search_library(s, LibraryFilters())] == ["L-1"]
        assert [e["action"] for e in search(s, key="L-2")][:3] == ["unmark_typical", "mark_typical", "mark_typical"]


def test_marking_needs_a_summary_and_a_current_version(library):
    with session_scope(library) as s:
        stale = version(s, "L-3")
        with pytest.raises(LibraryRefused, match="summary"):
            mark_typical(s, "L-3", stale, "  ", "", [], [], None, "lead", NOW)
        with pytest.raises(LibraryRefused, match="not a clause"):
            mark_typical(s, "L-3", stale, "态度问题", "", [], ["99.9"], None, "lead", NOW)
    with session_scope(library) as s:
        mark_typical(s, "L-3", stale, "态度问题：当事人道歉并纳入考核。", "", [], [], "bad", "lead", NOW)
    with pytest.raises(LibraryRefused, match="changed by someone else"):
        with session_scope(library) as s:
            mark_typical(s, "L-3", stale, "另一个人的版本", "", [], [], "good", "trainer", NOW)
    with session_scope(library) as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == "L-3"))
        assert current_mark(s, case_id)["summary"].startswith("态度问题")


def test_imported_typical_cases_enter_the_library(db_url, tmp_path):
    src = write_csv(tmp_path / "c.csv", [case_row("IMP-1", typical="true", typical_summary="网络类典型：夜间扩容。",
                                                  description="客户13812345678反映")])
    assert import_files(src).ok  # as the command line and the import page call it: no explicit "now"
    with session_scope(db_url) as s:
        (entry,) = search_library(s, LibraryFilters(query="扩容"))
        assert entry["case_no"] == "IMP-1" and entry["marked_by"] == "import"
        assert "13812345678" not in entry["library_text"] and "[手机号]" in entry["library_text"]


def test_the_story_follows_appendix_a_with_what_went_right_and_wrong(library):
    with session_scope(library) as s:
        rec = library_case(s, "L-1")
        steps = story(rec, case_obligations(s, rec["id"], NOW), NOW)
    assert [x["step"] for x in steps] == ["受理登记", "聆听并记录问题", "直接处理", "答复客户", "满意度回访", "办结", "归档"]
    assert [x["done"] for x in steps] == [True] * 6 + [False]
    verdicts = {v["rule_id"]: v["kind"] for st in steps for v in st["verdicts"]}
    assert verdicts["SLA-FIRST-CONTACT"] == RIGHT and verdicts["REC-DECISION"] == RIGHT
    assert verdicts["ARC-ARCHIVE"] == WRONG  # closed on 3 March, not archived by the 20th
    assert "[地址]" in steps[0]["text"]


def test_a_training_pack_opens_and_contains_no_personal_data(library):
    with session_scope(library) as s:
        cases = []
        for case_no in ("L-1", "L-2"):
            rec = library_case(s, case_no)
            rec["obligations"] = case_obligations(s, rec["id"], NOW)
            cases.append(rec)
        entries = search_library(s, LibraryFilters())
    docx_bytes = pack_docx("三月培训讲义", cases, NOW)
    doc = Document(io.BytesIO(docx_bytes))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "三月培训讲义" in text and "L-1" in text and "宽带断网类" in text and "[姓名]" in text
    raw = zipfile.ZipFile(io.BytesIO(docx_bytes)).read("word/document.xml").decode()
    xlsx = load_workbook(io.BytesIO(export_xlsx({"培训包": pack_rows(entries)})))
    cells = " ".join(str(c.value) for row in xlsx.active.iter_rows() for c in row if c.value is not None)
    assert "L-2" in cells and "资费争议" in cells
    for secret in ("王小明", "13812345678", "陈静", "13900001111", "凤凰路88号"):
        assert secret not in raw and secret not in cells


def test_a_control_character_in_a_typical_case_does_not_stop_the_word_pack(library):
    """#28 M11: a summary with a vertical tab or \x01 (pasted from another system) made python-docx
    refuse the whole pack; the coaching and 我的质检 packs are made by the same writer."""
    with session_scope(library) as s:
        rec = library_case(s, "L-1")
        rec["obligations"] = case_obligations(s, rec["id"], NOW)
    rec["mark"] = {**rec["mark"], "summary": "先查\x0b线路\x01再回访\ufffe", "lesson": "\x1f要点"}
    doc = Document(io.BytesIO(pack_docx("培训\x08讲义", [rec], NOW)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "先查 线路 再回访" in text and "培训 讲义" in text and " 要点" in text


def test_training_sessions_are_recorded_and_checked(library):
    with session_scope(library) as s:
        with pytest.raises(LibraryRefused, match="attendees"):
            record_training(s, NOW, "周老师", "宽带投诉处理", [" "], ["L-1"], "trainer")
        with pytest.raises(LibraryRefused, match="no case NOPE"):
            record_training(s, NOW, "周老师", "宽带投诉处理", ["甲"], ["NOPE"], "trainer")
        record_training(s, NOW, "周老师", "宽带投诉处理", ["甲", "乙", "甲"], ["L-1", "L-2"], "trainer")
    with session_scope(library) as s:
        (only,) = trainings(s)
        assert only["attendees"] == ["乙", "甲"] and only["case_nos"] == ["L-1", "L-2"]
        assert search(s, action="record_training")[0]["actor"] == "trainer"


def test_archiving_checks_the_records_and_feeds_the_engine(library):
    with session_scope(library) as s:
        total, queue = archive_queue(s, NOW)
        by = {r["case_no"]: r for r in queue}
        assert total == 3 and set(by) == {"L-1", "L-2", "L-3"}
        assert by["L-1"]["complete"] and by["L-1"]["checks"]["REC-DECISION"] == "pass"
        assert by["L-1"]["checks"]["REC-TRANSFER"] is None  # not transferred: does not apply
        assert not by["L-3"]["complete"] and by["L-3"]["checks"]["REC-DECISION"] == "breached"
        versions = {k: v["version"] for k, v in by.items()}
    from db.library import RECORD_RULES
    from services.library_view import checklist_frame

    shown = checklist_frame(queue, RECORD_RULES).set_index("工单号")
    assert shown.loc["L-3", "形成处理决定并留存（8.3.6）"] == "✗" and shown.loc["L-1", "形成处理决定并留存（8.3.6）"] == "✓"
    assert shown.loc["L-1", "转派记录四要素齐全（8.3.2）"] == "—" and shown.loc["L-3", "可归档"] == "✗"
    with pytest.raises(LibraryRefused, match=r"L-3: records incomplete \(REC-DECISION\)"):
        with session_scope(library) as s:
            archive_cases(s, versions, "lead", NOW)
    with session_scope(library) as s:  # all or nothing: the refused batch archived nobody
        assert s.scalars(select(Case.archived_at).where(Case.archived_at.is_not(None))).all() == []
        assert archive_cases(s, {"L-1": versions["L-1"], "L-2": versions["L-2"]}, "lead", NOW) == ["L-1", "L-2"]
    with session_scope(library) as s:
        state = s.scalar(select(Obligation.state).join(Case, Case.id == Obligation.case_id)
                         .where(Case.case_no == "L-1", Obligation.rule_id == "ARC-ARCHIVE"))
        assert state == "breached"  # archived on the 20th, 17 days after closing: late, but done
        assert archive_queue(s, NOW)[0] == 1
        with pytest.raises(LibraryRefused, match="already archived"):
            archive_cases(s, {"L-1": versions["L-1"] + 1}, "lead", NOW)
        with pytest.raises(LibraryRefused, match="not closed"):
            archive_cases(s, {"L-4": 1}, "lead", NOW)


def test_a_story_tells_the_case_as_it_happened_whatever_day_it_is_read(library):
    """A handout about a past case never counts from today: a deadline missed on a closed case is measured
    to the closing, one still owed is told as missed without a running count; the story read a month later
    says the same. Repeated record text (a transfer record repeating the description, the department's
    solution repeating the measures) is told once."""
    from datetime import timedelta

    with session_scope(library) as s:
        rec = library_case(s, "L-1")
        obligations = case_obligations(s, rec["id"], NOW)
    rec = dict(rec, event_restoration=rec["description"], dept_solution="调整天线方向并扩容。",
               solution_measures="调整天线方向并扩容。")
    closed = rec["closed_at"]
    late = dict(next(o for o in obligations if o["rule_id"] == "SLA-FIRST-CONTACT"),
                rule_id="SLA-FINAL-RESULT", status="breached", outcome="missed", state="breached",
                due_at=closed - timedelta(hours=30), fulfilled_at=None)
    told = [story(rec, obligations + [late], now, "zh") for now in (NOW, NOW + timedelta(days=33))]
    details = [{v["rule_id"]: v["detail"] for st in steps for v in st["verdicts"]} for steps in told]
    assert details[0] == details[1]
    assert "至办结" in details[0]["SLA-FINAL-RESULT"] and "超出 1天6小时" in details[0]["SLA-FINAL-RESULT"]
    assert "已超时" not in details[0]["ARC-ARCHIVE"] and "未按时完成" in details[0]["ARC-ARCHIVE"]
    parts = [p for st in told[0] for p in st["text"].split("；") if p]
    assert len(parts) == len(set(parts)) and parts.count("调整天线方向并扩容。") == 1
    english = {v["rule_id"]: v["detail"] for st in story(rec, obligations + [late], NOW, "en") for v in st["verdicts"]}
    assert "when the case was closed" in english["SLA-FINAL-RESULT"]
