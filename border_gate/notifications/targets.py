"""Which webhook URLs we send to: http(s) only, and no obviously internal targets.

A firm must not be able to make the platform call its own database or a cloud metadata
service (server-side request forgery). Checked when an endpoint is registered (the URL as
written) and again before each delivery (the addresses its host resolves to now).
WEBHOOK_ALLOW_PRIVATE_TARGETS=true lifts the check for development and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")


class TargetRefused(ValueError):
    """The URL cannot be a webhook target; vi/en say why."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en


def _internal_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_target_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may receive webhooks; TargetRefused naming the fault otherwise."""
    if len(url) > MAX_URL_LENGTH or not url.isprintable() or any(c.isspace() for c in url):
        raise TargetRefused(
            "URL quá dài hoặc chứa ký tự không hợp lệ", "URL too long or has invalid characters"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("URL không hợp lệ", "not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("URL phải bắt đầu bằng http:// hoặc https://", "URL must be http(s)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("URL thiếu tên máy chủ", "URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(
            "Không đặt mật khẩu trong URL; dùng chữ ký X-BorderGate-Signature",
            "no credentials in the URL; authenticate with the X-BorderGate-Signature header",
        )
    if port == 0:
        raise TargetRefused("Cổng không hợp lệ", "invalid port")
    if allow_private:
        return url
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if _internal_address(address):
            raise TargetRefused(
                f"Không gửi tới địa chỉ nội bộ {host}", f"internal address {host} is not allowed"
            )
        return url
    lowered = host.lower()
    if lowered == "localhost" or lowered.endswith(_INTERNAL_SUFFIXES) or "." not in lowered:
        raise TargetRefused(
            f"Không gửi tới máy chủ nội bộ {host}", f"internal host name {host} is not allowed"
        )
    return url


async def internal_resolution(url: str) -> str | None:
    """Why the URL's host resolves inside (DNS may point anywhere after registration), or None.

    Raises OSError when the name does not resolve (a retryable failure).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _internal_address(address):
            return (
                f"{host} trỏ tới địa chỉ nội bộ {address} / {host} resolves to internal {address}"
            )
    return None
