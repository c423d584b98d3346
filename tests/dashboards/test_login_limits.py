"""Sign-in limits (issue 12, item 3): counted per client and per (client, user name) before
any password is hashed, atomically, with the client taken from exactly the trusted proxy hops;
an unknown name costs one hash, as a known one does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import werkzeug.security
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from dashboards.login_limits import client_id
from ivr.config.settings import from_env
from ivr.domain.errors import ConfigError
from tests import signin

BASE = "https://ivr.example.test"
TOKEN = "test-auth-token"
WRONG = "not the password at all"


def _app(redis_url: str, tmp_path: Any, **overrides: Any) -> Flask:
    return signin.pages_app(redis_url, tmp_path, {"ada": "admin", "ann": "agent"},
                            twilio_auth_token=TOKEN, public_base_url=BASE, **overrides)


@pytest.fixture
def make_app(redis_url: str, redis, tmp_path) -> Callable[..., Flask]:  # noqa: ARG001
    return lambda **overrides: _app(redis_url, tmp_path, **overrides)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash computed from now on (werkzeug's one hashing function)."""
    seen: list[str] = []
    lock = threading.Lock()
    real = werkzeug.security._hash_internal

    def counted(method: str, salt: str, password: str) -> tuple[str, str]:
        with lock:
            seen.append(password)
        return real(method, salt, password)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counted)
    return seen


def _client(app: Flask, forwarded_for: str | None = None,
            remote: str = "127.0.0.1") -> tuple[FlaskClient, Callable[..., int]]:
    """A browser at `remote` (behind a proxy that says `forwarded_for`) and a function that
    posts the sign-in form and returns the status."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    token = signin.login_token(client)

    def login(username: str = "ada", password: str = WRONG) -> int:
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token}).status_code

    return client, login


def test_a_locked_out_client_does_not_lock_the_user_out_for_another(make_app):
    app = make_app(proxy_hops=1)
    _, first = _client(app, forwarded_for="203.0.113.5")
    assert [first() for _ in range(5)] == [401] * 5
    assert first(password=signin.PASSWORD) == 429  # this client waits out the window
    _, spoofing = _client(app, forwarded_for="198.51.100.1, 203.0.113.5")
    assert spoofing(password=signin.PASSWORD) == 429  # only the proxy's own entry counts
    _, second = _client(app, forwarded_for="203.0.113.9")
    assert second(password=signin.PASSWORD) == 303  # the admin still signs in elsewhere


def test_without_proxy_hops_forwarded_for_is_ignored(make_app):
    app = make_app()  # IVR_PROXY_HOPS unset: 0
    _, first = _client(app, forwarded_for="203.0.113.5")
    assert [first() for _ in range(5)] == [401] * 5
    _, claims_another = _client(app, forwarded_for="203.0.113.9")
    assert claims_another(password=signin.PASSWORD) == 429  # same address, whatever it says
    _, elsewhere = _client(app, remote="198.51.100.7")
    assert elsewhere(password=signin.PASSWORD) == 303


def test_a_client_cannot_spread_its_tries_over_many_names(make_app):
    app = make_app(login_max_per_client=8)
    _, client = _client(app, remote="203.0.113.5")
    assert [client(f"user{i}") for i in range(8)] == [401] * 8
    assert client("ann", signin.PASSWORD) == 429
    _, other = _client(app, remote="203.0.113.6")
    assert other("ann", signin.PASSWORD) == 303


def test_parallel_wrong_tries_get_no_more_hash_checks_than_the_limit(make_app, hashes):
    app = make_app()
    tries = 20
    logins = [_client(app)[1] for _ in range(tries)]
    hashes.clear()
    start = threading.Barrier(tries)
    statuses: list[int] = []

    def attempt(login: Callable[..., int]) -> None:
        start.wait(timeout=60)
        statuses.append(login())

    threads = [threading.Thread(target=attempt, args=(login,)) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [401] * 5 + [429] * (tries - 5)
    assert len(hashes) == 5  # never more password checks than the limit


def test_an_unknown_name_costs_exactly_one_hash_like_a_known_one(make_app, hashes):
    app = make_app()
    _, login = _client(app)
    hashes.clear()
    assert login("nobody-here") == 401
    assert len(hashes) == 1
    hashes.clear()
    assert login("ada") == 401
    assert len(hashes) == 1


def test_a_sign_in_clears_the_count_and_gives_back_the_clients_budget(make_app):
    app = make_app(login_max_per_client=6)
    _, login = _client(app, remote="203.0.113.5")
    assert [login() for _ in range(4)] == [401] * 4
    assert login(password=signin.PASSWORD) == 303
    _, again = _client(app, remote="203.0.113.5")  # signed in: a new CSRF token; same client
    assert [again() for _ in range(2)] == [401] * 2  # 7 tries, 6 counted: the budget holds
    assert again() == 429


def test_webhook_signatures_are_checked_against_public_base_url_behind_proxies(make_app):
    app = make_app(proxy_hops=1)
    client = app.test_client()
    params = {"CallSid": "CA" + "5" * 32, "AccountSid": "AC" + "1" * 32, "From": "+14155550100",
              "To": "+18005550100", "CallStatus": "ringing"}
    forwarded = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example",
                 "X-Forwarded-For": "203.0.113.5"}
    good = RequestValidator(TOKEN).compute_signature(f"{BASE}/voice", params)
    answered = client.post("/voice", data=params,
                           headers={**forwarded, "X-Twilio-Signature": good})
    assert answered.status_code == 200
    assert b"<Response>" in answered.data
    forged = RequestValidator(TOKEN).compute_signature("http://evil.example/voice", params)
    refused = client.post("/voice", data=params,
                          headers={**forwarded, "X-Twilio-Signature": forged})
    assert refused.status_code == 403


@pytest.mark.parametrize(("remote", "counted_as"), [
    ("203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # the same subscriber's other address
    ("::ffff:203.0.113.5", "203.0.113.5"),
    ("not-an-address", "not-an-address"),
])
def test_clients_are_counted_by_address_and_ipv6_by_its_64(remote: str, counted_as: str):
    assert client_id(remote) == counted_as


@pytest.mark.parametrize("variable", ["IVR_PROXY_HOPS", "IVR_LOGIN_MAX_PER_USER",
                                      "IVR_SESSION_MAX_AGE"])
def test_a_bad_number_setting_is_a_clear_error(variable: str):
    with pytest.raises(ConfigError, match=f"{variable}='one': use a whole number"):
        from_env({variable: "one"})
