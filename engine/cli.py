"""The ``docframe`` command line: thin click commands over :class:`engine.site.Site`.

Every docframe error (and a database that cannot be reached) ends as one line
``Error: ...`` on stderr with exit status 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from engine.documents.hooks import HookRegistry
from engine.errors import DocframeError, HookError, MetaError
from engine.metadata.app import App, bundled_app_dir, load_app_doctypes
from engine.site import auth, jobs
from engine.site.demo import demo_files, load_demo, read_demo
from engine.site.fixtures import fixture_files
from engine.site.list_advice import list_warnings
from engine.site.role_advice import role_warnings
from engine.site.site import Site
from engine.site.tabular import estimate_rows
from engine.storage.db import normalize_url
from engine.storage.schema_gaps import behind_message, schema_gaps

DEMO_DB_FILE = "demo.db"
DEMO_ADMIN_PASSWORD = "admin"  # the demo database only: migrate never sets a default password


@dataclass
class Config:
    """The global options, shared by every command."""

    db_url: str | None
    app_dir: Path

    def site(self, db_url: str | None = None) -> Site:
        url = db_url or self.db_url
        _check_folder(sqlite_file(url))
        try:
            return Site(url, self.app_dir)
        except ValueError as exc:  # an unsupported database in the URL
            raise click.BadParameter(str(exc), param_hint="--db") from None


def _check_folder(file: Path | None) -> None:
    if file is not None and not file.parent.is_dir():
        raise click.ClickException(f"cannot open the SQLite database {file}: the folder {file.parent} does not exist")


def sqlite_file(url: str | None) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(normalize_url(url))
    except (sa.exc.ArgumentError, ValueError):
        return None  # Site reports the bad URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


class DocframeGroup(click.Group):
    """Turns docframe and database errors into one clean line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DocframeError as exc:
            raise click.ClickException(exc.message) from None
        except sa.exc.SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
            raise click.ClickException(f"database error: {first}") from None


@click.group(cls=DocframeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="DOCFRAME_DATABASE_URL", metavar="URL",
              help="Database URL (sqlite:///file.db, postgresql://..., mysql://...). "
                   "Default: env DOCFRAME_DATABASE_URL, else ./docframe.db.")
@click.option("--app", "app_dir", envvar="DOCFRAME_APP", metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="App folder with doctypes/, hooks/, templates/ and demo/. Default: env DOCFRAME_APP, "
                   "else the bundled customer-master app.")
@click.pass_context
def docframe(ctx: click.Context, db_url: str | None, app_dir: Path | None) -> None:
    """docframe: YAML doctypes, documents and hooks on SQLite, PostgreSQL or MariaDB."""
    root = (app_dir or bundled_app_dir()).resolve()
    if app_dir is not None and not root.is_dir():
        raise click.BadParameter(f"{app_dir} is not a folder", param_hint="--app")
    ctx.obj = Config(db_url, root)


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith(".." + os.sep + "..") else path


@docframe.command()
@click.pass_obj
def check(cfg: Config) -> None:
    """Check the app's doctype YAML and hooks; print every problem (exit status 1 if any).

    Also warns (exit status 0) about list pages no index serves (see README "Indexes") and
    roles named in permissions that no standard record creates."""
    app = App(cfg.app_dir)
    try:
        doctypes = load_app_doctypes(app.root)
        HookRegistry(doctypes).load_folder(app.hooks_dir)
    except MetaError as exc:
        for problem in exc.problems:
            click.echo(str(dataclasses.replace(problem, file=_rel(problem.file))))
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {_rel(str(app.doctypes_dir))}") from None
    except HookError as exc:
        click.echo(exc.message)
        raise click.ClickException(f"problem in {_rel(str(app.hooks_dir))}") from None
    own = {dt.name for dt in doctypes.values() if Path(dt.source).parent == app.doctypes_dir}
    warnings = list_warnings(app.root, doctypes, own) + role_warnings(app.fixtures_dir, doctypes, own)
    for message in warnings:
        click.echo(f"warning: {message}")
    click.echo(f"OK: {len(own)} doctypes" + (f", {len(warnings)} warning(s)" if warnings else ""))


@docframe.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--force", is_flag=True,
              help="Also narrow types and change types, when no value would be lost.")
@click.option("--drop-removed-columns", "drop_removed", is_flag=True,
              help="Also drop the columns of removed fields that still hold values (kept otherwise).")
@click.option("--admin-password", envvar="DOCFRAME_ADMIN_PASSWORD", metavar="PASSWORD",
              help="Create the Administrator user with this password, or set its password. "
                   "Default: env DOCFRAME_ADMIN_PASSWORD.")
@click.pass_obj
def migrate(cfg: Config, dry_run: bool, force: bool, drop_removed: bool, admin_password: str | None) -> None:
    """Bring the database schema in line with the doctype YAML: print the plan, then apply it."""
    file = sqlite_file(cfg.db_url)
    if dry_run and file is not None and not file.exists():
        # A dry run creates nothing: plan against an empty database instead of creating the file.
        _check_folder(file)
        site = cfg.site("sqlite://")
        where: str | None = f"sqlite:///{file} (not created yet)"
    else:
        site, where = cfg.site(), None
    try:
        _migrate(site, dry_run=dry_run, force=force, drop_removed=drop_removed, where=where)
        if not dry_run:
            _administrator(site, admin_password)
    finally:
        site.dispose()


def _administrator(site: Site, password: str | None) -> None:
    """Create or update Administrator with the given password; without one never create it."""
    if password:
        done = auth.ensure_administrator(site, password)
        click.echo("Administrator created." if done == "created" else "Administrator password updated.")
    elif not auth.has_administrator(site):
        click.echo("Administrator not created: no password given (use --admin-password or set "
                   "DOCFRAME_ADMIN_PASSWORD and run migrate again).", err=True)


def _migrate(site: Site, *, dry_run: bool, force: bool, drop_removed: bool = False, where: str | None = None) -> None:
    where = where or site.engine.url.render_as_string(hide_password=True)
    plan = site.migrate(dry_run=True, drop_removed=drop_removed)
    if not plan:
        for line in plan.lines():
            click.echo(f"  {line}")
        click.echo(f"Database is up to date ({where}).")
    else:
        click.echo(f"Plan for {where}:")
        for line in plan.lines():
            click.echo(f"  {line}")
        if dry_run:
            click.echo(f"Dry run: {len(plan.steps)} step(s) not applied.")
    has_fixtures = bool(fixture_files(site.app.fixtures_dir))
    if dry_run:
        if has_fixtures:
            _echo_installed(plan.installed, "Would install")
        return
    done = site.migrate(force=force, drop_removed=drop_removed) if plan else site.migrate()
    if plan:
        click.echo(f"Applied {len(done.steps)} step(s).")
    if has_fixtures:
        _echo_installed(done.installed, "Installed")


def _echo_installed(installed: list[Any], verb: str) -> None:
    """'Installed N standard record(s).' (fixtures/*.yaml) and one line per record."""
    click.echo(f"{verb} {len(installed)} standard record(s){':' if installed else '.'}")
    for record in installed:
        click.echo(f"  {record}")


@docframe.command()
@click.option("--db", "demo_db", metavar="PATH|URL", default=DEMO_DB_FILE, show_default=True,
              help="SQLite file (or sqlite:/// URL) to create.")
@click.option("--reset", is_flag=True, help="Rebuild the file if it exists.")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the demo once it is loaded.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.pass_obj
def demo(cfg: Config, demo_db: str, reset: bool, serve: bool, host: str, port: int) -> None:
    """Create a SQLite database with the app's demo data (from <app>/demo/*.yaml) and serve it.

    An existing demo database is served as it is; --reset rebuilds it.
    """
    url, path = _demo_target(demo_db)
    if path.exists() and not reset:
        click.echo(f"Using the existing {path} (--reset rebuilds it).")
    else:
        _build_demo(cfg, url, path)
    if serve:
        click.echo(f"Open http://{host}:{port}/ and log in as Administrator, password {DEMO_ADMIN_PASSWORD!r} "
                   f"(the REST API is at http://{host}:{port}/api/).")
        _serve(cfg.site(url), host, port)


def _build_demo(cfg: Config, url: str, path: Path) -> None:
    docs = read_demo(demo_files(App(cfg.app_dir).demo_dir))  # a broken file stops us before the database is touched
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    site = cfg.site(url)
    try:
        site.migrate()
        auth.ensure_administrator(site, DEMO_ADMIN_PASSWORD)
        click.echo(f"Created {path} with {len(site.doctypes)} doctypes.")
        click.echo(f"Log in as Administrator with the demo password {DEMO_ADMIN_PASSWORD!r}.")
        if not docs:
            click.echo(f"No demo data: {_rel(str(cfg.app_dir / 'demo'))} has no *.yaml files.")
            return
        with click.progressbar(length=len(docs), label="Loading demo data") as bar, site.session() as session:
            counts = load_demo(session, docs, bar.update)
    except BaseException:
        site.dispose()
        path.unlink(missing_ok=True)  # no half-made demo left behind
        raise
    site.dispose()
    click.echo(f"Loaded {sum(counts.values())} documents:")
    width = max(len(d) for d in counts)
    for doctype, n in counts.items():
        click.echo(f"  {doctype:<{width}}  {n}")
    # Show the doctype the demo is mostly about (the most documents), not whichever loaded last.
    _print_usage(url, cfg.app_dir, max(counts, key=lambda d: counts[d]), site)


def _demo_target(value: str) -> tuple[str, Path]:
    """(SQLAlchemy URL, file path) of the demo database; SQLite only."""
    if "://" in value:
        url = make_url(normalize_url(value))
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            raise click.BadParameter("the demo database is a SQLite file (a path or sqlite:///path)",
                                     param_hint="--db")
        path = Path(url.database)
    else:
        path = Path(value)
    path = path.expanduser().resolve()
    return f"sqlite:///{path}", path


def _print_usage(url: str, app_dir: Path, doctype: str, site: Site) -> None:
    meta = site.get_meta(doctype)
    fields = ["name"] + [f for f in [meta.title_field] if f and f != "name"]
    app_arg = "" if app_dir == bundled_app_dir() else f", {str(app_dir)!r}"
    click.echo("\nQuery it from Python:\n")
    click.echo("    from engine import Site")
    click.echo(f"    site = Site({url!r}{app_arg})")
    click.echo("    with site.session() as s:")
    click.echo(f"        print(s.get_list({doctype!r}, fields={fields!r}, limit=5))")


@docframe.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.pass_obj
def serve(cfg: Config, host: str, port: int) -> None:
    """Serve the REST API (development server; use gunicorn 'engine.web:create_app()' in production)."""
    _serve(cfg.site(), host, port)


def _serve(site: Site, host: str, port: int) -> None:
    from engine.web import create_app

    app = create_app(site)
    gaps = schema_gaps(site)
    if gaps:
        click.echo(f"warning: {behind_message(gaps)}; until then pages that need them fail", err=True)
    click.echo(f"Serving {site.engine.url.render_as_string(hide_password=True)} on http://{host}:{port}/")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        site.dispose()


@docframe.group()
def user() -> None:
    """Users: add one with roles and a password, create or revoke API keys."""


@user.command("add")
@click.argument("email")
@click.option("--role", "roles", multiple=True, metavar="ROLE", help="A role to give (repeat for several).")
@click.option("--full-name", metavar="NAME", help="The user's full name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for, hidden, when omitted).")
@click.pass_obj
def user_add(cfg: Config, email: str, roles: tuple[str, ...], full_name: str | None, password: str) -> None:
    """Add a user named by EMAIL with roles and a password."""
    site = cfg.site()
    try:
        with site.session() as s:
            doc = s.insert("User", name=email, email=email, full_name=full_name, password=password,
                           roles=[{"role": role} for role in dict.fromkeys(roles)])
        click.echo(f"Added user {doc.name}" + (f" with roles {', '.join(dict.fromkeys(roles))}." if roles else "."))
    finally:
        site.dispose()


@user.command("api-key")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Remove the user's API key instead of creating one.")
@click.pass_obj
def user_api_key(cfg: Config, email: str, revoke: bool) -> None:
    """Create a new API key pair for EMAIL and print it as key:secret (replaces any old pair)."""
    site = cfg.site()
    try:
        with site.session() as s:
            if revoke:
                auth.revoke_api_key(s, email)
                click.echo(f"Revoked the API key of {email}.")
                return
            key, secret = auth.generate_api_key(s, email)
        click.echo(f"{key}:{secret}")
    finally:
        site.dispose()


# ------------------------------------------------------------------ data import and export

@docframe.command("import")
@click.argument("doctype")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Update documents by their ID column.")
@click.option("--upsert", is_flag=True, help="Update where the ID (or --key) exists, else insert.")
@click.option("--key", metavar="FIELD", help="With --upsert: the field that identifies a document (default: ID).")
@click.option("--dry-run", is_flag=True, help="Show what each row would do; write nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Write nothing if any row fails (default: skip bad rows).")
@click.option("--replace-children", is_flag=True, help="With --update/--upsert: replace child rows, not add to them.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the failed rows, with row, column and message, to this CSV.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Documents per transaction when skipping bad rows.")
@click.option("--as", "as_user", default="Administrator", show_default=True, metavar="USER",
              help="Import as this user (needs the import permission).")
@click.option("--background", is_flag=True,
              help="Queue the import as an Import Job for `docframe worker` (needs DOCFRAME_QUEUE_URL); "
                   "follow it with `docframe jobs`.")
@click.pass_obj
def import_(cfg: Config, doctype: str, file: Path, update: bool, upsert: bool, key: str | None, dry_run: bool,
            all_or_nothing: bool, replace_children: bool, errors_path: Path | None, batch_size: int,
            as_user: str, background: bool) -> None:
    """Import DOCTYPE documents from a CSV or XLSX FILE through the full document lifecycle."""
    from engine.site.importer import Importer, RowResult

    if update and upsert:
        raise click.UsageError("--update and --upsert exclude each other: --update only changes documents that "
                               "exist, --upsert also inserts the others")
    mode = "update" if update else "upsert" if upsert else None
    site = cfg.site()
    if background:
        _queue_import(site, doctype, file, mode=mode or "insert", key=key, dry_run=dry_run,
                      all_or_nothing=all_or_nothing, replace_children=replace_children, as_user=as_user)
        return
    shown: list[RowResult] = []

    plain = 0

    def on_row(result: RowResult) -> None:
        """A dry run lists every row with an error or a note, and the first rows of the others."""
        nonlocal plain
        if not dry_run:
            return
        if result.messages or result.action == "error":
            if len(shown) - plain < DRY_RUN_NOTED:
                shown.append(result)
        elif plain < DRY_RUN_SHOWN:
            plain += 1
            shown.append(result)

    try:
        with site.session(as_user, importing=True) as s, click.progressbar(
                length=estimate_rows(file), label=f"Importing {doctype}", show_pos=True,
                file=sys.stderr, item_show_func=lambda rate: rate) as bar:
            started = time.monotonic()

            def on_progress(rows: int) -> None:
                elapsed = time.monotonic() - started
                bar.update(rows, f"{(bar.pos + rows) / elapsed:,.0f} rows/s" if elapsed > 0 else None)

            importer = Importer(s, doctype, mode=mode or "insert", key=key, dry_run=dry_run,
                                all_or_nothing=all_or_nothing, replace_children=replace_children,
                                batch_size=batch_size, on_row=on_row, on_progress=on_progress)
            summary = importer.run(file, errors_path)
    finally:
        site.dispose()
    for r in shown:
        click.echo(f"  row {r.line:>6}  {r.action:<9} {r.name or '':<30} {'; '.join(r.messages)}")
    if dry_run and summary.documents > len(shown):
        click.echo(f"  ... {summary.documents - len(shown)} more not listed")
    rate = summary.rows / summary.seconds if summary.seconds else 0
    counts = ", ".join(f"{n} {k}" for k, n in summary.counts.items())
    verb = "Dry run, nothing written" if dry_run else ("Nothing written (a row failed; --all-or-nothing)"
                                                       if summary.rolled_back else "Imported")
    click.echo(f"{verb}: {summary.documents} document(s) from {summary.rows} row(s): {counts} "
               f"({summary.seconds:.1f} s, {rate:,.0f} rows/s).")
    if summary.unknown_columns:
        click.echo(f"Left out unknown column(s): {', '.join(summary.unknown_columns)}")
    if errors_path and summary.counts["error"]:
        click.echo(f"Failed rows with their messages: {errors_path}")
    if summary.counts["error"] and not dry_run:
        raise SystemExit(1)


def _queue_import(site: Site, doctype: str, file: Path, *, as_user: str, **options: Any) -> None:
    try:
        if not isinstance(site.jobs, jobs.RedisQueue):
            raise click.UsageError("--background needs a job queue that outlives this command: set "
                                   "DOCFRAME_QUEUE_URL (e.g. redis://127.0.0.1:6379/0) and run `docframe worker`")
        if not file.is_file():
            raise click.BadParameter(f"{file}: no such file", param_hint="FILE")
        name = jobs.queue_import(site, as_user, doctype, file, file.name, **options)
    finally:
        site.dispose()
    click.echo(f"Queued Import Job {name} ({estimate_rows(file):,} rows) on {site.jobs.label}; "
               "`docframe jobs` shows its progress.")


DRY_RUN_SHOWN = 200  # rows without errors or notes listed by a dry run
DRY_RUN_NOTED = 5_000  # rows with them (all failed rows go to --errors FILE)


@docframe.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (default: wait for jobs).")
@click.option("--name", metavar="NAME", help="The worker's name in Redis (default: one RQ makes up).")
@click.pass_obj
def worker(cfg: Config, burst: bool, name: str | None) -> None:
    """Run queued jobs (background imports) from the Redis queue at DOCFRAME_QUEUE_URL.

    Start as many as the machine has cores, on any host that reaches the database,
    Redis and the files folder (DOCFRAME_FILES_DIR).
    """
    from engine.site.worker import run_worker

    run_worker(cfg.db_url, str(cfg.app_dir), burst=burst, name=name)


@docframe.command("jobs")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="How many, newest first.")
@click.pass_obj
def jobs_(cfg: Config, limit: int) -> None:
    """List the newest Import Jobs: status, progress, counts."""
    site = cfg.site()
    try:
        with site.session() as s:
            found = s.get_list(jobs.JOB_DOCTYPE, fields=["name"], order_by="creation desc", limit=limit)
            listed = [(s.get_doc(jobs.JOB_DOCTYPE, row["name"])) for row in found]
            states = [jobs.progress(site, job) for job in listed]
    finally:
        site.dispose()
    if not listed:
        click.echo("No import jobs.")
    for job, p in zip(listed, states, strict=True):
        if job.status in ("Queued", "Running"):
            state = f"{job.status} {p.rows_done:,}/{p.rows_total:,} rows"
            state += f", {p.rate:,.0f} rows/s" if p.rate else ""
            if p.state == "failed":
                state += f" (the worker stopped it: {p.error})"
        elif job.status == "Failed":
            state = f"Failed: {job.message}"
        else:
            state = (f"Done{' (dry run)' if job.dry_run else ''}{' nothing written' if job.rolled_back else ''}: "
                     f"{job.created} created, {job.updated} updated, {job.unchanged} unchanged, "
                     f"{job.failed_rows} failed, {job.seconds:.1f} s")
        click.echo(f"{job.name}  {job.reference_doctype:<16} {job.file_name:<24} {job.owner:<20} {state}")


@docframe.command("report")
@click.argument("report_name", required=False, metavar="[REPORT]")
@click.option("--filter", "filters", multiple=True, metavar="NAME=VALUE", help="A filter of the report (repeat).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "xlsx"]), default="text", show_default=True,
              help="text: a table on the terminal.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (csv: default the terminal; xlsx: default <report>.xlsx here).")
@click.option("--user", "as_user", default=auth.ADMINISTRATOR, show_default=True, metavar="USER",
              help="Run as this user: their permissions and record rules decide what it counts.")
@click.pass_obj
def report_(cfg: Config, report_name: str | None, filters: tuple[str, ...], fmt: str, output: Path | None,
            as_user: str) -> None:
    """Run an app REPORT (its name or URL slug) and print or write its rows; without one, list the reports.

    As on the desk's report page: it reads a read replica when the site has one
    (DOCFRAME_REPLICA_URLS), and a bad filter value is an error naming the filter.
    """
    from engine.documents.reports import find_report
    from engine.site import spreadsheet

    site = cfg.site()
    try:
        with site.session(as_user) as primary:
            if report_name is None:
                _echo_reports(site.hooks.reports.values())
                return
            found = find_report(primary, site.hooks.reports, report_name)
            values: dict[str, str] = {}
            for item in filters:
                key, sep, value = item.partition("=")
                if not sep:
                    raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--filter")
                values[key.strip()] = value
            known = {f.name for f in found.filters}
            unknown = sorted(set(values) - known)
            if unknown:
                raise click.BadParameter(f"report {found.name!r} has no filter {', '.join(map(repr, unknown))}; its "
                                         f"filters are: {', '.join(sorted(known)) or 'none'}", param_hint="--filter")
            with site.report_session(as_user, primary=primary) as session:
                result = found.run(session, values)
    finally:
        site.dispose()
    if fmt == "text" and output is None:
        click.echo(_text_table(result))
        if result.message:
            click.echo(result.message)
        return
    if fmt == "text":
        fmt = "csv"
    body, _ = spreadsheet.report_table(result, fmt, found.name)
    if output is None and fmt == "csv":
        click.echo(body.decode("utf-8"), nl=False)
        return
    target = output or Path(f"{found.name.lower().replace(' ', '-')}.{fmt}")
    target.write_bytes(body)
    click.echo(f"Wrote {len(result.rows)} row(s) of {found.name} to {target}.")


def _echo_reports(reports: Any) -> None:
    listed = sorted(reports, key=lambda r: r.name)
    if not listed:
        click.echo("This app has no reports.")
    for r in listed:
        filters = ", ".join(f.name for f in r.filters)
        click.echo(f"{r.name:<32} on {r.ref_doctype:<16} filters: {filters or '-'}")


def _text_table(result: Any) -> str:
    """The rows as aligned columns under their labels; numbers right-aligned."""
    from engine.site.spreadsheet import text

    numeric = {key for key, _, fieldtype in result.columns if fieldtype in ("Int", "Float", "Currency", "Percent")}
    header = [label for _, label, _ in result.columns]
    cells = [[text(row.get(key)) for key, _, _ in result.columns] for row in result.rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    keys = [key for key, _, _ in result.columns]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if k in numeric else v.ljust(w)
                         for v, w, k in zip(values, widths, keys, strict=True)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)


@docframe.command()
@click.argument("doctype")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: <doctype>.<format> here).")
@click.option("--filter", "filters", multiple=True, metavar="FIELD=VALUE", help="Only matching documents (repeat).")
@click.option("--template", is_flag=True, help="Write only the header: an import template for DOCTYPE.")
@click.pass_obj
def export(cfg: Config, doctype: str, fmt: str, output: Path | None, filters: tuple[str, ...],
           template: bool) -> None:
    """Export DOCTYPE documents (every field; child tables in import-template columns) to CSV or XLSX."""
    from engine.site import spreadsheet
    from engine.site.importer import template_header

    site = cfg.site()
    try:
        meta = site.get_meta(doctype)
        child_metas = {f.options: site.get_meta(f.options) for f in meta.table_fields}
        header = template_header(meta, child_metas)  # type: ignore[arg-type]
        rows: list[list[Any]] = []
        if not template:
            where = {}
            for item in filters:
                name, sep, value = item.partition("=")
                if not sep:
                    raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--filter")
                where[name.strip()] = value
            rows = _export_rows(site, meta, where)
    finally:
        site.dispose()
    target = output or Path(f"{meta.table_name[4:]}{'_template' if template else ''}.{fmt}")
    body, _ = spreadsheet.table(header, rows, fmt, meta.name)
    target.write_bytes(body)
    click.echo(f"Wrote {len(rows)} {doctype} document(s) to {target}." if not template else
               f"Wrote the {doctype} import template to {target}.")


def _export_rows(site: Site, meta: Any, where: dict[str, str]) -> list[list[Any]]:
    """Rows in the import template's columns: a document's first child row beside it, the others below."""
    own = ["name"] + [f.name for f in meta.data_fields if not (f.read_only or f.fetch_from or f.type == "Read Only")]
    out: list[list[Any]] = []
    with site.session() as s:
        for name in s.get_list(meta.name, filters=where, pluck="name", order_by="name asc", limit=10_000_000):
            doc = s.get_doc(meta.name, name)
            children = [(tf, site.get_meta(tf.options)) for tf in meta.table_fields]
            widths = [len([f for f in cm.data_fields if not (f.read_only or f.fetch_from)]) for _, cm in children]
            depth = max([len(doc.get(tf.name)) for tf, _ in children] + [1])
            for i in range(depth):
                line = [doc.get(f) for f in own] if i == 0 else [None] * len(own)
                for (tf, cm), width in zip(children, widths, strict=True):
                    rows = doc.get(tf.name)
                    fields = [f.name for f in cm.data_fields if not (f.read_only or f.fetch_from)]
                    line += [rows[i].get(f) for f in fields] if i < len(rows) else [None] * width
                out.append(line)
    return out


def main() -> None:
    """Console-script entry point."""
    docframe(prog_name="docframe")


if __name__ == "__main__":
    main()
