"""The alert worker: one sweep decides what is due (and writes it once to the outbox, in the same
transaction), then delivers what may go now — several deadlines to one robot or one address in one
message, within the robots' rate limits, retried with exponential backoff, cancelled if the deadline was
met meanwhile. `manage.py alerts` runs one sweep (cron, every minute) or `--loop`."""
from __future__ import annotations

import time as _time
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable

from db import alerts as store
from db import board
from db.notices import overdue_by_handler
from db.problems import overdue_actions
from db.obligations import thresholds
from db.session import session_scope
from domain import clock
from domain.alerts import line
from domain.deid import scrub_text
from domain.config import local_zone
from rules.catalogue import BY_ID
from services.channels import RATE_PER_MINUTE, Settings, Undelivered, load_settings, send_email, send_robot

LOOKBACK = timedelta(hours=26)  # a worker stopped for up to a day still sends what fell due meanwhile
RETRY_WINDOW = timedelta(hours=6)  # after this, a message that could not be delivered is marked failed
MAX_BACKOFF = timedelta(hours=1)
MAX_DIGEST_ACTIONS = 10

Sender = Callable[..., None]


def decide(session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for every firing due by now (the worker inserts them; duplicates are skipped by key)."""
    policy = store.current_policy(session)
    zone = local_zone()
    rows = []
    for f in store.due_firings(session, policy, thresholds(session), now - LOOKBACK, now):
        rule = BY_ID.get(f.rule_id)
        title = "督办通知逾期未答复" if f.kind == "notice" else rule.title_zh
        clause = "7.1.2" if f.kind == "notice" else rule.clause
        body = line(f.case_no, title, clause, f.handler, f.due_at, now, zone, f.trigger.when)
        for target in f.trigger.targets:
            for channel, address in settings.addresses(target, f.team, f.handler):
                kind = settings.kind(channel)
                if f.trigger.via and kind not in f.trigger.via:
                    continue
                release = policy.release(now, zone, f.trigger.urgent, kind)
                rows.append({
                    "dedupe_key": f"{f.kind}:{f.key}:{f.rule_id}:{f.trigger.level}:{f.occurrence}:{channel}:{address}",
                    "kind": f.kind, "case_id": f.case_id, "case_no": f.case_no, "rule_id": f.rule_id,
                    "level": f.trigger.level, "occurrence": f.occurrence, "target": target, "channel": channel,
                    "address": address, "body": body, "due_at": f.due_at, "fire_at": f.fire_at, "created_at": now,
                    "next_attempt_at": release, "status": "pending", "attempts": 0})
    return rows + digest_rows(session, settings, now)


def digest_rows(session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Once a day at the configured time: per team and for the manager, yesterday's breaches and on-time
    rates, what is at risk now, and the 督办 notices left unanswered; the manager's also lists the
    improvement actions past their due date (10.2.1)."""
    if not settings.digest_time:
        return []
    zone = local_zone()
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), time.fromisoformat(settings.digest_time), tzinfo=zone)
    if local < at or local - at > timedelta(hours=12):
        return []
    day_end = datetime.combine(local.date(), time(0), tzinfo=zone)
    day_start = day_end - timedelta(days=1)
    late = overdue_by_handler(session, now)
    overdue_actions_now = overdue_actions(session, now)
    rows = []
    groups = [(team, (team,), [(c, "") for c in cfg.get("channels", [])] +
               ([("email", cfg["lead_email"])] if cfg.get("lead_email") else []))
              for team, cfg in settings.teams.items()]
    groups.append(("全中心", (), settings.addresses("manager", None, None)))
    for name, teams, addresses in groups:
        f = board.BoardFilters(teams=teams)
        rates = board.compliance(session, now, f, day_start, day_end)
        tiles = board.tiles(session, now, f, day_end)
        breached = sum(r["breached"] for r in rates)
        lines = [f"【每日督办摘要】{name} · {day_start.date():%m-%d}",
                 f"昨日超时 {breached} 件；处理中 {tiles['open_cases']} 件，即将超时 {tiles['at_risk']} 件，"
                 f"已超时待处理 {tiles['overdue_open']} 件"]
        lines += [f"{BY_ID[r['rule_id']].title_zh}：达标率 {100 * r['rate']:.1f}%（{r['met']}/{r['met'] + r['breached']}）"
                  for r in rates]
        unanswered = sum(late.values()) if not teams else None
        if unanswered is not None:
            lines.append(f"督办通知逾期未答复 {unanswered} 件")
        if not teams and overdue_actions_now:  # the improvement register's overdue actions (10.2.1), managers only
            lines.append(f"整改措施逾期 {len(overdue_actions_now)} 项：")
            # free text written by managers leaves for a robot: de-identified like every alert
            lines += [f"  问题#{a['problem_id']} {scrub_text(a['problem'], [])[:30]} · {scrub_text(a['text'], [])[:40]} · "
                      f"{a['owner']} · 逾期 {a['days']} 天" for a in overdue_actions_now[:MAX_DIGEST_ACTIONS]]
            if len(overdue_actions_now) > MAX_DIGEST_ACTIONS:
                lines.append(f"  另有 {len(overdue_actions_now) - MAX_DIGEST_ACTIONS} 项见问题台账")
        for channel, address in addresses:
            rows.append({"dedupe_key": f"digest:{local.date()}:{name}:{channel}:{address}", "kind": "digest",
                         "case_id": None, "case_no": None, "rule_id": None, "level": 0, "occurrence": 0,
                         "target": "manager" if not teams else "team", "channel": channel, "address": address,
                         "body": "\n".join(lines), "due_at": None, "fire_at": at, "created_at": now,
                         "next_attempt_at": now, "status": "pending", "attempts": 0})
    return rows


def deliver(url: str | None, settings: Settings, now: datetime, worker: str,
            robot: Sender = send_robot, email: Sender = send_email) -> dict[str, int]:
    """Send what is due now. Claimed rows are committed as 'sending' before anything leaves, so another
    worker never takes them; each is then marked sent, pending again (with backoff), failed or cancelled."""
    with session_scope(url) as session:
        claimed = store.claim(session, worker, now)
        snapshot = [(a.id, a.kind, a.channel, a.address, a.body, a.created_at, a.attempts) for a in claimed]
    counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
    if not snapshot:
        return counts
    with session_scope(url) as session:
        owed = store.still_owed(session, claimed, now)
        for aid, *_rest in snapshot:
            if aid not in owed:
                store.mark(session, aid, "cancelled", now, "the deadline was met before the message went out")
                counts["cancelled"] += 1
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in snapshot:
        if row[0] in owed:
            _aid, _kind, channel, address, *_ = row
            groups[(channel, address if channel == "email" else "")].append(row)
    for (channel, address), rows in groups.items():
        kind = settings.kind(channel)
        limit = RATE_PER_MINUTE.get(kind)
        with session_scope(url) as session:
            busy = limit is not None and store.sent_recently(session, channel, now) >= limit
        if busy:
            _retry(url, rows, now, "rate limit: held for a minute", counts, minutes=1)
            continue
        bodies = list(dict.fromkeys(r[4] for r in rows))
        title = f"投诉督办提醒（{len(bodies)} 条）"
        try:
            if channel == "email":
                email(settings, address, title, bodies)
            else:
                robot(settings, channel, title, bodies, [r[3] for r in rows])
        except Undelivered as exc:
            _retry(url, rows, now, str(exc), counts, give_up=not exc.retry)
            continue
        with session_scope(url) as session:
            for row in rows:
                store.mark(session, row[0], "sent", now)
        counts["sent"] += len(rows)
    return counts


def _retry(url: str | None, rows: list[tuple], now: datetime, error: str, counts: dict[str, int],
           minutes: float | None = None, give_up: bool = False) -> None:
    with session_scope(url) as session:
        for aid, _kind, _channel, _address, _body, created, attempts in rows:
            if give_up or now - created >= RETRY_WINDOW:
                store.mark(session, aid, "failed", now, error)
                counts["failed"] += 1
                continue
            wait = timedelta(minutes=minutes) if minutes else min(MAX_BACKOFF, timedelta(minutes=2 ** attempts))
            store.mark(session, aid, "pending", now, error, retry_at=now + wait)
            counts["retry"] += 1


def sweep(url: str | None = None, now: datetime | None = None, settings: Settings | None = None,
          worker: str | None = None, **senders: Sender) -> dict[str, int]:
    """One sweep: decide and write what is due, mark rows a stopped worker left behind, deliver."""
    now = now or clock.now_precise()
    settings = settings or load_settings()
    worker = worker or store.worker_name()
    with session_scope(url) as session:
        queued = store.enqueue(session, decide(session, settings, now))
        stale = store.release_stale(session, now)
    counts = deliver(url, settings, now, worker, **senders)
    with session_scope(url) as session:
        store.beat(session, worker, now, {"queued": queued, **counts})
    return {"queued": queued, "unconfirmed": stale, **counts}


def loop(url: str | None, interval: float = 60, stop: Callable[[], bool] = lambda: False) -> None:
    while not stop():
        sweep(url)
        _time.sleep(interval)


def send_test(settings: Settings, channel: str, address: str = "") -> None:
    """A test message through one channel (the page's button); raises Undelivered with the reason."""
    text = ["这是一条测试消息：投诉督办台可以通过此渠道发送时限提醒。"]
    if channel == "email":
        send_email(settings, address, "投诉督办台测试消息", text)
    else:
        send_robot(settings, channel, "投诉督办台测试消息", text, [])


TRIGGER_COLUMNS = ["rule_id", "level", "when", "percent", "hours", "repeat_hours", "max_repeats", "targets", "via",
                   "urgent"]


def policy_rows(policy) -> list[dict]:
    """A policy's triggers as editor rows (one per trigger; lists stay lists for multiselect cells)."""
    return [{"rule_id": t.rule_id, "level": t.level, "when": t.when, "percent": t.percent, "hours": t.hours,
             "repeat_hours": t.repeat_hours or None, "max_repeats": t.max_repeats or None,
             "targets": list(t.targets), "via": list(t.via), "urgent": bool(t.urgent)} for t in policy.triggers]


def policy_from_form(rows: list[dict], quiet_start, quiet_end, teams, categories, channels, keep_quiet: dict) -> dict:
    """The editor's rows and fields as the policy's stored form, for domain.alerts.validate to check (empty
    rows — a blank line added in the editor — are left out; per-channel quiet hours are kept as they were)."""
    def blank(v) -> bool:
        return v is None or (isinstance(v, float) and v != v) or v == ""

    triggers = []
    for r in rows:
        if all(blank(r.get(c)) or r.get(c) in ([], False) for c in TRIGGER_COLUMNS):
            continue
        triggers.append({"rule_id": r.get("rule_id") or "", "level": None if blank(r.get("level")) else r["level"],
                         "when": r.get("when") or "", "percent": None if blank(r.get("percent")) else r["percent"],
                         "hours": None if blank(r.get("hours")) else r["hours"],
                         "repeat_hours": 0 if blank(r.get("repeat_hours")) else r["repeat_hours"],
                         "max_repeats": 0 if blank(r.get("max_repeats")) else r["max_repeats"],
                         "targets": list(r.get("targets") or []), "via": list(r.get("via") or []),
                         "urgent": bool(r.get("urgent"))})
    hhmm = (lambda t: t.strftime("%H:%M") if t is not None else None)
    return {"triggers": triggers, "quiet_start": hhmm(quiet_start), "quiet_end": hhmm(quiet_end),
            "teams": list(teams), "categories": list(categories), "channels": list(channels),
            "quiet": {k: [hhmm(a), hhmm(b)] for k, (a, b) in (keep_quiet or {}).items()}}
