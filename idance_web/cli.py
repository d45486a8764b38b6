"""The ``idance`` command: run, migrate, demo. Also available as ``flask --app app <command>``."""

from __future__ import annotations

import functools
import os

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .backup.commands import backup_command, compact_command, restore_command
from .db_errors import DatabaseLocked
from .extensions import get_db
from .migrate import MigrationError, Runner
from .serve import serve_command


def _one_line_errors(command):
    """A data file held by another process is an operator's mistake, not a crash: one line."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DatabaseLocked as exc:
            raise click.ClickException(str(exc)) from None

    return run


def make_runner(lookup=None) -> Runner:
    """A migration runner for the current app's database, with the lookup-data step (by
    default the whole load, before the next migration)."""
    from .services.lookup import load_lookup

    return Runner(get_db(), lookup=lookup or load_lookup)


@click.command("migrate")
@click.option("--migration", "target", metavar="NNNN", help="Apply up to and including this one.")
@click.option("--status", is_flag=True, help="Show applied, pending and changed migrations.")
@with_appcontext
@_one_line_errors
def migrate_command(target: str | None, status: bool) -> None:
    """Apply pending migrations (and load lookup data after 0003)."""
    runner = make_runner()
    try:
        if status:
            for item in runner.status():
                click.echo(f"{item.state:8}  {item.name}")
            return
        done = runner.run(target=target, log=click.echo)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(done)} migration(s) applied." if done else "Nothing to apply.")


@click.command("demo")
@with_appcontext
@_one_line_errors
def demo_command() -> None:
    """Fill the database with a demo community (idempotent; refused in production)."""
    from .demo import DemoRefused, load_demo

    try:
        summary = load_demo(get_db(), current_app.config["IDANCE"])
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


@click.command("schema-doc")
@click.option("--output", default="docs/schema.md", show_default=True)
@with_appcontext
def schema_doc_command(output: str) -> None:
    """Write the schema snapshot of a freshly migrated in-memory database."""
    from .db import Database
    from .schema_doc import render_schema

    scratch = Database(current_app.config["IDANCE"].with_overrides(db_url="mem://"))
    Runner(scratch).run(log=lambda m: None)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(render_schema(scratch))
    scratch.close()
    click.echo(f"Wrote {output}.")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Load the demo community before serving.")
@click.option("--reload", is_flag=True, help="Restart when code changes.")
@with_appcontext
@_one_line_errors
def run_command(host: str, port: int, demo: bool, reload: bool) -> None:
    """Run the development server (applies pending migrations first; in production it
    refuses to start while any are pending)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    config = app.config["IDANCE"]
    # Absolute links in development name the address served, never a request's Host header.
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    app.config["IDANCE_SERVING_HOST"] = f"{shown}:{port}"
    lookup = None
    if config.auto_migrate:
        from .services.lookup import LookupInBackground

        # Serve at once and load the large lookup tables meanwhile; not in the reloader's
        # watching process (it never serves), nor before the demo (it needs every city).
        if not (reload or demo):
            lookup = LookupInBackground(get_db())
        try:
            make_runner(lookup).run(log=click.echo)
        except MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        from .serving import MigrationsPending, refuse_pending_migrations

        try:
            refuse_pending_migrations(app)  # production applies nothing implicitly
        except MigrationsPending as exc:
            raise click.ClickException(str(exc)) from None
    if demo:
        from .demo import load_demo

        click.echo(load_demo(get_db(), config))
    if reload:
        # The reloader serves from a child process, which opens the data file itself.
        get_db().close()
    # Otherwise this process serves on the connection it migrated with: opening the embedded
    # data file replays its whole log, which takes longer as the community grows.
    # With --reload this command runs twice: in the watching parent and in the serving child
    # (WERKZEUG_RUN_MAIN set); only the one that serves follows the change feed.
    if not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        from .realtime import start_hub

        start_hub(app)
    if lookup is not None:
        lookup.start(log=click.echo)
    run_simple(host, port, app, use_reloader=reload, threaded=True)


@click.command("set-tier")
@click.argument("username")
@click.argument("tier", type=click.Choice(["free", "pro", "vip"]))
@with_appcontext
@_one_line_errors
def set_tier_command(username: str, tier: str) -> None:
    """Change a member's tier (free, pro or vip), as the worker identity."""
    from .services.tiers import set_tier

    try:
        set_tier(get_db(), username, tier)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{username} is now {tier}.")


@click.command("reports")
@with_appcontext
@_one_line_errors
def reports_command() -> None:
    """List open reports, oldest first, for moderation."""
    from .services.social import open_reports

    rows = open_reports(get_db())
    for r in rows:
        note = f" — {r['note']}" if r["note"] else ""
        click.echo(f"{r['created_at']:%Y-%m-%d %H:%M}  {r['reason']:13} {r['target']} "
                   f"(by @{r['reporter']}){note}")
    click.echo(f"{len(rows)} open report(s).")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs that are due, then stop.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls when idle.")
@with_appcontext
@_one_line_errors
def worker_command(once: bool, poll: float) -> None:
    """Run background jobs as the worker identity until stopped (Ctrl-C or SIGTERM)."""
    import signal

    from .job_handlers import load_handlers, schedule_daily
    from .jobs import Worker

    load_handlers()
    worker = Worker(get_db())
    if once:
        outcomes = worker.run_due()
        click.echo(f"{len(outcomes)} job(s) run.")
        return
    # With a SurrealDB server no serving process runs jobs (nor queues the daily ones): the
    # workers do, so the first to start queues them.
    schedule_daily(get_db())
    signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
    click.echo(f"worker {worker.name} running; Ctrl-C stops it.")
    try:
        worker.run(poll=poll)
    except KeyboardInterrupt:
        pass


@click.command("jobs")
@click.option("--failed", "show_failed", is_flag=True, help="List the latest failed jobs.")
@with_appcontext
@_one_line_errors
def jobs_command(show_failed: bool) -> None:
    """Show how many background jobs are in each state."""
    from .jobs import counts, failures

    for state, number in counts(get_db()).items():
        click.echo(f"{state:8}  {number}")
    if show_failed:
        for job in failures(get_db()):
            click.echo(f"{job['id']}  {job['kind']}  attempts {job['attempts']}: {job['error']}")


@click.command("vapid-keys")
def vapid_keys_command() -> None:
    """Print a new VAPID key pair for Web Push, as environment settings."""
    from .services.push import generate_vapid_keys

    public, private = generate_vapid_keys()
    click.echo(f"IDANCE_VAPID_PUBLIC_KEY={public}")
    click.echo(f"IDANCE_VAPID_PRIVATE_KEY={private}")
    click.echo("IDANCE_VAPID_SUBJECT=mailto:you@example.com  # a contact for push services")


def register(app: Flask) -> None:
    """Add the commands to ``app.cli`` (for ``flask --app app …``)."""
    app.cli.add_command(serve_command)
    for command in (migrate_command, demo_command, schema_doc_command, run_command,
                    set_tier_command, reports_command, worker_command, jobs_command,
                    vapid_keys_command):
        app.cli.add_command(command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(compact_command)


def _create_app():
    from . import create_app

    return create_app()


main = FlaskGroup(
    name="idance",
    help="iDance: run the app, apply migrations, load demo content.",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
