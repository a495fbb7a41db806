"""Rate limits on credentials, with the ``limits`` library (Flask-Limiter's engine).

Guessing passwords or API secrets is slowed down before any Argon2 check runs, so an
attacker can burn neither guesses nor CPU:

- login attempts per client IP (``RATELIMIT_LOGIN_PER_IP``, every attempt counts);
- failed logins per user (``RATELIMIT_LOGIN_FAILURES_PER_USER``; a success clears them);
  one user's failures never block another user's login;
- failed API-secret checks per API key and per client IP
  (``RATELIMIT_TOKEN_FAILURES_PER_KEY``, ``RATELIMIT_TOKEN_FAILURES_PER_IP``); a secret
  this process already verified is not checked again, so working clients pay nothing.

Limits are strings such as ``"10 per 10 minutes"``. The counters live in the storage
named by ``RATELIMIT_STORAGE_URI`` (``redis://host:6379/0`` shares them across workers
and hosts; ``memory://`` counts per process), with keys under ``RATELIMIT_KEY_PREFIX``.
Over a limit the request is a 429 ``RateLimitExceededError`` with ``Retry-After``. When the
storage is unreachable, credential checks fail closed: a 503 ``ServiceUnavailableError``
(nobody can guess passwords while the counters are down; cookie sessions and already
verified API secrets keep working).
The :class:`AuthLimiter` is owned by the Flask app (``app.extensions``).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import limits
import redis.exceptions
from flask import Flask, Response, after_this_request, current_app
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES

from engine.errors import RateLimitExceededError, ServiceUnavailableError

T = TypeVar("T")
EXTENSION_KEY = "docframe.ratelimit"
LIMIT_KEYS = ("RATELIMIT_LOGIN_PER_IP", "RATELIMIT_LOGIN_FAILURES_PER_USER",
              "RATELIMIT_TOKEN_FAILURES_PER_KEY", "RATELIMIT_TOKEN_FAILURES_PER_IP")


def _id(value: str) -> str:
    """A fixed-size storage identifier: no user names or API keys in clear in Redis."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Guarded:
    """A limits strategy whose unreachable store is a 503, not a 500 (see the module docstring)."""

    def __init__(self, strategy: Any):
        self._strategy = strategy

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except (redis.exceptions.RedisError, ConnectionError) as exc:
            raise ServiceUnavailableError("Login is unavailable: the rate-limit store cannot be reached; "
                                          "try again shortly") from exc

    def hit(self, *args: Any) -> bool:
        return self._run(self._strategy.hit, *args)

    def test(self, *args: Any) -> bool:
        return self._run(self._strategy.test, *args)

    def clear(self, *args: Any) -> None:
        self._run(self._strategy.clear, *args)

    def get_window_stats(self, *args: Any) -> Any:
        return self._run(self._strategy.get_window_stats, *args)


class AuthLimiter:
    """The app's credential rate limits (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any]):
        options = {"key_prefix": config["RATELIMIT_KEY_PREFIX"]} if config.get("RATELIMIT_KEY_PREFIX") else {}
        self.storage = storage_from_string(config["RATELIMIT_STORAGE_URI"], **options)
        self.strategy = _Guarded(STRATEGIES[config["RATELIMIT_STRATEGY"]](self.storage))
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.login_per_ip = limits.parse(config["RATELIMIT_LOGIN_PER_IP"])
        self.login_failures_per_user = limits.parse(config["RATELIMIT_LOGIN_FAILURES_PER_USER"])
        self.token_failures_per_key = limits.parse(config["RATELIMIT_TOKEN_FAILURES_PER_KEY"])
        self.token_failures_per_ip = limits.parse(config["RATELIMIT_TOKEN_FAILURES_PER_IP"])

    # ---------------------------------------------------------------- login
    def login_attempt(self, ip: str) -> None:
        """Count a login attempt from ``ip``; raises over the limit."""
        if self.enabled and not self.strategy.hit(self.login_per_ip, "login-ip", _id(ip)):
            self._exceeded(self.login_per_ip, ("login-ip", _id(ip)), "Too many login attempts from your address")

    def check_user(self, user: str) -> None:
        """Raises when ``user`` had too many failed logins (counts nothing)."""
        ids = ("login-user", _id(user.lower()))
        if self.enabled and not self.strategy.test(self.login_failures_per_user, *ids):
            self._exceeded(self.login_failures_per_user, ids, "Too many failed logins for this user")

    def login_failed(self, user: str) -> None:
        if self.enabled:
            self.strategy.hit(self.login_failures_per_user, "login-user", _id(user.lower()))

    def login_succeeded(self, user: str) -> None:
        if self.enabled:
            self.strategy.clear(self.login_failures_per_user, "login-user", _id(user.lower()))

    # ---------------------------------------------------------------- API tokens
    def check_token(self, key: str, ip: str) -> None:
        """Raises when ``key`` or ``ip`` had too many failed secret checks (counts nothing)."""
        if not self.enabled:
            return
        for item, ids in ((self.token_failures_per_key, ("token-key", _id(key))),
                          (self.token_failures_per_ip, ("token-ip", _id(ip)))):
            if not self.strategy.test(item, *ids):
                self._exceeded(item, ids, "Too many failed API key checks: try again later")

    def token_failed(self, key: str, ip: str) -> None:
        if self.enabled:
            self.strategy.hit(self.token_failures_per_key, "token-key", _id(key))
            self.strategy.hit(self.token_failures_per_ip, "token-ip", _id(ip))

    # ---------------------------------------------------------------- answer
    def _exceeded(self, item: limits.RateLimitItem, ids: tuple[str, ...], message: str) -> None:
        reset_at = self.strategy.get_window_stats(item, *ids).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))

        def add_retry_after(response: Response) -> Response:
            if response.status_code == RateLimitExceededError.status:
                response.headers["Retry-After"] = str(retry_after)
            return response

        after_this_request(add_retry_after)  # the error body is made by whichever handler answers
        raise RateLimitExceededError(f"{message}: try again in {retry_after} s ({item})", retry_after)


def init_app(app: Flask) -> AuthLimiter:
    """Build the app's limiter from its config (see the module docstring)."""
    limiter = app.extensions[EXTENSION_KEY] = AuthLimiter(app.config)
    return limiter


def limiter() -> AuthLimiter:
    """The current app's limiter."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
