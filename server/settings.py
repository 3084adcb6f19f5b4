"""Settings from the environment. Local runs keep a generated secret under var/."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from server.i18n import in_reader_language

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
# The demo town's single phone number (a made-up one on Zainsk's code), so a demo shows it.
DEMO_TOWN_PHONE = "+7 85558 0-00-00"


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _local_secret() -> str:
    path = VAR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    broadcast_url: str
    secret_key: str
    base_url: str
    media_dir: Path
    demo: bool
    production: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None  # sessions in Redis when set
    vapid_private_key: str | None = None
    vapid_public_key: str | None = None
    vapid_subject: str = "mailto:support@zayavka.example"
    push_worker_in_process: bool = True
    town_name: str = "Заинск"
    # The town's name in Tatar and English; empty shows the Russian one.
    town_name_tt: str = "Зәй"
    town_name_en: str = "Zainsk"
    # The single phone number of the town's dispatch service, as residents should read it.
    town_phone: str = ""
    login_attempts_per_minute: int = 20
    # SMS to residents without the app (docs/sms.md): the provider, e.g. smsru://API_ID@,
    # smsc://LOGIN:PASSWORD@, smpp://SYSTEM_ID:PASSWORD@HOST:PORT; empty or SMS_ENABLED=0: none.
    sms_url: str = ""
    sms_enabled: bool = True
    sms_daily_cap: int = 10  # SMS per resident and town day
    sms_webhook_token: str = ""  # the secret part of the providers' callback addresses
    sms_sender: str = ""  # the sender name agreed with the provider, if any
    # Database connections per process (server/db/session.py PoolSize says how to choose).
    db_pool_size: int = 20
    db_pool_overflow: int = 0
    db_pool_timeout: float = 30.0
    # The cloud PBX of the single number (server/phone/, docs/phone.md): the keys that sign
    # its webhooks, and which extension is which operator («101=ivanova,102=petrova»).
    mango_api_key: str = ""
    mango_api_salt: str = ""
    zadarma_secret: str = ""
    pbx_secret: str = ""
    pbx_operators: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def shown_town_name(self) -> str:
        """The town's name in the reader's language."""
        return in_reader_language(self.town_name, tt=self.town_name_tt, en=self.town_name_en)

    @property
    def town_phone_uri(self) -> str:
        """The `tel:` address of the town's number: its digits, with the + when written."""
        digits = re.sub(r"\D", "", self.town_phone)
        return f"tel:{'+' if self.town_phone.startswith('+') else ''}{digits}"

    @property
    def sms_on(self) -> bool:
        return self.sms_enabled and bool(self.sms_url)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        production = _flag(env.get("PRODUCTION"))
        secret = env.get("SECRET_KEY") or ""
        if not secret:
            if production:
                raise RuntimeError("SECRET_KEY must be set when PRODUCTION=1")
            secret = _local_secret()
        host = env.get("HOST", "127.0.0.1")
        port = int(env.get("PORT", "8000"))
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{VAR / 'zayavka.db'}"
        base_url = (env.get("BASE_URL") or f"http://{host}:{port}").rstrip("/")
        if production and not base_url.startswith("https://"):
            # Secure cookies and HSTS would not work, and QR codes would print an http address.
            raise RuntimeError("BASE_URL must be an https:// address when PRODUCTION=1")
        return cls(
            database_url=normalise_database_url(database_url),
            broadcast_url=env.get("BROADCAST_URL", "memory://"),
            secret_key=secret,
            base_url=base_url,
            media_dir=Path(env.get("MEDIA_DIR") or VAR / "media"),
            demo=_flag(env.get("DEMO")),
            production=production,
            host=host,
            port=port,
            redis_url=env.get("REDIS_URL") or None,
            vapid_private_key=env.get("VAPID_PRIVATE_KEY") or None,
            vapid_public_key=env.get("VAPID_PUBLIC_KEY") or None,
            vapid_subject=env.get("VAPID_SUBJECT", "mailto:support@zayavka.example"),
            push_worker_in_process=_flag(env.get("PUSH_WORKER_IN_PROCESS"), default=True),
            town_name=env.get("TOWN_NAME", "Заинск"),
            # Another town's Russian name must not travel with Zainsk's translations.
            town_name_tt=env.get("TOWN_NAME_TT", "" if "TOWN_NAME" in env else "Зәй"),
            town_name_en=env.get("TOWN_NAME_EN", "" if "TOWN_NAME" in env else "Zainsk"),
            town_phone=env.get(
                "TOWN_PHONE", DEMO_TOWN_PHONE if _flag(env.get("DEMO")) else ""
            ).strip(),
            login_attempts_per_minute=int(env.get("LOGIN_ATTEMPTS_PER_MINUTE", "20")),
            sms_url=env.get("SMS_URL", "").strip(),
            sms_enabled=_flag(env.get("SMS_ENABLED"), default=True),
            sms_daily_cap=int(env.get("SMS_DAILY_CAP", "10")),
            sms_webhook_token=env.get("SMS_WEBHOOK_TOKEN", "").strip(),
            sms_sender=env.get("SMS_SENDER", "").strip(),
            db_pool_size=int(env.get("DB_POOL_SIZE", "20")),
            db_pool_overflow=int(env.get("DB_POOL_OVERFLOW", "0")),
            db_pool_timeout=float(env.get("DB_POOL_TIMEOUT", "30")),
            mango_api_key=env.get("MANGO_API_KEY", ""),
            mango_api_salt=env.get("MANGO_API_SALT", ""),
            zadarma_secret=env.get("ZADARMA_SECRET", ""),
            pbx_secret=env.get("PBX_SECRET", ""),
            pbx_operators=parse_extensions(env.get("PBX_OPERATORS", "")),
        )


def parse_extensions(value: str) -> dict[str, str]:
    """«101=ivanova, 102=petrova» → {"101": "ivanova", "102": "petrova"}."""
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {ext.strip(): login.strip() for ext, login in pairs if ext.strip() and login.strip()}


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs hosting platforms give and pick our async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url
