"""``idance backup`` and ``idance restore``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db_errors import DatabaseLocked
from ..extensions import get_db
from .archive import BackupError, write_backup
from .compact import compact
from .restore import restore, verify

_RUNNING = ("the app is running and owns the data file, so this command cannot open it. "
            "Backups while it serves are written by the app itself: set IDANCE_BACKUP_DIR "
            "(see the README, 'Backup and restore'), or stop the app and run this again")


class _Progress:
    """One line on the terminal that counts what is done (rows of a table, bytes of the file),
    only on a terminal and only for long runs."""

    def __init__(self):
        self.shown = False
        self.live = sys.stderr.isatty()

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.live and total >= 5000:
            click.echo(f"\r{what}: {done}/{total}\033[K", nl=False, err=True)
            self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("\r\033[K", nl=False, err=True)
            self.shown = False

    def echo(self, message: str) -> None:
        """A line of its own, below nothing half-written."""
        self.done()
        click.echo(message)


def _summary(manifest: dict) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    media = manifest.get("media", {})
    files = len(media.get("files", media.get("objects", {})))
    return (f"{len(manifest['tables'])} tables, {rows} rows, {files} media files "
            f"(iDance {manifest['app_version']}, {manifest['created_at']})")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--verify", "check", is_flag=True,
              help="Check FILE instead: restore it into a scratch in-memory database and "
                   "compare every table's rows and hash.")
@with_appcontext
def backup_command(file: str, check: bool) -> None:
    """Write a backup of the database and media to FILE (owner-only), or check one."""
    config = current_app.config["IDANCE"]
    progress = _Progress()
    try:
        if check:
            click.echo(f"{file} verified: {_summary(verify(file, config))} restore exactly.")
            return
        manifest = write_backup(get_db(), file, progress=progress, log=progress.echo)
    except DatabaseLocked:
        raise click.ClickException(_RUNNING) from None
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.done()
    click.echo(f"Wrote {file}: {_summary(manifest)}.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def restore_command(file: str) -> None:
    """Restore FILE into the configured database, which must be empty; then apply the
    configuration's access keys (as `idance migrate` does)."""
    from ..migrate import Runner
    from ..services.lookup import load_lookup
    from ..storage import storage_from_config

    db = get_db()
    progress = _Progress()
    try:
        manifest = restore(db, file, storage=storage_from_config(db.config),
                           progress=progress, log=progress.echo)
        Runner(db, lookup=load_lookup).run(log=click.echo)
    except DatabaseLocked:
        raise click.ClickException(_RUNNING.replace("this command", "restore")) from None
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.done()
    click.echo(f"Restored {file}: {_summary(manifest)}; every table matches the backup.")


@click.command("compact")
@with_appcontext
def compact_command() -> None:
    """Rewrite the embedded data file with what it holds now (the app stopped): every start
    reads the file's whole history, which this drops. The old file is kept beside it."""
    progress = _Progress()
    try:
        before, after = compact(current_app.config["IDANCE"], log=progress.echo)
    except DatabaseLocked:
        raise click.ClickException("the app is running and owns the data file: stop it, "
                                   "then compact") from None
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.done()
    click.echo(f"Compacted the data file: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB.")
