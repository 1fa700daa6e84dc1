"""Where alerts go: WeCom (企业微信) and DingTalk (钉钉) group robots, Feishu (飞书) bots, and e-mail.

The settings — robot addresses, signing secrets, the SMTP server and password, who is reached how — are
secrets: they come from the TOML file named by COMPLAINTS_ALERTS_CONFIG, else the [alerts] table of
.streamlit/secrets.toml; never from the database or the audit log. Example:

    [alerts]
    digest_time = "08:30"
    [alerts.channels.team1]                 # a WeCom group robot
    kind = "wecom"
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."
    [alerts.channels.centre]                # a DingTalk robot with signing
    kind = "dingtalk"
    url = "https://oapi.dingtalk.com/robot/send?access_token=..."
    secret = "SEC..."
    [alerts.smtp]
    host = "smtp.example.com"
    port = 465
    sender = "alerts@example.com"
    user = "alerts@example.com"
    password = "..."
    ssl = true
    [alerts.teams."网络投诉一组"]
    channels = ["team1"]
    lead_email = "lead1@example.com"
    lead_mobile = "13800000001"             # @-mentioned in the team's robot
    [alerts.handlers."李娜"]
    mobile = "13900000002"
    email = "lina@example.com"
    [alerts.manager]
    channels = ["centre"]
    email = "manager@example.com"

Each robot's answer is checked by its JSON error code, not only the HTTP status (they answer 200 with an
error). A failure raises Undelivered; the worker retries with backoff.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Sequence

from domain.config import ROOT

TIMEOUT = 10
RATE_PER_MINUTE = {"wecom": 20, "dingtalk": 20, "feishu": 50}


class Undelivered(Exception):
    """The channel did not take the message; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass
class Settings:
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    smtp: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    handlers: dict[str, dict[str, Any]] = field(default_factory=dict)
    manager: dict[str, Any] = field(default_factory=dict)
    digest_time: str | None = None

    def addresses(self, target: str, team: str | None, handler: str | None) -> list[tuple[str, str]]:
        """(channel id or "email", address) pairs for one target of one deadline; the address is the
        mobile to @-mention in a robot message, or an e-mail address."""
        t = self.teams.get(team or "", {})
        out: list[tuple[str, str]] = []
        if target == "team":
            out += [(c, "") for c in t.get("channels", [])]
        elif target == "handler":
            person = self.handlers.get(handler or "", {})
            out += [(c, person.get("mobile", "")) for c in t.get("channels", [])]
            if person.get("email"):
                out.append(("email", person["email"]))
        elif target == "team_lead":
            out += [(c, t.get("lead_mobile", "")) for c in t.get("channels", [])]
            if t.get("lead_email"):
                out.append(("email", t["lead_email"]))
        elif target == "manager":
            out += [(c, "") for c in self.manager.get("channels", [])]
            if self.manager.get("email"):
                out.append(("email", self.manager["email"]))
        return out

    def kind(self, channel: str) -> str:
        return "email" if channel == "email" else str(self.channels.get(channel, {}).get("kind", ""))


def load_settings(path: str | None = None) -> Settings:
    """The alert settings from COMPLAINTS_ALERTS_CONFIG (a TOML file) or .streamlit/secrets.toml."""
    source = path or os.environ.get("COMPLAINTS_ALERTS_CONFIG")
    file = Path(source) if source else ROOT / ".streamlit" / "secrets.toml"
    if not file.exists():
        return Settings()
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    a = data.get("alerts", data if source else {})
    return Settings(channels=dict(a.get("channels", {})), smtp=dict(a.get("smtp", {})), teams=dict(a.get("teams", {})),
                    handlers=dict(a.get("handlers", {})), manager=dict(a.get("manager", {})),
                    digest_time=a.get("digest_time"))


# ---------------------------------------------------------------- robots

def _post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise Undelivered(f"HTTP {exc.code}", retry=exc.code == 429 or exc.code >= 500) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Undelivered(f"not reachable: {getattr(exc, 'reason', exc)}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Undelivered("the answer was not JSON") from None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu: HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message, base64."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _check(answer: dict[str, Any], code_field: str) -> None:
    """These services answer HTTP 200 with an error code: 0 is the only success (a rate limit, a bad
    signature or key are codes too; all are retried until the retry window ends)."""
    code = answer.get(code_field, answer.get("StatusCode", -1))
    if code != 0:
        message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise Undelivered(f"error code {code}: {message}")


def send_robot(settings: Settings, channel: str, title: str, lines: Sequence[str], mentions: Sequence[str]) -> None:
    cfg = settings.channels.get(channel)
    if not cfg:
        raise Undelivered(f"no channel {channel!r} in the alert settings", retry=False)
    kind, url = cfg.get("kind"), cfg.get("url", "")
    timeout = float(cfg.get("timeout", TIMEOUT))
    text = title + "\n" + "\n".join(lines)
    mobiles = sorted({m for m in mentions if m})
    if kind == "wecom":
        answer = _post(url, {"msgtype": "text", "text": {"content": text, "mentioned_mobile_list": mobiles}}, timeout)
        _check(answer, "errcode")
    elif kind == "dingtalk":
        if cfg.get("secret"):
            ts = int(time.time() * 1000)  # real clock: the robot checks the signature's time against its own
            url = f"{url}&timestamp={ts}&sign={dingtalk_sign(cfg['secret'], ts)}"
        body = "#### " + title + "\n\n" + "\n\n".join("- " + line for line in lines)
        if mobiles:
            body += "\n\n" + " ".join(f"@{m}" for m in mobiles)
        answer = _post(url, {"msgtype": "markdown", "markdown": {"title": title, "text": body},
                             "at": {"atMobiles": mobiles, "isAtAll": False}}, timeout)
        _check(answer, "errcode")
    elif kind == "feishu":
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if cfg.get("secret"):
            ts = int(time.time())  # real clock: the robot checks the signature's time against its own
            payload.update(timestamp=str(ts), sign=feishu_sign(cfg["secret"], ts))
        answer = _post(url, payload, timeout)
        _check(answer, "code")
    else:
        raise Undelivered(f"channel {channel!r} has an unknown kind {kind!r}", retry=False)


def send_email(settings: Settings, to: str, subject: str, lines: Sequence[str]) -> None:
    cfg = settings.smtp
    if not cfg.get("host"):
        raise Undelivered("no SMTP server in the alert settings", retry=False)
    msg = EmailMessage()
    msg["From"] = cfg.get("sender", "alerts@localhost")
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("\n".join(lines) + "\n\n—— 投诉督办台自动发送，请勿回复。")
    try:
        cls = smtplib.SMTP_SSL if cfg.get("ssl") else smtplib.SMTP
        with cls(cfg["host"], int(cfg.get("port", 25)), timeout=TIMEOUT) as smtp:
            if cfg.get("starttls"):
                smtp.starttls()
            if cfg.get("user"):
                smtp.login(cfg["user"], cfg.get("password", ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise Undelivered(f"SMTP: {exc}") from None
