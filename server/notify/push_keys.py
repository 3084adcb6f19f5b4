"""VAPID keys: from the environment, or generated once under var/ for local runs."""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from server.settings import VAR, Settings

log = logging.getLogger(__name__)
LOCAL_KEY_FILE = "vapid_private_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    """A P-256 key pair. The public key is what browsers get as `applicationServerKey`."""

    private_key: str  # base64url of the 32-byte private scalar (the web-push convention)
    public_key: str  # base64url of the 65-byte uncompressed point

    def signer(self) -> Vapid02:
        return Vapid02.from_raw(self.private_key.encode("ascii"))


def _from_private(key: ec.EllipticCurvePrivateKey) -> VapidKeys:
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(private_key=b64url(raw), public_key=b64url(point))


def generate() -> VapidKeys:
    return _from_private(ec.generate_private_key(ec.SECP256R1()))


def parse_private_key(value: str) -> VapidKeys:
    """Accept the raw base64url scalar (web-push, `vapid-keys`), base64url DER, or PEM."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        loaded = serialization.load_pem_private_key(value.encode("ascii"), password=None)
    else:
        data = b64url_decode(value.replace("\n", ""))
        if len(data) == 32:
            loaded = ec.derive_private_key(int.from_bytes(data, "big"), ec.SECP256R1())
        else:
            loaded = serialization.load_der_private_key(data, password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
        loaded.curve, ec.SECP256R1
    ):
        raise ValueError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
    return _from_private(loaded)


_lock = threading.Lock()
_cache: dict[tuple[str | None, str | None, bool, str], VapidKeys | None] = {}


def load_keys(settings: Settings, var_dir: Path | None = None) -> VapidKeys | None:
    """The keys to sign with, or None when push is not configured (production without keys).

    Outside production a missing key is generated once and kept in var/vapid_private_key,
    like the secret key: subscriptions made on a developer's machine survive restarts.
    """
    var_dir = var_dir or VAR
    cache_key = (
        settings.vapid_private_key,
        settings.vapid_public_key,
        settings.production,
        str(var_dir),
    )
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = _resolve(settings, var_dir)
        return _cache[cache_key]


def _resolve(settings: Settings, var_dir: Path) -> VapidKeys | None:
    if settings.vapid_private_key:
        keys = parse_private_key(settings.vapid_private_key)
        if settings.vapid_public_key and settings.vapid_public_key.strip() != keys.public_key:
            # Browsers subscribed with the public key they were given; signing with another
            # private key would make every push fail, so say so loudly and trust the private key.
            log.error(
                "VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY; using the public key "
                "derived from the private key: %s",
                keys.public_key,
            )
        return keys
    if settings.production:
        log.warning("VAPID_PRIVATE_KEY is not set: push notifications are off")
        return None
    path = var_dir / LOCAL_KEY_FILE
    if path.exists():
        return parse_private_key(path.read_text())
    keys = generate()
    var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(keys.private_key + "\n")
    path.chmod(0o600)
    log.info("generated a local VAPID key pair in %s", path)
    return keys


def print_new_keys() -> None:
    """`python -m server vapid-keys`: print a fresh key pair as environment lines."""
    keys = generate()
    print("# Ключи VAPID для push-уведомлений. Храните закрытый ключ в секрете;")
    print("# после смены ключей подписки браузеров нужно оформить заново.")
    print(f"VAPID_PRIVATE_KEY={keys.private_key}")
    print(f"VAPID_PUBLIC_KEY={keys.public_key}")
    print("VAPID_SUBJECT=mailto:support@example.org")
