"""Who may call the API and how often: the bearer token, the per-client rate limit, request ids."""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from remora_core.errors import ProjectError

TOKEN_FILE = "service.token"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
CLIENTS_KEPT = 10_000


def token_path(root: Path) -> Path:
    return root / ".remora" / TOKEN_FILE


def load_or_create_token(root: Path) -> tuple[str, bool]:
    """The project's API token and whether it was just created (``.remora/service.token``, 0600)."""
    path = token_path(root)
    try:
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ProjectError(f"cannot read the service token {str(path)!r}: {error.strerror}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token, True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_ok(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


def request_id(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a new one."""
    if header and REQUEST_ID_RE.match(header):
        return header
    return "req_" + uuid4().hex[:16]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per client: ``rate`` requests per second after a burst of ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, _Bucket] = {}

    def check(self, client: str, now: float | None = None) -> float:
        """0 when the request may proceed, else the seconds to wait before the next one."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= CLIENTS_KEPT:
                self.buckets.clear()  # a bounded table; forgetting clients only forgives them
            bucket = self.buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate
