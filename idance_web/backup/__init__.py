"""Backups: ``idance backup`` writes one, ``idance restore`` restores one into an empty database,
``idance backup --verify`` restores one into a scratch database and compares (see the README's
"Backup and restore" and docs/architecture.md)."""

from .archive import BackupError, write_backup
from .restore import compare, read_backup, restore, verify

__all__ = ["BackupError", "compare", "read_backup", "restore", "verify", "write_backup"]
