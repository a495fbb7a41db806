"""Passwords, API keys and the Administrator user (engine.site.auth and the docframe CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

import engine.rules.validation
from engine import Site
from engine.cli import docframe
from engine.errors import AuthenticationError, DuplicateEntryError, FilterError, InvalidValueError
from engine.site import auth
from engine.site.session import Session

TEST_APP = Path(__file__).resolve().parent.parent / "app"


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 parameters so the many hashes of these tests stay fast (production keeps the defaults)."""
    monkeypatch.setattr(engine.rules.validation, "_password_hasher", PasswordHasher(time_cost=1, memory_cost=256,
                                                                              parallelism=1))


@pytest.fixture
def ann(session: Session, fast_hashing: None) -> str:
    session.insert("User", name="ann@example.com", email="Ann@Example.com", full_name="Ann")
    return "ann@example.com"


def _raw_user(site: Site, name: str) -> sa.Row:
    t = site.table("User")
    with site.engine.connect() as conn:
        return conn.execute(sa.select(t).where(t.c.name == name)).one()


# ------------------------------------------------------------------ passwords

def test_password_is_stored_as_an_argon2_hash_with_production_parameters(site: Site, session: Session) -> None:
    session.insert("User", name="bo@example.com", email="bo@example.com")
    auth.set_password(session, "bo@example.com", "correct horse")
    stored = _raw_user(site, "bo@example.com").password
    assert stored.startswith("$argon2id$") and "m=65536,t=3" in stored and "correct horse" not in stored
    assert auth.check_password(site, "bo@example.com", "correct horse") == "bo@example.com"


def test_check_password_by_id_or_email_case_insensitively(site: Site, session: Session, ann: str) -> None:
    auth.set_password(session, ann, "s3cret pw")
    assert auth.check_password(site, "ANN@example.com", "s3cret pw") == ann
    assert auth.check_password(site, "ann@EXAMPLE.com", "s3cret pw") == ann
    for usr, pwd in ((ann, "wrong"), (ann, "S3CRET PW"), ("nobody@example.com", "s3cret pw"), (ann, ""), ("", "x")):
        with pytest.raises(AuthenticationError) as err:
            auth.check_password(site, usr, pwd)
        assert err.value.status == 401 and err.value.message == "Invalid login credentials"


def test_a_user_without_a_password_cannot_log_in(site: Site, ann: str) -> None:
    with pytest.raises(AuthenticationError):
        auth.check_password(site, ann, "anything")


def test_password_is_never_read_back(site: Site, session: Session, ann: str) -> None:
    auth.set_password(session, ann, "hidden pw")
    doc = session.get_doc("User", ann)
    assert doc.as_dict()["password"] != "hidden pw" and "argon2" not in str(doc.as_dict()["password"])
    assert doc.check_password("password", "hidden pw")
    with pytest.raises(FilterError):
        session.get_list("User", fields=["password"])
    doc.full_name = "Ann B"  # saving other fields keeps the password
    doc.save()
    assert auth.check_password(site, ann, "hidden pw") == ann


def test_empty_password_is_refused(session: Session, ann: str) -> None:
    with pytest.raises(InvalidValueError, match="password"):
        auth.set_password(session, ann, "")


def test_disabled_user_cannot_authenticate(site: Site, session: Session, ann: str) -> None:
    auth.set_password(session, ann, "pw for ann")
    key, secret = auth.generate_api_key(session, ann)
    session.set_value("User", ann, {"enabled": 0})
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.check_password(site, ann, "pw for ann")
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.check_token(site, key, secret)
    session.set_value("User", ann, {"enabled": 1})
    assert auth.check_password(site, ann, "pw for ann") == auth.check_token(site, key, secret) == ann


# ------------------------------------------------------------------ API keys

def test_api_key_pair_authenticates_and_the_secret_is_stored_hashed(site: Site, session: Session, ann: str) -> None:
    key, secret = auth.generate_api_key(session, ann)
    assert key and secret and ":" not in key + secret
    assert auth.check_token(site, key, secret) == ann
    row = _raw_user(site, ann)
    assert row.api_key == key and row.api_secret.startswith("$argon2") and secret not in row.api_secret
    assert session.get_value("User", ann, "api_key") == key
    other_key = ("0" if key[0] != "0" else "1") + key[1:]
    bad = [(key, secret[:-1]), (other_key, secret), ("nokey", secret), ("", ""), (key, "")]
    # MariaDB's _ci collation matches an upper-cased key; one key in ~1,800 is all digits, then it is the key
    if key.upper() != key:
        bad.append((key.upper(), secret))
    for bad_key, bad_secret in bad:
        with pytest.raises(AuthenticationError) as err:
            auth.check_token(site, bad_key, bad_secret)
        assert err.value.status == 401


def test_a_new_pair_replaces_the_old_and_revoking_ends_it(site: Site, session: Session, ann: str) -> None:
    old = auth.generate_api_key(session, ann)
    new = auth.generate_api_key(session, ann)
    assert new != old
    with pytest.raises(AuthenticationError):
        auth.check_token(site, *old)
    assert auth.check_token(site, *new) == ann
    auth.revoke_api_key(session, ann)
    with pytest.raises(AuthenticationError):
        auth.check_token(site, *new)
    row = _raw_user(site, ann)
    assert row.api_key is None and row.api_secret is None


def test_a_verified_secret_is_not_hashed_again_but_changes_still_apply_at_once(
        site: Site, session: Session, ann: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key, secret = auth.generate_api_key(session, ann)
    assert auth.check_token(site, key, secret) == ann  # verified with argon2 once
    calls: list[str] = []
    real_verify = auth.verify_password

    def counting_verify(stored: str, plain: str) -> bool:
        calls.append(plain)
        return real_verify(stored, plain)

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    assert auth.check_token(site, key, secret) == ann
    assert calls == []  # the same secret against the same stored hash: no second argon2 run
    with pytest.raises(AuthenticationError):
        auth.check_token(site, key, secret + "x")  # a wrong secret is still hashed and refused
    session.set_value("User", ann, {"enabled": 0})
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.check_token(site, key, secret)
    session.set_value("User", ann, {"enabled": 1})
    auth.revoke_api_key(session, ann)
    with pytest.raises(AuthenticationError):
        auth.check_token(site, key, secret)  # revoked: the stored hash is gone, the cache cannot help
    new_key, new_secret = auth.generate_api_key(session, ann)
    assert auth.check_token(site, new_key, new_secret) == ann


def test_api_keys_are_unique(session: Session, ann: str) -> None:
    key, _ = auth.generate_api_key(session, ann)
    with pytest.raises(DuplicateEntryError):
        session.insert("User", name="cy@example.com", email="cy@example.com", api_key=key)


# ------------------------------------------------------------------ Administrator

def test_ensure_administrator_creates_then_updates(site: Site, session: Session, fast_hashing: None) -> None:
    assert not auth.has_administrator(site)
    assert auth.ensure_administrator(site, "first pw") == "created"
    assert auth.check_password(site, "Administrator", "first pw") == "Administrator"
    assert auth.check_password(site, "admin@example.com", "first pw") == "Administrator"
    assert auth.ensure_administrator(site, "second pw") == "updated"
    with pytest.raises(AuthenticationError):
        auth.check_password(site, "Administrator", "first pw")
    assert auth.check_password(site, "administrator", "second pw") == "Administrator"
    with pytest.raises(InvalidValueError):
        auth.ensure_administrator(site, "")


# ------------------------------------------------------------------ command line

@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fast_hashing: None) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    for var in ("DOCFRAME_DATABASE_URL", "DOCFRAME_APP", "DOCFRAME_ADMIN_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return runner.invoke(docframe, ["--app", str(TEST_APP), *args], env=env, input=input,
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def cli_site(new_database: Callable[[], str]) -> Iterator[Site]:
    site = Site(new_database(), TEST_APP)
    yield site
    site.dispose()


def test_migrate_never_creates_administrator_without_a_password(run: Callable[..., Result],
                                                                 cli_site: Site) -> None:
    url = cli_site.engine.url.render_as_string(hide_password=False)
    first = run("--db", url, "migrate")
    assert first.exit_code == 0, first.output
    assert "Administrator not created" in first.stderr and "--admin-password" in first.stderr
    assert not auth.has_administrator(cli_site)

    created = run("--db", url, "migrate", "--admin-password", "cli pw 1")
    assert created.exit_code == 0 and "Administrator created." in created.stdout
    assert auth.check_password(cli_site, "Administrator", "cli pw 1") == "Administrator"

    quiet = run("--db", url, "migrate")  # Administrator exists: nothing to say, password kept
    assert quiet.exit_code == 0 and "Administrator" not in quiet.output
    assert auth.check_password(cli_site, "Administrator", "cli pw 1") == "Administrator"

    from_env = run("--db", url, "migrate", env={"DOCFRAME_ADMIN_PASSWORD": "env pw 2"})
    assert from_env.exit_code == 0 and "Administrator password updated." in from_env.stdout
    assert auth.check_password(cli_site, "Administrator", "env pw 2") == "Administrator"


def test_migrate_dry_run_does_not_touch_administrator(run: Callable[..., Result], cli_site: Site) -> None:
    url = cli_site.engine.url.render_as_string(hide_password=False)
    assert run("--db", url, "migrate").exit_code == 0
    dry = run("--db", url, "migrate", "--dry-run", "--admin-password", "dry pw")
    assert dry.exit_code == 0 and "Administrator" not in dry.output
    assert not auth.has_administrator(cli_site)


def test_user_add_and_api_key(run: Callable[..., Result], cli_site: Site) -> None:
    url = cli_site.engine.url.render_as_string(hide_password=False)
    assert run("--db", url, "migrate", "--admin-password", "admin pw").exit_code == 0
    with cli_site.session() as s:
        s.insert("Role", name="Clerk")
        s.insert("Role", name="Auditor")

    added = run("--db", url, "user", "add", "dee@example.com", "--role", "Clerk", "--role", "Auditor",
                "--full-name", "Dee", "--password", "dee pw")
    assert added.exit_code == 0, added.output
    assert "Added user dee@example.com with roles Clerk, Auditor." in added.stdout
    assert auth.check_password(cli_site, "dee@example.com", "dee pw") == "dee@example.com"
    with cli_site.session("dee@example.com") as s:
        assert s.roles() == frozenset({"Clerk", "Auditor"})

    prompted = run("--db", url, "user", "add", "eve@example.com", input="eve pw\neve pw\n")
    assert prompted.exit_code == 0, prompted.output
    assert "eve pw" not in prompted.output  # hidden input
    assert auth.check_password(cli_site, "eve@example.com", "eve pw") == "eve@example.com"

    again = run("--db", url, "user", "add", "dee@example.com", "--password", "x")
    assert again.exit_code == 1 and "dee@example.com" in again.stderr and "Traceback" not in again.output
    bad_role = run("--db", url, "user", "add", "fay@example.com", "--role", "Wizard", "--password", "x")
    assert bad_role.exit_code == 1 and "Wizard" in bad_role.stderr

    printed = run("--db", url, "user", "api-key", "DEE@example.com")
    assert printed.exit_code == 0, printed.output
    key, secret = printed.stdout.strip().split(":")
    assert auth.check_token(cli_site, key, secret) == "dee@example.com"
    revoked = run("--db", url, "user", "api-key", "dee@example.com", "--revoke")
    assert revoked.exit_code == 0 and "Revoked" in revoked.stdout
    with pytest.raises(AuthenticationError):
        auth.check_token(cli_site, key, secret)
    missing = run("--db", url, "user", "api-key", "nobody@example.com")
    assert missing.exit_code == 1 and "nobody@example.com" in missing.stderr
