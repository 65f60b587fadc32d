"""`chainatlas backup` / `restore`: the database, the uploads and the instance secret in one file (`archive`)."""

from chainatlas.services.backup.archive import BackupError, backup, has_data, read_manifest, restore

__all__ = [
    "BackupError", "backup", "has_data", "read_manifest", "restore",
]
