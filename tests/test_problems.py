"""The problem register (#16 item 2): rate-ratio verdicts on hand-worked numbers, the state rules (no closing
without a check or a reason), actions and overdue actions, checks counted from the database, roles and audit —
on both databases."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo
from sqlalchemy import select

from db.audit import search as audit_search
from db.importer import import_files
from db.models import Problem
from db.problems import (ProblemRefused, add_action, check_effect, create_problem, link_cases, move, overdue_actions,
                         problem_detail, problems, save_analysis, update_action)
from db.session import session_scope
from domain.capa import ProblemFacts, blockers, next_states
from domain.effect import EFFECTIVE, INCONCLUSIVE, NOT_EFFECTIVE, rate_ratio
from domain.roles import Forbidden
from tests.helpers import case_row, write_csv

UTC = timezone.utc


def test_rate_ratio_verdicts_match_hand_worked_numbers():
    # 40 complaints in the 30 days before the fix, 20 in the 30 after: RR = 0.5. Given 60, "after" is
    # binomial(60, 1/2) when nothing changed; the one-sided p is the lower tail summed by hand.
    r = rate_ratio(40, 20, 30, 30)
    assert r.ratio == 0.5 and r.verdict == EFFECTIVE
    assert r.p_value == pytest.approx(sum(math.comb(60, k) for k in range(21)) / 2 ** 60, rel=1e-9)
    assert r.low < 0.5 < r.high < 1
    # none after, 12 before: the exact upper limit of pi is 1 - 0.025^(1/12), so RR's is that over its complement
    r = rate_ratio(12, 0, 30, 30)
    pi = 1 - 0.025 ** (1 / 12)
    assert r.ratio == 0 and r.low == 0 and r.high == pytest.approx(pi / (1 - pi), rel=1e-6)
    assert r.p_value == pytest.approx(0.5 ** 12) and r.verdict == EFFECTIVE
    # 10 then 9: a fall that chance explains, and too few to rule out a worthwhile one
    assert rate_ratio(10, 9, 30, 30).verdict == INCONCLUSIVE
    # 30 then 45: the interval's lower end (0.92) is above 0.8, so a 20 % reduction is ruled out
    r = rate_ratio(30, 45, 30, 30)
    assert r.ratio == 1.5 and r.low > 0.8 and r.verdict == NOT_EFFECTIVE
    assert rate_ratio(30, 45, 30, 30, worthwhile=0.05).verdict == INCONCLUSIVE  # a smaller aim is not ruled out
    # per 10k complaints: the same share of a halved intake is no change at all
    r = rate_ratio(200, 100, 5000, 2500)
    assert r.ratio == pytest.approx(1.0) and r.verdict == INCONCLUSIVE
    assert r.rate("before", 10000) == r.rate("after", 10000) == 400
    assert rate_ratio(0, 0, 30, 30).reason == "no_cases" and rate_ratio(3, 1, 0, 30).reason == "no_exposure"
    with pytest.raises(ValueError):
        rate_ratio(-1, 0, 30, 30)


def test_the_state_rules_say_what_is_missing():
    assert next_states("new") == ["root_cause"]
    assert set(next_states("verifying")) == {"closed", "not_effective", "actions"}
    assert next_states("closed") == []
    keys = lambda facts, target: [b.key for b in blockers(facts, target)]  # noqa: E731
    assert keys(ProblemFacts("new"), "root_cause") == ["err.capa.statement", "err.capa.cases"]
    assert keys(ProblemFacts("new", "x", cases=1), "root_cause") == []
    assert keys(ProblemFacts("new", "x", cases=1), "verifying") == ["err.capa.transition"]
    assert keys(ProblemFacts("root_cause", "x", 1), "actions") == ["err.capa.cause", "err.capa.analysis"]
    assert keys(ProblemFacts("root_cause", "x", 1, "process", whys=("因为…",)), "actions") == []
    done = (("corrective", "done"),)
    assert keys(ProblemFacts("actions", actions=(("immediate", "done"),)), "verifying") == ["err.capa.fix_done", "err.capa.fixed_at"]
    assert keys(ProblemFacts("actions", actions=done, fixed_at=datetime(2026, 1, 1, tzinfo=UTC)), "verifying") == []
    assert keys(ProblemFacts("verifying"), "closed") == ["err.capa.close"]
    assert keys(ProblemFacts("verifying", last_verdict=INCONCLUSIVE), "closed") == ["err.capa.close"]
    assert keys(ProblemFacts("verifying", last_verdict=EFFECTIVE), "closed") == []
    assert keys(ProblemFacts("verifying", close_reason="太短"), "closed") == ["err.capa.close"]
    assert keys(ProblemFacts("verifying", close_reason="该业务已整体下线，不再产生此类投诉"), "closed") == []
    assert keys(ProblemFacts("verifying", last_verdict=NOT_EFFECTIVE), "not_effective") == []
    assert keys(ProblemFacts("verifying"), "actions") == []  # stepping back needs nothing
    assert keys(ProblemFacts("not_effective"), "root_cause") == []


FIX = datetime(2026, 4, 1, tzinfo=ZoneInfo("Asia/Shanghai"))  # the file's times are local


def _rows():
    """The problem's subcategory: 40 cases in the 30 days before the fix, 20 in the 30 after; other cases too."""
    rows = []
    for i in range(40):
        rows.append(case_row(f"B{i:03d}", received_at=(FIX - timedelta(days=30) + timedelta(hours=17 * i)).strftime("%Y-%m-%d %H:%M"),
                             subcategory="套餐资费", category="business", customer_phone=f"1390000{i:04d}"))
    for i in range(20):
        rows.append(case_row(f"A{i:03d}", received_at=(FIX + timedelta(hours=30 * i + 1)).strftime("%Y-%m-%d %H:%M"),
                             subcategory="套餐资费", category="business", customer_phone=f"1370000{i:04d}"))
    for i in range(10):
        rows.append(case_row(f"N{i:03d}", received_at=(FIX - timedelta(days=5) + timedelta(days=i)).strftime("%Y-%m-%d %H:%M"),
                             customer_phone=f"1360000{i:04d}"))
    for r in rows:
        r["promised_reply_at"] = (datetime.fromisoformat(r["received_at"]) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    return rows


@pytest.fixture
def register(db_url, tmp_path):
    assert import_files(write_csv(tmp_path / "c.csv", _rows()), now=FIX + timedelta(days=60)).ok
    return db_url


def test_a_problem_goes_from_new_to_closed_only_through_its_steps(register):
    now = FIX - timedelta(days=2)
    with session_scope(register) as s:
        pid = create_problem(s, "套餐资费解释不清", "客户不理解新套餐的计费方式", "张经理", ["B001", "B002"], "boss", "manager", now)
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        assert d["state"] == "new" and d["scope_category"] == "business" and d["scope_subcategories"] == ["套餐资费"]
        assert [c["case_no"] for c in d["cases"]] == ["B001", "B002"]
        with pytest.raises(ProblemRefused) as refused:
            move(s, pid, d["version"], "actions", "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.transition"
        move(s, pid, d["version"], "root_cause", "boss", "manager", now)
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        with pytest.raises(ProblemRefused) as refused:
            move(s, pid, d["version"], "actions", "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.cause"
        save_analysis(s, pid, d["version"], "boss", "manager", now, statement=d["statement"], owner="张经理",
                      cause_category="product_design", root_cause="", whys=["资费说明过长", "营业员未讲解", ""],
                      scope_category="business", scope_subcategories=["套餐资费"], fixed_at=None)
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        assert d["whys"] == ["资费说明过长", "营业员未讲解"]
        with pytest.raises(ProblemRefused) as refused:  # a page showing the old version cannot write over it
            save_analysis(s, pid, d["version"] - 1, "boss", "manager", now, statement="x", owner="y", cause_category=None,
                          root_cause="", whys=[], scope_category="business", scope_subcategories=[], fixed_at=None)
        assert refused.value.args[0].key == "err.capa.stale"
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        move(s, pid, d["version"], "actions", "boss", "manager", now)
        quick = add_action(s, pid, "immediate", "统一解释口径", "李组长", now + timedelta(days=1), "boss", "manager", now)
        fix = add_action(s, pid, "corrective", "改写资费说明", "王主管", now + timedelta(days=2), "boss", "manager", now)
        add_action(s, pid, "preventive", "新套餐上线前评审说明", "王主管", now + timedelta(days=90), "boss", "manager", now)
    with session_scope(register) as s:
        late = overdue_actions(s, now + timedelta(days=3))
        assert [(a["id"], a["days"]) for a in late] == [(quick, 2), (fix, 1)]
        with pytest.raises(ProblemRefused) as refused:
            update_action(s, fix, "done", "", "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.evidence"
        update_action(s, quick, "done", "已在班前会统一", "boss", "manager", now)
        d = problem_detail(s, pid)
        with pytest.raises(ProblemRefused) as refused:
            move(s, pid, d["version"], "verifying", "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.fix_done"  # an immediate action is not a fix
        update_action(s, fix, "done", "新说明已上线", "boss", "manager", FIX)
    with session_scope(register) as s:
        assert [a["id"] for a in overdue_actions(s, now + timedelta(days=3))] == []
        d = problem_detail(s, pid)
        save_analysis(s, pid, d["version"], "boss", "manager", FIX, statement=d["statement"], owner=d["owner"],
                      cause_category="product_design", root_cause="说明文字没人读", whys=d["whys"],
                      scope_category="business", scope_subcategories=["套餐资费"], fixed_at=FIX)
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        move(s, pid, d["version"], "verifying", "boss", "manager", FIX)
        with pytest.raises(ProblemRefused) as refused:  # the 30 days after the fix have not passed
            check_effect(s, pid, 30, "day", "boss", "manager", FIX + timedelta(days=29))
        assert refused.value.args[0].key == "err.capa.window_open"
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        with pytest.raises(ProblemRefused) as refused:
            move(s, pid, d["version"], "closed", "boss", "manager", FIX + timedelta(days=31))
        assert refused.value.args[0].key == "err.capa.close"
        check_effect(s, pid, 30, "day", "boss", "manager", FIX + timedelta(days=31))
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        check = d["checks"][0]
        assert (check["before"], check["after"], check["ratio"], check["verdict"]) == (40, 20, 0.5, "effective")
        move(s, pid, d["version"], "closed", "boss", "manager", FIX + timedelta(days=31))
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        assert d["state"] == "closed" and d["next_states"] == []
        with pytest.raises(ProblemRefused):
            add_action(s, pid, "corrective", "再改", "王主管", FIX + timedelta(days=40), "boss", "manager", FIX)
        assert problems(s, ["closed"])[0]["id"] == pid and problems(s, ["new"]) == []
        trail = [e["action"] for e in audit_search(s, key=str(pid))]
    assert {"create_problem", "edit_problem", "move_problem", "add_action", "update_action", "check_problem"} <= set(trail)


def test_a_check_per_ten_thousand_cases_and_a_reasoned_close(register):
    now = FIX + timedelta(days=40)
    with session_scope(register) as s:
        pid = create_problem(s, "资费投诉", "资费类投诉多", "张经理", ["B001"], "boss", "admin", FIX - timedelta(days=1),
                             scope_category="business", scope_subcategories=[])
        row = s.get(Problem, pid)
        row.state, row.fixed_at = "verifying", FIX
    with session_scope(register) as s:
        check_effect(s, pid, 30, "cases", "boss", "admin", now)
        c = problem_detail(s, pid)["checks"][0]
    # before: 40 of the 40 + 5 network cases; after: 20 of 20 + 5 — the share hardly moves
    assert (c["before"], c["after"], c["before_exposure"], c["after_exposure"]) == (40, 20, 45.0, 25.0)
    assert c["verdict"] == "inconclusive"
    with session_scope(register) as s:
        d = problem_detail(s, pid)
        move(s, pid, d["version"], "closed", "boss", "admin", now, reason="该套餐已于四月停售，问题不会再出现")
    with session_scope(register) as s:
        assert problem_detail(s, pid)["close_reason"] == "该套餐已于四月停售，问题不会再出现"


def test_only_managers_change_the_register_and_bad_input_is_named(register):
    now = FIX
    with session_scope(register) as s:
        for role in ("team_lead", "inspector", "handler", "trainer", None):
            with pytest.raises(Forbidden):
                create_problem(s, "t", "s", "o", [], "x", role, now)
        with pytest.raises(ProblemRefused) as refused:
            create_problem(s, "t", "s", "o", ["B001", "NOPE"], "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.case" and "NOPE" in str(refused.value.args[0].values)
        with pytest.raises(ProblemRefused) as refused:
            create_problem(s, " ", "s", "o", [], "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.title"
        pid = create_problem(s, "t", "s", "o", ["B001"], "boss", "manager", now)
        assert link_cases(s, pid, ["B002", "B001"], "boss", "manager", now) == 1
        assert link_cases(s, pid, ["B001"], "boss", "manager", now, unlink=True) == 1
        with pytest.raises(Forbidden):
            link_cases(s, pid, ["B003"], "lead", "team_lead", now)
        with pytest.raises(ProblemRefused) as refused:
            add_action(s, pid, "someday", "x", "o", now, "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.kind"
        with pytest.raises(ProblemRefused) as refused:
            check_effect(s, pid, 30, "day", "boss", "manager", now)
        assert refused.value.args[0].key == "err.capa.fixed_at"
        assert [c["case_no"] for c in problem_detail(s, pid)["cases"]] == ["B002"]
        assert s.scalar(select(Problem.state).where(Problem.id == pid)) == "new"


def test_the_register_exports_to_excel_and_a_one_page_pdf_per_problem(register, tmp_path):
    import subprocess
    from io import BytesIO

    from openpyxl import load_workbook

    from db.problems import all_actions
    from services.improvement import problem_pdf, register_xlsx

    now = FIX + timedelta(days=40)
    with session_scope(register) as s:
        pid = create_problem(s, "套餐资费解释不清", "客户王小明（13812345678）不理解计费", "张经理", ["B001", "B002"],
                             "boss", "manager", FIX - timedelta(days=5))
        for i in range(10):
            add_action(s, pid, ("immediate", "corrective", "preventive")[i % 3], f"第{i + 1}项措施：改写资费说明", "王主管",
                       FIX + timedelta(days=i), "boss", "manager", FIX - timedelta(days=5))
        row = s.get(Problem, pid)
        row.state, row.fixed_at, row.cause_category = "verifying", FIX, "product_design"
    with session_scope(register) as s:
        check_effect(s, pid, 30, "day", "boss", "manager", now)
        detail, listed, actions = problem_detail(s, pid), problems(s), all_actions(s)
    book = load_workbook(BytesIO(register_xlsx(listed, actions, "截至 今天 · 导出人：boss", "zh")))
    assert book.sheetnames == ["问题清单", "整改措施"]
    first = [c.value for c in book["问题清单"][3]]
    assert first[:3] == [pid, "套餐资费解释不清", "效果验证"]
    assert book["整改措施"].max_row == 2 + 10 and book["整改措施"]["B3"].value == "套餐资费解释不清"
    path = tmp_path / "p.pdf"
    path.write_bytes(problem_pdf(detail, "生成于 今天"))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info  # one page, even with ten actions
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    compact = text.replace(" ", "")
    assert "套餐资费解释不清" in compact and "效果验证" in compact and "产品设计" in compact
    assert "第1项措施" in compact and "另有2项措施见台账" in compact
    assert "有效" in compact and "40" in compact and "20" in compact  # the check: 40 before, 20 after
    assert "13812345678" not in compact and "王小明" not in compact  # free text is de-identified
