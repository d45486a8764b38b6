"""The ``idance`` command: run, migrate, demo. Also available as ``flask --app app <command>``."""

from __future__ import annotations

import functools

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .db_errors import DatabaseLocked
from .extensions import get_db
from .migrate import MigrationError, Runner


def _one_line_errors(command):
    """A data file held by another process is an operator's mistake, not a crash: one line."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DatabaseLocked as exc:
            raise click.ClickException(str(exc)) from None

    return run


def make_runner() -> Runner:
    """A migration runner for the current app's database, with the lookup-data step."""
    from .services.lookup import load_lookup

    return Runner(get_db(), lookup=load_lookup)


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
    from .services.demo import DemoRefused, load_demo

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
    """Run the development server (applies pending migrations first, except in production)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    config = app.config["IDANCE"]
    # Absolute links in development name the address served, never a request's Host header.
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    app.config["IDANCE_SERVING_HOST"] = f"{shown}:{port}"
    if config.auto_migrate:
        try:
            make_runner().run(log=click.echo)
        except MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
    if demo:
        from .services.demo import load_demo

        click.echo(load_demo(get_db(), config))
    # The serving process opens the data file itself (the reloader runs a second process).
    get_db().close()
    run_simple(host, port, app, use_reloader=reload, threaded=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs that are due, then stop.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls when idle.")
@with_appcontext
@_one_line_errors
def worker_command(once: bool, poll: float) -> None:
    """Run background jobs as the worker identity until stopped (Ctrl-C or SIGTERM)."""
    import signal

    from .jobs import Worker, load_handlers

    load_handlers()
    worker = Worker(get_db())
    if once:
        outcomes = worker.run_due()
        click.echo(f"{len(outcomes)} job(s) run.")
        return
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


def register(app: Flask) -> None:
    """Add the commands to ``app.cli`` (for ``flask --app app …``)."""
    for command in (migrate_command, demo_command, schema_doc_command, run_command,
                    worker_command, jobs_command):
        app.cli.add_command(command)


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
