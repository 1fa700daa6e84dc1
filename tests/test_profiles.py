"""Import profiles (#21): documents, reading another system's export through one, the three foreign layouts,
the mapping assistant, storage with versions and audit, the command line."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from db import interchange as ix
from db.importer import import_files
from db.migrate import upgrade
from db.models import AuditEntry
from db.profiles import (ProfileRefused, delete_profile, get_profile, list_profiles, restore_version, save_profile,
                         versions)
from db.session import session_scope
from domain.importprofile import (Layout, Profile, ProfileError, Source, example, excel_day, from_dict, from_yaml,
                                  read_time, to_dict, to_yaml)
from services.commands import evaluate_flags
from services.import_assist import assist, draft_profile, preview

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
NOW = datetime(2026, 3, 20, 4, 0, tzinfo=timezone.utc)
LAYOUTS = {"province": ("province/工单导出.csv", None), "helpdesk": ("helpdesk/tickets.xlsx", "helpdesk/contacts.xlsx"),
           "unicode": ("unicode/投诉清单.csv", None)}


def committed(layout: str) -> Profile:
    return from_yaml((FOREIGN / layout / "profile.yaml").read_text(encoding="utf-8"))


def minimal(**cases) -> dict:
    fields = {"case_no": "单号", "received_at": "时间", "channel": "渠道", "category": "类别", "handler": "处理人",
              "acceptance": "受理"}
    return {"name": "测试", "cases": {"fields": fields, **cases}}


# ---- documents -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_profile_document_survives_yaml_and_storage_unchanged(layout):
    profile = committed(layout)
    assert from_yaml(to_yaml(profile, 3)) == profile
    assert from_dict(json.loads(json.dumps(to_dict(profile)))) == profile


@pytest.mark.parametrize("change, path, words", [
    (lambda d: d["cases"]["fields"].update(chanel="渠道"), "cases.fields.chanel", "not one of the product's fields"),
    (lambda d: d["cases"]["fields"].pop("handler"), "cases.fields", "required fields have no source: handler"),
    (lambda d: d["cases"].update(values={"channel": {"柜台": "counter"}}), "cases.values.channel.柜台",
     "'counter' is not one of the product's values"),
    (lambda d: d["cases"]["fields"].update(team={"columns": ["班组"], "constant": "一组"}), "cases.fields.team",
     "either source columns"),
    (lambda d: d["cases"]["fields"].update(channel={"constant": "fax"}), "cases.fields.channel.constant",
     "'fax' is not one of"),
    (lambda d: d.update(times={"zone": "Mars/Olympus"}), "times.zone", "unknown time zone"),
    (lambda d: d["cases"].update(separator="#"), "cases.separator", "separator must be one of"),
    (lambda d: d["cases"].update(header_row=0), "cases.header_row", "from 1 to 50"),
    (lambda d: d["cases"].update(values={"handler": {"a": "b"}}), "cases.values.handler", "only enumerated"),
    (lambda d: d.update(contacts={"mode": "columns", "columns": [{"kind": "first"}]}), "contacts.columns[1].at",
     "must be text"),
    (lambda d: d.update(contacts={"mode": "columns", "columns": [{"kind": "call", "at": "x"}]}),
     "contacts.columns[1].kind", "'call' is not one of"),
    (lambda d: d.update(colour="red"), "", "unknown keys: colour"),
])
def test_a_bad_document_is_refused_naming_the_place(change, path, words):
    doc = minimal()
    change(doc)
    with pytest.raises(ProfileError) as err:
        from_dict(doc)
    assert err.value.path == path and words in str(err.value)
    assert err.value.text("zh") != str(err.value)  # told in Chinese on the page


def test_broken_yaml_is_refused_with_its_line():
    with pytest.raises(ProfileError, match=r"near line 3"):
        from_yaml("name: x\ncases:\n\tfields: 1\nmore: 2\n")


def test_constants_of_enumerated_fields_accept_the_chinese_name_and_store_the_value():
    doc = minimal()
    doc["cases"]["fields"]["channel"] = {"constant": "电话"}
    assert from_dict(doc).cases.fields["channel"] == Source(constant="phone")


def test_time_patterns_excel_day_numbers_and_examples():
    assert read_time("2026/3/5 8:07", ("YYYY/M/D h:mm",), False) == datetime(2026, 3, 5, 8, 7)
    assert read_time("2026年3月5日 8时07分", ("YYYY年M月D日 h时mm分",), False) == datetime(2026, 3, 5, 8, 7)
    assert read_time("20260305080709", ("YYYYMMDDhhmmss",), False) == datetime(2026, 3, 5, 8, 7, 9)
    assert read_time("2026-03-05 08:07", ("YYYY/M/D h:mm",), False) is None  # left to the ISO reader
    assert read_time("2026/2/30 8:07", ("YYYY/M/D h:mm",), False) is None  # no such day
    assert read_time("2026/3/5 8:7", ("YYYY/M/D h:mm",), False) is None  # minutes have two digits
    assert read_time("2026/3/5 8:07 ", ("YYYY/M/D h:mm",), False) is None  # the whole cell must match
    assert read_time("5/3/2026 8:07", ("M/D/YYYY h:mm", "D/M/YYYY h:mm"), False) == datetime(2026, 5, 3, 8, 7)
    # Excel: day 46086 is 2026-03-05; a fraction is the time of day, rounded to the second
    assert excel_day("46086.5") == datetime(2026, 3, 5, 12, 0)
    assert excel_day("46086.33819444") == datetime(2026, 3, 5, 8, 7)
    assert excel_day("36526") == datetime(2000, 1, 1)
    assert excel_day("36525.9") is None and excel_day("73051") is None  # outside 2000–2099: not a date
    assert excel_day("13812345678") is None and excel_day("4608") is None
    assert read_time("46086.5", (), False) is None  # only when the profile says so
    assert example("YYYY/M/D h:mm") == "2026/3/5 8:07" and example("YYYY年M月D日") == "2026年3月5日"


# ---- reading through a profile -------------------------------------------------------------------------

def _csv(rows: list[list[str]], encoding: str = "utf-8", sep: str = ",") -> bytes:
    return "\n".join(sep.join(r) for r in rows).encode(encoding)


def test_joined_columns_constants_value_maps_times_and_header_row():
    profile = from_dict({
        "name": "p", "times": {"formats": ["YYYY/M/D h:mm"]},
        "cases": {"header_row": 2, "encoding": "gbk", "separator": ";",
                  "fields": {"case_no": {"columns": ["区", "号"], "joiner": "-"}, "received_at": "受理",
                             "channel": {"constant": "phone"}, "category": "类", "handler": "人",
                             "acceptance": "状态", "description": {"columns": ["描述", "补充"], "joiner": "；"}},
                  "values": {"category": {"网络质量": "network"}, "acceptance": {"正常": "accepted"}}}})
    raw = _csv([["导出标题"], ["区", "号", "受理", "类", "人", "状态", "描述", "补充", "多余"],
                ["TZ", "001", "2026/3/5 8:07", "网络质量", "李娜", "正常", "信号差", "", "x"],
                ["TZ", "002", "2026-03-05 09:00", "业务", "李娜", "受理", "扣费", "第二次", "y"]], "gbk", ";")
    table = ix.read_profiled(raw, "e.csv", profile, "cases")
    assert table.frame["case_no"].tolist() == ["TZ-001", "TZ-002"]
    assert table.frame["description"].tolist() == ["信号差", "扣费；第二次"]  # empty parts are not joined
    assert table.frame["channel"].tolist() == ["phone", "phone"]
    assert table.frame["category"].tolist() == ["network", "业务"]  # unmapped spellings go to the reader as written
    assert table.frame["received_at"].tolist() == ["2026-03-05 08:07:00", "2026-03-05 09:00"]
    assert table.first_line == 3 and table.original_headers["case_no"] == "区+号"
    assert any("多余" in w for w in table.warnings)
    parsed = ix.parse_rows(table, ix.CASE_COLUMNS, profile.tz)
    assert not parsed.problems and [r["_line"] for r in parsed.rows] == [3, 4]
    assert parsed.rows[0]["received_at"] == datetime(2026, 3, 5, 0, 7, tzinfo=timezone.utc)


def test_problems_name_the_files_line_and_own_column_and_rejects_give_back_the_files_rows(db_url, tmp_path):
    profile = committed("province")
    text = (FOREIGN / "province" / "工单导出.csv").read_bytes().decode("gbk").split("\r\n")
    header = text[2].split(",")
    bad = text[4].split(",")
    bad[header.index("受理渠道")] = "传真"
    bad[header.index("首次联系时间")] = "2026/3/1 8:00"  # before the case was received
    text[4] = ",".join(bad)
    path = tmp_path / "导出.csv"
    path.write_bytes("\r\n".join(text).encode("gbk"))
    report = import_files(path, url=db_url, now=NOW, profile=profile, partial=True)
    assert report.written and report.cases_added == 47
    where = sorted((p.line, p.column) for p in report.problems)
    assert where == [(5, "受理渠道")]  # the case row is refused; its contact cells go with it
    rejects = (tmp_path / "导出.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("line,工单编号,工单状态,受理时间") and rejects[1].startswith("5,TZ-2026-000002,")
    assert rejects[0].endswith(",reason")
    # the contact alone is bad: the case goes in, the contact is refused by its own column
    text[4] = ",".join(bad).replace("传真", "来信")
    path.write_bytes("\r\n".join(text).encode("gbk"))
    report = import_files(path, url=db_url, now=NOW, profile=profile, partial=True)
    assert [(p.line, p.column, "before the case's received_at" in p.reason) for p in report.problems] == \
        [(5, "首次联系时间", True)]


def test_a_file_without_the_profiles_columns_is_refused_naming_them():
    with pytest.raises(ix.FileProblem, match="are not in the file: 工单编号"):
        ix.read_profiled(_csv([["标题"], [""], ["编号", "受理时间"], ["1", "2"]], "gbk"), "x.csv",
                         committed("province"), "cases")
    with pytest.raises(ix.FileProblem, match="line 3 should hold the column names"):
        ix.read_profiled(_csv([["标题"], ["编号"]], "gbk"), "x.csv", committed("province"), "cases")


def test_a_named_encoding_that_does_not_fit_is_named(tmp_path):
    doc = to_dict(committed("province"))
    doc["cases"]["encoding"] = "utf-8"
    with pytest.raises(ix.FileProblem, match="line 1: not utf-8 text"):
        ix.read_profiled((FOREIGN / "province" / "工单导出.csv").read_bytes(), "p.csv", from_dict(doc), "cases")


def test_a_missing_sheet_is_named():
    doc = to_dict(committed("helpdesk"))
    doc["cases"]["sheet"] = "工单"
    with pytest.raises(ix.FileProblem, match="no sheet named 工单"):
        ix.read_profiled((FOREIGN / "helpdesk" / "tickets.xlsx").read_bytes(), "t.xlsx", from_dict(doc), "cases")


def test_a_contacts_file_is_refused_when_the_profile_reads_contacts_from_columns(db_url):
    report = import_files(FOREIGN / "province" / "工单导出.csv", FOREIGN / "own" / "contacts.csv", url=db_url,
                          profile=committed("province"))
    assert not report.written and "reads no separate contacts file" in str(report.problems[0])


# ---- the three foreign layouts ---------------------------------------------------------------------------

def _snapshot(url):
    from db.models import Case, Contact
    with session_scope(url) as s:
        cases = s.execute(select(Case.case_no, Case.received_at, Case.channel, Case.category, Case.closed_at,
                                 Case.satisfaction, Case.description).order_by(Case.case_no)).all()
        contacts = s.execute(select(Case.case_no, Contact.contact_at, Contact.kind, Contact.channel)
                             .join(Case, Case.id == Contact.case_id).order_by(Case.case_no, Contact.contact_at)).all()
    return cases, contacts


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_foreign_layout_imports_with_exactly_the_flags_of_the_own_format(db_url, layout):
    cases, contacts = LAYOUTS[layout]
    report = import_files(FOREIGN / cases, FOREIGN / contacts if contacts else None, url=db_url, now=NOW,
                          profile=committed(layout))
    assert report.written and not report.problems, [str(p) for p in report.problems]
    assert (report.cases_added, report.contacts_added) == (48, 72)
    _, foreign_flags = evaluate_flags(db_url, NOW, None, "en")
    snapshot = _snapshot(db_url)
    # the same cases in the product's own format: every value already stored exactly so, every contact there
    own = import_files(FOREIGN / "own" / "cases.csv", FOREIGN / "own" / "contacts.csv", url=db_url, now=NOW)
    assert (own.cases_added, own.cases_updated, own.cases_unchanged, own.contacts_added) == (0, 0, 48, 0), \
        own.changed_fields
    _, own_flags = evaluate_flags(db_url, NOW, None, "en")
    assert own_flags == foreign_flags and _snapshot(db_url) == snapshot
    rules = {f["rule_id"] for f in foreign_flags}
    assert {"SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SCOPE-REJECTED"} <= rules and len(foreign_flags) > 100


def test_the_helpdesk_times_are_utc_day_numbers_read_into_the_right_instant(db_url):
    import_files(FOREIGN / "helpdesk" / "tickets.xlsx", FOREIGN / "helpdesk" / "contacts.xlsx", url=db_url,
                 now=NOW, profile=committed("helpdesk"))
    from db.models import Case
    with session_scope(db_url) as s:
        received = s.scalar(select(Case.received_at).where(Case.case_no == "TZ-2026-000001"))
    # 2026-03-02 08:07 in Beijing is 00:07 UTC
    assert received.astimezone(timezone.utc) == datetime(2026, 3, 2, 0, 7, tzinfo=timezone.utc)


def test_a_dry_run_through_a_profile_says_what_the_import_then_does(db_url):
    profile = committed("unicode")
    src = FOREIGN / "unicode" / "投诉清单.csv"
    dry = import_files(src, url=db_url, now=NOW, profile=profile, dry_run=True)
    assert not dry.written and dry.cases_added == 48 and dry.flags_appear
    real = import_files(src, url=db_url, now=NOW, profile=profile)
    assert (real.cases_added, real.contacts_added) == (dry.cases_added, dry.contacts_added)
    _, flags = evaluate_flags(db_url, NOW, None, "en")
    assert sorted((f["case_no"], f["rule_id"], f["status"]) for f in flags) == sorted(dry.flags_appear)


# ---- the mapping assistant -------------------------------------------------------------------------------

def _assisted(layout):
    cases, contacts = LAYOUTS[layout]
    found = assist((FOREIGN / cases).read_bytes(), Path(cases).name)
    extra = assist((FOREIGN / contacts).read_bytes(), Path(contacts).name, "contacts") if contacts else None
    return found, extra


def test_the_assistant_reads_the_province_export_whole():
    found, _ = _assisted("province")
    assert found.problem is None and found.rows == 48
    assert (found.layout.encoding, found.layout.separator, found.layout.header_row) == ("gbk", ",", 3)
    p = found.proposal
    assert p.targets["承诺回复时间"] == "promised_reply_at" and p.targets["回复时间"] == "contact:final"
    assert p.targets["告知时间"] == "rejection_informed_at" and p.targets["进度告知时间"] == "contact:progress"
    assert p.targets["工单状态"] == "" and p.missing() == []
    assert p.sources()["description"] == Source(columns=("投诉描述", "补充描述"), joiner="；")
    assert p.time_formats == ["YYYY/M/D h:mm"] and not p.excel_serial
    assert p.values["channel"] == {"网上营业厅": "online", "来信": "letter", "营业厅": "face_to_face",
                                   "10086热线": "phone"}
    assert p.values["items_confirmed"] == {"未确认": "false", "已确认": "true"}
    assert p.values["rejection_reason"]["非我司业务"] == "outside_business_scope"
    assert p.values["satisfaction"] == {"一般": "basically_satisfied"}  # 满意/不满意 are the product's own words
    assert p.unknown_values == {}


def test_the_assistant_finds_the_helpdesk_sheet_day_numbers_and_leaves_codes_it_cannot_read_to_the_user():
    found, contacts = _assisted("helpdesk")
    assert found.layout.sheet == "Tickets" and contacts.layout.sheet is None
    p = found.proposal
    assert p.targets["Opened (UTC)"] == "received_at" and p.targets["Sub-type"] == "subcategory"
    assert p.targets["Type"] == "category" and p.targets["CSAT comment"] == "dissatisfaction_cause"
    assert p.excel_serial and p.time_formats == []
    assert p.values["acceptance"] == {"Yes": "accepted", "No": "rejected"}
    assert p.values["satisfaction"] == {"3": "satisfied", "2": "basically_satisfied", "1": "dissatisfied"}
    assert sorted(p.unknown_values["rejection_reason"]) == ["R1", "R3"]  # codes: asked, never guessed
    c = contacts.proposal
    assert c.targets == {"Ticket": "case_no", "When (UTC)": "contact_at", "Type": "kind", "Via": "channel",
                         "Memo": "note"}
    assert c.values["kind"] == {"Initial call": "first", "Update": "progress", "Resolution": "final"}


def test_the_assistant_joins_date_and_time_columns_and_leaves_the_area_code_to_the_user():
    found, _ = _assisted("unicode")
    assert (found.layout.encoding, found.layout.separator) == ("utf-16", "\t")
    p = found.proposal
    assert p.sources()["received_at"] == Source(columns=("受理日期", "受理时刻"), joiner=" ")
    assert p.targets["首次响应说明"] == "note:first" and p.targets["地区"] == ""
    assert p.time_formats == ["YYYY年M月D日 h:mm"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_profile_made_by_the_assistant_with_the_users_corrections_imports_like_the_own_format(db_url, layout):
    found, contacts = _assisted(layout)
    if layout == "helpdesk":  # the user maps the two codes the assistant listed
        found.proposal.values["rejection_reason"] = {"R1": "outside_business_scope", "R3": "past_time_limit"}
        zone = "UTC"
    else:
        zone = "Asia/Shanghai"
    if layout == "unicode":  # the user adds the area code to the case number
        found.retarget({**found.proposal.targets, "地区": "case_no"})
        assert found.proposal.sources()["case_no"] == Source(columns=("地区", "流水号"), joiner="-")
    profile = draft_profile(found, "assisted", zone=zone, time_formats=found.proposal.time_formats,
                            excel_serial=found.proposal.excel_serial, contacts=contacts)
    shown, problems, _ = preview((FOREIGN / LAYOUTS[layout][0]).read_bytes(), Path(LAYOUTS[layout][0]).name, profile)
    assert len(shown) == 10 and problems == []
    cases, contact_file = LAYOUTS[layout]
    report = import_files(FOREIGN / cases, FOREIGN / contact_file if contact_file else None, url=db_url, now=NOW,
                          profile=profile)
    assert report.written and (report.cases_added, report.contacts_added) == (48, 72)
    own = import_files(FOREIGN / "own" / "cases.csv", FOREIGN / "own" / "contacts.csv", url=db_url, now=NOW)
    assert (own.cases_updated, own.contacts_added) == (0, 0), own.changed_fields


def test_the_assistant_reads_an_unreadable_file_as_a_message():
    found = assist(b"\x00\x01\x02binary", "x.csv")
    assert found.problem == "x.csv: " + ix.FileProblem("x.csv", "ix.binary").said.text("zh")
    assert found.proposal.headers == [] and found.rows == 0


def test_an_unknown_header_with_mobile_numbers_is_the_customers_phone():
    wb = Workbook()
    ws = wb.active
    ws.append(["单号", "号码A", "备注"])
    ws.append(["1", "13812345678", "x"])
    ws.append(["2", "13912345678", "y"])
    buf = io.BytesIO()
    wb.save(buf)
    found = assist(buf.getvalue(), "x.xlsx")
    assert found.proposal.targets["号码A"] == "customer_phone" and found.proposal.targets["单号"] == "case_no"
    assert set(found.proposal.missing()) == {"received_at", "channel", "category", "handler", "acceptance"}


# ---- storage -----------------------------------------------------------------------------------------------

def test_profiles_are_versioned_audited_and_guarded(db_url):
    upgrade(db_url)
    profile = committed("province")
    with session_scope(db_url) as s:
        assert save_profile(s, profile, actor="lead", role="team_lead", note="first") == 1
    with session_scope(db_url) as s, pytest.raises(ProfileRefused, match="exists already"):
        save_profile(s, profile, actor="lead2", role="team_lead")  # a second "new" one of the same name
    changed = from_dict({**to_dict(profile), "description": "加了说明"})
    with session_scope(db_url) as s:
        assert save_profile(s, changed, actor="admin", role="admin", expected_version=1) == 2
        assert save_profile(s, changed, actor="admin", role="admin", expected_version=2) == 2  # no change, no version
    with session_scope(db_url) as s, pytest.raises(ProfileRefused, match="version 2 by admin"):
        save_profile(s, profile, actor="lead", role="team_lead", expected_version=1)  # edited an old version
    for role in ("inspector", "handler", "trainer", "manager", None):
        with session_scope(db_url) as s, pytest.raises(PermissionError):
            save_profile(s, changed, actor="x", role=role, expected_version=2)
    with session_scope(db_url) as s:
        assert [v.version for v in versions(s, profile.name)] == [2, 1]
        assert restore_version(s, profile.name, 1, actor="admin", role="admin", expected_version=2) == 3
        assert get_profile(s, profile.name).profile == profile
        with pytest.raises(PermissionError):
            delete_profile(s, profile.name, actor="lead", role="team_lead")
        delete_profile(s, profile.name, actor="admin", role="admin")
        assert list_profiles(s) == []
        assert [v.version for v in versions(s, profile.name)] == [3, 2, 1]  # the history stays
        entries = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.after)
                            .where(AuditEntry.entity == "import_profile").order_by(AuditEntry.id)).all()
    assert [(a, who) for a, who, _ in entries] == [("profile_save", "lead"), ("profile_save", "admin"),
                                                   ("profile_save", "admin"), ("profile_delete", "admin")]
    assert json.loads(entries[1][2])["changed"] == ["description"]
    with session_scope(db_url) as s:  # saved again after deletion: the versions go on from the last
        assert save_profile(s, profile, actor="admin", role="admin") == 4


# ---- command line ---------------------------------------------------------------------------------------------

class Run:
    """manage.py's output: in this process (each command's own argument parsing, printing and exit code),
    so that a dozen commands do not each pay a Python start."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def test_the_command_line_keeps_profiles_as_yaml_and_imports_through_them(db_url, tmp_path, capsys):
    import manage as cli

    def manage(*args: str, url: str) -> Run:
        code = cli.main([*args, "--db", url])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    done = manage("profile", "import", str(FOREIGN / "helpdesk" / "profile.yaml"), url=db_url)
    assert done.returncode == 0 and "profile ServiceDesk saved as version 1" in done.stdout, done.stderr
    listed = manage("profile", "list", url=db_url)
    assert listed.returncode == 0 and listed.stdout.startswith("ServiceDesk\tv1\tcli\t")
    out = tmp_path / "sd.yaml"
    assert manage("profile", "export", "ServiceDesk", "-o", str(out), url=db_url).returncode == 0
    assert from_yaml(out.read_text(encoding="utf-8")) == committed("helpdesk")
    shown = manage("profile", "show", "ServiceDesk", url=db_url)
    assert "version: 1" in shown.stdout and "excel_serial: true" in shown.stdout
    dry = manage("import", str(FOREIGN / "helpdesk" / "tickets.xlsx"), "--contacts",
                 str(FOREIGN / "helpdesk" / "contacts.xlsx"), "--profile", "ServiceDesk", "--dry-run", url=db_url)
    assert dry.returncode == 0 and "cases 48 new" in dry.stdout and "contacts 72 new" in dry.stdout, dry.stderr
    real = manage("import", str(FOREIGN / "helpdesk" / "tickets.xlsx"), "--contacts",
                  str(FOREIGN / "helpdesk" / "contacts.xlsx"), "--profile", "ServiceDesk", url=db_url)
    assert real.returncode == 0 and "48 added" in real.stdout
    missing = manage("import", str(FOREIGN / "own" / "cases.csv"), "--profile", "Nope", url=db_url)
    assert missing.returncode == 1 and "no import profile named Nope" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncases:\n  fields: {case_no: a}\n", encoding="utf-8")
    refused = manage("profile", "import", str(bad), url=db_url)
    assert refused.returncode == 1 and "cases.fields: required fields have no source" in refused.stderr
    # a watched folder reads every file through the profile
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "工单导出.csv").write_bytes((FOREIGN / "province" / "工单导出.csv").read_bytes())
    assert manage("profile", "import", str(FOREIGN / "province" / "profile.yaml"), url=db_url).returncode == 0
    watched = manage("import", "--watch", str(inbox), "--settle", "0", "--profile", "省客服系统", url=db_url)
    assert watched.returncode == 0 and "1 imported" in watched.stdout, watched.stderr
    report = (inbox / "done" / "工单导出.csv.report.txt").read_text(encoding="utf-8")
    assert "48 unchanged" in report and "contacts: 0 added, 72 already present" in report


def test_a_real_manage_process_names_a_missing_profile_without_a_traceback(sqlite_url):
    run = subprocess.run([sys.executable, "manage.py", "import", str(FOREIGN / "own" / "cases.csv"), "--profile",
                          "Nope", "--db", sqlite_url], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "error: no import profile named Nope" in run.stderr
    assert "Traceback" not in run.stderr
