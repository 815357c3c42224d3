"""The page session's cookie flags follow PUBLIC_URL; redirects after login stay on this site."""

from __future__ import annotations

from border_gate.settings import Settings, load_settings
from border_gate.web.session import csrf_config, safe_next, session_config


def _settings(public_url: str) -> Settings:
    return load_settings(
        {
            "DATA_DIR": "/tmp/unused",
            "SECRET_KEY": "unit-test-secret-key-0123456789abcdef",
            "PUBLIC_URL": public_url,
        }
    )


def test_cookies_are_secure_behind_https_only() -> None:
    https, http = _settings("https://cuakhau.langson.gov.vn"), _settings("http://127.0.0.1:8000")
    assert session_config(https).secure and csrf_config(https).cookie_secure
    assert not session_config(http).secure and not csrf_config(http).cookie_secure
    for settings in (https, http):
        config = session_config(settings)
        assert config.httponly and config.samesite == "lax"
        assert csrf_config(settings).cookie_httponly
    # The session key is derived for its purpose: never the JWT signing key itself.
    assert session_config(http).secret != http.secret_key.encode()[:32]


def test_next_is_a_path_on_this_site() -> None:
    assert safe_next("/queue?channel=red") == "/queue?channel=red"
    for hostile in ("//evil.example/x", "https://evil.example", "/\\evil.example", "", None):
        assert safe_next(hostile) == "/"
