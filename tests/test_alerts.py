"""Alerts and escalation (#15) against real servers on 127.0.0.1: HTTP servers acting as WeCom, DingTalk
and Feishu robots (checking the body and the signatures, answering success, an error code, a rate limit
or nothing) and a real SMTP server (aiosmtpd). The clock is passed in. SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from db import alerts as store
from db.importer import import_files
from db.models import Alert
from db.notices import send_notice
from db.session import session_scope
from domain.alerts import DEFAULT, PolicyInvalid, validate
from services import alerts
from services.channels import Settings
from tests.helpers import case_row, contact_row, write_csv

SH = timezone(timedelta(hours=8))
RECEIVED = datetime(2026, 11, 27, 15, 0, tzinfo=SH)  # Friday 15:00 in Shanghai: 75 % of 24 h falls at 09:00
DING_SECRET, FEISHU_SECRET = "SECdingtalk-test", "feishu-test-secret"


class Robot(BaseHTTPRequestHandler):
    """One fake robot endpoint per path: /wecom, /ding, /feishu. It records what it accepted."""

    server_version = "robot"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length).decode("utf-8"))
        path, _, query = self.path.partition("?")
        params = urllib.parse.parse_qs(query)
        srv = self.server
        mode = srv.modes.get(path, "ok")
        if mode == "timeout":
            time.sleep(12)
        answer: dict
        if path == "/wecom":
            ok = body.get("msgtype") == "text" and "content" in body["text"]
            answer = {"errcode": 0 if ok else 40008, "errmsg": "ok" if ok else "bad body"}
            if mode == "ratelimit":
                answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
        elif path == "/ding":
            ts, sign = params.get("timestamp", [""])[0], params.get("sign", [""])[0]
            want = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
            ok = sign == want and body.get("msgtype") == "markdown"
            answer = {"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"}
        elif path == "/feishu":
            ts = body.get("timestamp", "")
            want = base64.b64encode(hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
            ok = body.get("sign") == want and body.get("msg_type") == "text"
            answer = {"code": 0 if ok else 19021, "msg": "success" if ok else "sign match fail"}
        else:
            answer = {"errcode": 404}
        if mode == "error":
            answer = {"errcode": 300001, "code": 300001, "errmsg": "robot disabled"}
        if answer.get("errcode", answer.get("code")) == 0:
            srv.received.append((path, body))
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, f"{msg['Subject']}\n{msg.get_content()}"))
        return "250 OK"


@pytest.fixture
def robots():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    server.received, server.modes = [], {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def mailbox():
    from tests.browser import free_port

    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def settings(robots, mailbox):
    base = f"http://127.0.0.1:{robots.server_address[1]}"
    return Settings(
        channels={"team1": {"kind": "wecom", "url": f"{base}/wecom?key=k1"},
                  "centre": {"kind": "dingtalk", "url": f"{base}/ding?access_token=t", "secret": DING_SECRET},
                  "boss": {"kind": "feishu", "url": f"{base}/feishu", "secret": FEISHU_SECRET}},
        smtp={"host": "127.0.0.1", "port": mailbox.port, "sender": "alerts@centre.test"},
        teams={"网络投诉一组": {"channels": ["team1"], "lead_email": "lead1@centre.test", "lead_mobile": "13800000001"}},
        handlers={"李娜": {"mobile": "13900000002", "email": "lina@centre.test"}},
        manager={"channels": ["centre", "boss"], "email": "boss@centre.test"})


@pytest.fixture
def case(db_url, tmp_path):
    rows = [case_row("AL-1", received_at=RECEIVED.strftime("%Y-%m-%d %H:%M"), handler="李娜", team="网络投诉一组",
                     customer_name="王小明", customer_phone="13812345678", promised_reply_at="")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=RECEIVED).ok
    return db_url


def at(hours: float) -> datetime:
    return (RECEIVED + timedelta(hours=hours)).astimezone(timezone.utc)


def sweep(url, settings, hours, **kw):
    return alerts.sweep(url, at(hours), settings, worker=kw.pop("worker", "w1"), **kw)


def statuses(url):
    with session_scope(url) as s:
        return sorted((a.rule_id, a.level, a.target, a.channel, a.status) for a in s.scalars(select(Alert)))


def test_nothing_before_the_first_trigger_then_the_handler_and_team_at_75_percent(case, settings, robots, mailbox):
    assert sweep(case, settings, 17)["queued"] == 0  # 17 h of 24: not yet
    result = sweep(case, settings, 18.5)  # 75 % of the 24 h first contact has passed (09:30, no quiet hours)
    assert result["sent"] >= 2
    (path, body), = [r for r in robots.received if r[0] == "/wecom"]
    text = body["text"]["content"]
    assert "AL-1" in text and "24小时内首次联系客户" in text and "8.3.5" in text and "李娜" in text
    assert body["text"]["mentioned_mobile_list"] == ["13900000002"]  # the handler @-mentioned in the group
    assert [to for to, _m in mailbox.messages] == [["lina@centre.test"]]
    for _p, b in robots.received:
        assert "王小明" not in json.dumps(b, ensure_ascii=False) and "13812345678" not in json.dumps(b)
    assert "王小明" not in mailbox.messages[0][1] and "13812345678" not in mailbox.messages[0][1]
    again = sweep(case, settings, 18.6)  # the same trigger is never sent twice
    assert again["queued"] == 0 and again["sent"] == 0 and len(robots.received) == 1


def test_escalation_at_breach_to_the_lead_and_later_to_the_manager_with_signatures(case, settings, robots, mailbox):
    sweep(case, settings, 18.5)
    robots.received.clear()
    mailbox.messages.clear()
    sweep(case, settings, 24.1)  # first contact missed: the team lead (group robot @lead, and e-mail)
    assert [to for to, _m in mailbox.messages] == [["lead1@centre.test"]]
    assert any(b["text"]["mentioned_mobile_list"] == ["13800000001"] for p, b in robots.received if p == "/wecom")
    sweep(case, settings, 28.2)  # 4 h after the breach: the manager, through DingTalk and Feishu (signed)
    paths = sorted({p for p, _b in robots.received})
    assert paths == ["/ding", "/feishu", "/wecom"]
    assert ["boss@centre.test"] in [to for to, _m in mailbox.messages]


def test_a_deadline_met_meanwhile_cancels_its_alert(case, settings, robots, tmp_path):
    settings.teams["网络投诉一组"]["channels"] = ["team1"]
    robots.modes["/wecom"] = "error"  # the group robot fails at first: the alert waits for a retry
    sweep(case, settings, 18.5)
    assert ("SLA-FIRST-CONTACT", 1, "team", "team1", "pending") in statuses(case)
    contacts = write_csv(tmp_path / "k.csv", [contact_row("AL-1", RECEIVED.replace(hour=23).strftime("%Y-%m-%d %H:%M"))])
    assert import_files(None, contacts, now=at(19)).ok
    robots.modes.clear()
    sweep(case, settings, 19.5)
    assert ("SLA-FIRST-CONTACT", 1, "team", "team1", "cancelled") in statuses(case)
    assert robots.received == []


def test_failures_are_retried_with_backoff_then_succeed_and_other_channels_are_not_blocked(case, settings, robots, mailbox):
    robots.modes["/wecom"] = "error"
    first = sweep(case, settings, 18.5)
    assert first["retry"] >= 1 and mailbox.messages  # e-mail went out although the robot failed
    with session_scope(case) as s:
        row = s.scalar(select(Alert).where(Alert.channel == "team1", Alert.target == "team"))
        assert row.attempts == 1 and "300001" in row.last_error and row.next_attempt_at > at(18.5)
    robots.modes.clear()
    assert sweep(case, settings, 18.51)["sent"] == 0  # not before the backoff
    assert sweep(case, settings, 18.6)["sent"] >= 1
    assert robots.received


def test_a_rate_limited_or_silent_robot_is_retried_and_failed_after_the_window(case, settings, robots):
    robots.modes["/wecom"] = "ratelimit"
    sweep(case, settings, 18.5)
    robots.modes["/wecom"] = "error"
    sweep(case, settings, 18.5 + 7)  # past the 6 h retry window
    with session_scope(case) as s:
        row = s.scalar(select(Alert).where(Alert.channel == "team1", Alert.target == "team"))
    assert row.status in ("failed", "cancelled")  # by now the deadline itself has passed too


def test_quiet_hours_hold_a_message_until_they_end(db_url, tmp_path, settings, robots):
    night = datetime(2026, 11, 27, 5, 0, tzinfo=SH)  # received 05:00, 75 % at 23:00 — inside 22:00-07:30
    rows = [case_row("AL-N", received_at=night.strftime("%Y-%m-%d %H:%M"), handler="李娜", team="网络投诉一组",
                     promised_reply_at="")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=night).ok
    t = lambda h: (night + timedelta(hours=h)).astimezone(timezone.utc)  # noqa: E731
    assert alerts.sweep(db_url, t(18.5), settings, worker="w")["sent"] == 0
    assert robots.received == []
    assert alerts.sweep(db_url, t(26.6), settings, worker="w")["sent"] >= 1  # 07:36 the next morning
    assert robots.received


def test_two_workers_at_once_never_send_the_same_message(case, settings, robots, mailbox):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda w: alerts.sweep(case, at(18.5), settings, worker=w), ["w1", "w2"]))
    assert sum(r["sent"] for r in results) == sum(1 for _ in statuses(case))
    assert len([r for r in robots.received if r[0] == "/wecom"]) == 1
    assert len(mailbox.messages) == 1


def test_rows_a_killed_worker_left_sending_are_not_sent_again(case, settings, robots):
    with session_scope(case) as s:
        store.enqueue(s, alerts.decide(s, settings, at(18.5)))
    with session_scope(case) as s:
        store.claim(s, "dead-worker", at(18.5))  # claimed, then the worker died before sending
    result = sweep(case, settings, 18.8)
    assert result["unconfirmed"] >= 1 and result["sent"] == 0 and robots.received == []
    assert all(st == "unconfirmed" for *_x, st in statuses(case))


def test_an_unanswered_notice_past_its_reply_by_alerts_the_team_lead(case, settings, mailbox):
    with session_scope(case) as s:
        send_notice(s, "AL-1", "SLA-FINAL-RESULT", "请今天回复", at(6), "lead", "team_lead", at(2))
    mailbox.messages.clear()
    sweep(case, settings, 6.5)
    bodies = [m for to, m in mailbox.messages if to == ["lead1@centre.test"]]
    assert bodies and "督办通知逾期未答复" in bodies[0]


def test_a_daily_digest_goes_to_each_team_and_the_manager_once(case, settings, mailbox):
    settings.digest_time = "08:30"
    morning = datetime(2026, 11, 28, 8, 45, tzinfo=SH).astimezone(timezone.utc)
    alerts.sweep(case, morning, settings, worker="w")
    alerts.sweep(case, morning + timedelta(minutes=5), settings, worker="w")
    digests = [(to, m) for to, m in mailbox.messages if "每日督办摘要" in m]
    assert sorted(to[0] for to, _m in digests) == ["boss@centre.test", "lead1@centre.test"]
    assert "昨日超时" in digests[0][1]


def test_the_managers_digest_lists_overdue_improvement_actions(case, settings, mailbox):
    """An action of the problem register past its due date reaches the manager in the daily digest, not the
    teams; done actions do not."""
    from db.problems import add_action, create_problem, update_action

    settings.digest_time = "08:30"
    morning = datetime(2026, 11, 28, 8, 45, tzinfo=SH).astimezone(timezone.utc)
    with session_scope(case) as s:
        pid = create_problem(s, "答复超时", "最终答复经常超时", "张经理", ["AL-1"], "boss", "manager", morning - timedelta(days=10))
        add_action(s, pid, "corrective", "调整排班保证答复（客户电话13812345678）", "李组长", morning - timedelta(days=3), "boss", "manager",
                   morning - timedelta(days=10))
        done = add_action(s, pid, "immediate", "当日答复积压件", "王主管", morning - timedelta(days=5), "boss", "manager",
                          morning - timedelta(days=10))
        update_action(s, done, "done", "已清零", "boss", "manager", morning - timedelta(days=6))
    alerts.sweep(case, morning, settings, worker="w")
    digests = {to[0]: m for to, m in mailbox.messages if "每日督办摘要" in m}
    assert "整改措施逾期 1 项" in digests["boss@centre.test"] and "调整排班保证答复" in digests["boss@centre.test"]
    assert "李组长" in digests["boss@centre.test"] and "当日答复积压件" not in digests["boss@centre.test"]
    assert "13812345678" not in digests["boss@centre.test"]  # de-identified before it leaves
    assert "整改措施逾期" not in digests["lead1@centre.test"]


def test_policies_are_checked_versioned_and_audited(db_url):
    with pytest.raises(PolicyInvalid, match="trigger 1: rule_id"):
        validate({"triggers": [{"rule_id": "NOPE", "level": 1, "when": "breach", "targets": ["team"]}]})
    with pytest.raises(PolicyInvalid, match="needs percent or hours"):
        validate({"triggers": [{"rule_id": "SLA-FIRST-CONTACT", "level": 1, "when": "before", "targets": ["team"]}]})
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    from domain.alerts import dumps
    from domain.roles import Forbidden

    with pytest.raises(Forbidden):
        with session_scope(db_url) as s:
            store.save_policy(s, dumps(DEFAULT), "lead", "team_lead", now)
    with session_scope(db_url) as s:
        saved = store.save_policy(s, dumps(DEFAULT), "boss", "admin", now)
        assert saved.version == 1
    with session_scope(db_url) as s:
        assert store.current_policy(s).version == 1
        assert s.scalar(select(func.count()).select_from(Alert)) == 0
        from db.audit import search

        assert [e["action"] for e in search(s, action="save_alert_policy")] == ["save_alert_policy"]


def test_a_robot_that_does_not_answer_in_time_is_retried_later(case, settings, robots):
    settings.channels["team1"]["timeout"] = 1
    robots.modes["/wecom"] = "timeout"
    result = sweep(case, settings, 18.5)
    assert result["retry"] >= 1
    with session_scope(case) as s:
        row = s.scalar(select(Alert).where(Alert.channel == "team1", Alert.target == "team"))
        assert row.status == "pending" and "not reachable" in row.last_error


def test_the_alerts_page_shows_status_policy_preview_and_log(case, settings, robots, travel):
    from tests.apptest import refused_directly, signed_in

    sweep(case, settings, 18.5)
    travel(at(19))  # the page shows the last 7 days' log and yesterday's preview: half an hour after the sweep
    at_ = signed_in("admin", username="boss")
    at_.run()
    at_.switch_page("pages/alerts.py").run()
    assert not at_.exception
    assert at_.caption[0].value.startswith("告警服务：最近运行")
    assert any("昨天会发出" in i.value for i in at_.info)
    log = next(d.value for d in at_.dataframe if "工单号" in d.value.columns)  # the policy form is a table too
    assert "AL-1" in set(log["工单号"]) and "已发送" in set(log["状态"])
    assert not any("王小明" in str(v) for v in log.to_numpy().ravel())
    assert refused_directly("pages/alerts.py", "inspector") and not refused_directly("pages/alerts.py", "team_lead")


def test_the_preview_counts_what_yesterday_would_have_sent(case):
    with session_scope(case) as s:
        from db.obligations import thresholds

        n, cases = store.preview(s, DEFAULT, thresholds(s), at(0), at(48))
    assert cases == 1 and n >= 5  # first contact: 75 % (2 targets), breach and repeats, the manager; final result


def test_quiet_hours_per_channel_and_channels_per_level(case, settings, robots, mailbox):
    from dataclasses import replace
    from datetime import time as clock

    from domain.alerts import dumps

    # e-mail keeps office hours (09:00-18:00 only); the first level goes only through the group robot
    policy = validate(json.loads(dumps(DEFAULT)) | {"quiet": {"email": ["18:00", "09:00"]}})
    first = [replace(t, via=("wecom",)) if (t.rule_id, t.level) == ("SLA-FIRST-CONTACT", 1) else t for t in policy.triggers]
    raw = json.loads(dumps(replace(policy, triggers=tuple(first))))
    with session_scope(case) as s:
        store.save_policy(s, raw, "boss", "admin", at(0))
    sweep(case, settings, 18.5)  # 09:30: level 1 only to the robot, no e-mail to the handler
    assert [p for p, _b in robots.received] == ["/wecom"] and mailbox.messages == []
    sweep(case, settings, 28.2)  # 19:12: the breach e-mails to the lead and manager wait for 09:00
    assert mailbox.messages == []
    with session_scope(case) as s:
        held = s.scalars(select(Alert).where(Alert.channel == "email", Alert.status == "pending")).all()
        assert held and all(a.next_attempt_at.astimezone(SH).time() == clock(9, 0) for a in held)
    sweep(case, settings, 42.1)  # 09:06 the next morning
    assert {to[0] for to, _m in mailbox.messages} >= {"lead1@centre.test", "boss@centre.test"}


def test_the_policy_form_round_trips_and_is_checked_like_the_json():
    from datetime import time

    from domain.alerts import DEFAULT, PolicyInvalid, validate
    from services.alerts import policy_from_form, policy_rows

    rows = policy_rows(DEFAULT)
    body = policy_from_form(rows + [{"rule_id": None, "targets": [], "via": [], "urgent": False}],  # a blank row
                            time(22, 0), time(7, 30), [], [], [], {})
    again = validate(body)
    assert again.triggers == DEFAULT.triggers and (again.quiet_start, again.quiet_end) == (time(22, 0), time(7, 30))
    rows[0] = {**rows[0], "percent": None, "hours": None}  # a "before" trigger with neither
    with pytest.raises(PolicyInvalid, match="trigger 1: a 'before' trigger needs percent or hours"):
        validate(policy_from_form(rows, None, None, ["网络投诉一组"], ["network"], [], {}))
    kept = validate(policy_from_form(policy_rows(DEFAULT), None, None, ["网络投诉一组"], [], [],
                                     {"email": (time(20, 0), time(8, 0))}))
    assert kept.teams == ("网络投诉一组",) and kept.quiet == {"email": (time(20, 0), time(8, 0))}
    assert kept.quiet_start is None
