"""Where the product finds its database and its time zone.

Every value is read at call time, not import time, so tests (and Streamlit's AppTest, which shares the
pytest process) can point the product at another database by changing the environment.
"""
from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_DB_FILE = DATA_DIR / "complaints.sqlite3"
ENV_DB_URL = "COMPLAINTS_DB_URL"
ENV_TZ = "COMPLAINTS_TZ"
DEFAULT_TZ = "Asia/Shanghai"


def database_url(explicit: str | None = None) -> str:
    """--db URL, else COMPLAINTS_DB_URL, else Streamlit secrets (set by the app), else the embedded file."""
    if explicit:
        return explicit
    env = os.environ.get(ENV_DB_URL)
    if env:
        return env
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return default_database_url()


def default_database_url() -> str:
    """The embedded SQLite file under data/ (the README's first command runs on it)."""
    return f"sqlite:///{DEFAULT_DB_FILE}"


def local_zone() -> ZoneInfo:
    return ZoneInfo(os.environ.get(ENV_TZ) or DEFAULT_TZ)


ENV_SESSION_SECRET = "COMPLAINTS_SESSION_SECRET"
SESSION_SECRET_FILE = DATA_DIR / ".session_secret"


def session_secret(explicit: str | None = None) -> bytes:
    """The server-side secret that signs sign-in cookies: COMPLAINTS_SESSION_SECRET (or the app passes
    `session_secret` from .streamlit/secrets.toml), else a random one made once and kept in
    data/.session_secret (readable by the server's user only). Never stored in the database."""
    value = explicit or os.environ.get(ENV_SESSION_SECRET)
    if value:
        return value.encode("utf-8")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not SESSION_SECRET_FILE.exists():
        import secrets

        fd = os.open(SESSION_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return SESSION_SECRET_FILE.read_text().strip().encode("utf-8")


ENV_CUSTOMER_KEY_SECRET = "COMPLAINTS_CUSTOMER_KEY_SECRET"
CUSTOMER_KEY_FILE = DATA_DIR / ".customer_key_secret"


def customer_key_secret() -> bytes:
    """The secret behind the keyed hash that recognises a customer across cases (repeat complaints):
    COMPLAINTS_CUSTOMER_KEY_SECRET, else a random one made once in data/.customer_key_secret (the server's
    user only). Several servers on one database must share it through the environment. Never stored in the
    database: without it the stored keys cannot be matched to phone numbers."""
    value = os.environ.get(ENV_CUSTOMER_KEY_SECRET)
    if value:
        return value.encode("utf-8")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not CUSTOMER_KEY_FILE.exists():
        import secrets

        try:
            fd = os.open(CUSTOMER_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return CUSTOMER_KEY_FILE.read_text().strip().encode("utf-8")
