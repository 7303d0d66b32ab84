"""Configuration from the environment; every variable is listed in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from app.auth.keyring import Keyring, ensure_ring

# What the local FerretDB keeps its data in when MONGODB_URL is unset (TANDEM_STORE_BACKEND).
STORE_BACKENDS = ("sqlite", "postgresql")
DEFAULT_STORE_BACKEND = "postgresql"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    mongodb_url: str | None = None
    mongodb_db: str = "tandem"
    redis_url: str | None = None
    broker: str = "redis"  # "redis", or "memory" for a single dev process
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    postmark_api_url: str = "https://api.postmarkapp.com"  # where email replies are sent
    whatsapp_graph_url: str = "https://graph.facebook.com"  # WhatsApp Cloud API's Graph host
    # Account emails (password reset, address confirmation, "your workspaces") go through this
    # Postmark server when set; without it they are written to the log (app/mail/send.py).
    mail_postmark_token: str = ""
    mail_from: str = ""
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks);
    # none by default, so a client cannot choose the address its limits are counted under.
    trusted_proxies: tuple[str, ...] = ()
    # Hosts on a private network that workspaces may send model requests to (app/ai), as
    # `host` or `host:port`; every other model endpoint must resolve to public addresses.
    ai_private_hosts: tuple[str, ...] = ()
    # Seconds without a sign of life before another worker takes over a worker's jobs.
    job_claim_idle: float = 30.0
    # Days a cancelled workspace stays read-only (and restorable) before all its data goes.
    purge_after_days: int = 90
    var_dir: Path = Path("var")
    max_body_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 25 * 1024 * 1024  # one file, any channel, either direction
    session_max_age: int = 14 * 24 * 3600
    audit_retention_days: int = 365  # audit events older than this are deleted
    cookie_secure: bool = False
    signup_enabled: bool = True
    log_level: str = "info"
    store_backend: str = DEFAULT_STORE_BACKEND

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        public_url = env.get("TANDEM_PUBLIC_URL", cls.public_url)
        var_dir = Path(env.get("TANDEM_VAR_DIR", "var"))
        return cls(
            mongodb_url=env.get("MONGODB_URL") or None,
            mongodb_db=env.get("MONGODB_DB", cls.mongodb_db),
            redis_url=env.get("REDIS_URL") or None,
            broker=env.get("TANDEM_BROKER", cls.broker),
            secret_key=env.get("TANDEM_SECRET_KEY") or "",
            public_url=public_url.rstrip("/"),
            postmark_api_url=env.get("POSTMARK_API_URL", cls.postmark_api_url).rstrip("/"),
            whatsapp_graph_url=env.get("WHATSAPP_GRAPH_URL", cls.whatsapp_graph_url).rstrip("/"),
            mail_postmark_token=env.get("TANDEM_MAIL_POSTMARK_TOKEN", ""),
            mail_from=env.get("TANDEM_MAIL_FROM", ""),
            trusted_proxies=tuple(
                h.strip() for h in env.get("TANDEM_TRUSTED_PROXIES", "").split(",") if h.strip()
            ),
            ai_private_hosts=tuple(
                h.strip() for h in env.get("TANDEM_AI_PRIVATE_HOSTS", "").split(",") if h.strip()
            ),
            job_claim_idle=float(env.get("TANDEM_JOB_CLAIM_IDLE", cls.job_claim_idle)),
            purge_after_days=int(env.get("TANDEM_PURGE_AFTER_DAYS", cls.purge_after_days)),
            var_dir=var_dir,
            max_body_bytes=int(env.get("TANDEM_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_attachment_bytes=int(
                env.get("TANDEM_MAX_ATTACHMENT_BYTES", cls.max_attachment_bytes)
            ),
            session_max_age=int(env.get("TANDEM_SESSION_MAX_AGE", cls.session_max_age)),
            audit_retention_days=int(
                env.get("TANDEM_AUDIT_RETENTION_DAYS", cls.audit_retention_days)
            ),
            cookie_secure=_bool(
                env.get("TANDEM_COOKIE_SECURE", str(public_url.startswith("https://")))
            ),
            signup_enabled=_bool(env.get("TANDEM_SIGNUP_ENABLED", "true")),
            log_level=env.get("TANDEM_LOG_LEVEL", cls.log_level),
            store_backend=env.get("TANDEM_STORE_BACKEND") or cls.store_backend,
        )

    def with_secret(self) -> Settings:
        """Fill in the signing keys kept under var/ when none are configured (local runs
        only): see app/auth/keyring.py."""
        if self.secret_key:
            return self
        ring = ensure_ring(self.var_dir / "secret_key")
        return replace(self, secret_key=",".join(ring.keys))

    @property
    def keyring(self) -> Keyring:
        return Keyring.parse(self.secret_key)
