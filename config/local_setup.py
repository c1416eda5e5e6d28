"""Set up a local run: the local secret key file, the folders under var/ and the SQLite
database file (mode 0600).

``python -m config.local_setup`` is run by `make demo`, `make serve` and `make test` before
manage.py; ``local_folders_ensure`` also by `manage.py serve` and by the test run. Settings
themselves never write (config/settings.py), so every process reads one finished key.
"""

import os
import secrets
import sys
from pathlib import Path

from config.env import var_dir

BASE_DIR = Path(__file__).resolve().parent.parent
KEY_MODE = 0o600


def secret_key_file_ensure(path: Path) -> str:
    """The key stored in `path`, made first if the file does not exist.

    A new key (``secrets.token_urlsafe(50)``, 67 characters) is written and fsynced into a
    private temporary file (O_CREAT | O_EXCL, mode 0600 from the start, never readable by
    others), then hard-linked to `path`, which fails if `path` exists. So when several
    processes race, exactly one key wins, the losers read the winner's complete file, and
    nobody ever sees a partly written or world-readable key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    try:
        os.fchmod(descriptor, KEY_MODE)  # whatever the umask
        os.write(descriptor, (secrets.token_urlsafe(50) + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process won the race: its key is the one
    finally:
        draft.unlink()
    return path.read_text().strip()


def private_file_ensure(path: Path) -> Path:
    """`path` exists and only its owner can read it (mode 0600). A missing file is made
    empty with that mode from the start (O_CREAT | O_EXCL: never readable by others, even
    for a moment); an existing one gets it. Used for the SQLite database, which holds
    sessions and API tokens (an empty file is a valid empty SQLite database)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    except FileExistsError:
        os.chmod(path, KEY_MODE)
    else:
        os.fchmod(descriptor, KEY_MODE)  # whatever the umask
        os.close(descriptor)
    return path


def local_folders_ensure() -> list[Path]:
    """Make the folders the configured settings write to, if missing: var/ (the SQLite
    database and its test copy), static root, media root and, with the filesystem Celery
    broker, its message folders; and the SQLite database file itself, private (0600).
    Returns the folders (absolute paths)."""
    from django.conf import settings

    folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT), Path(settings.MEDIA_ROOT)]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        for name in (database["NAME"], database.get("TEST", {}).get("NAME")):
            if name and name != ":memory:":
                folders.append(Path(name).parent)
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for option in ("data_folder_in", "data_folder_out", "data_folder_processed", "control_folder"):
        if transport.get(option):
            folders.append(Path(transport[option]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    if database["ENGINE"] == "django.db.backends.sqlite3" and database["NAME"] != ":memory:":
        private_file_ensure(Path(database["NAME"]))
    return [folder.resolve() for folder in folders]


def main() -> None:
    key_file = var_dir(BASE_DIR) / "secret_key"
    key = secret_key_file_ensure(key_file)
    # This process only: the settings it loads next need a key even with DEBUG off.
    os.environ.setdefault("DJANGO_SECRET_KEY", key)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    local_folders_ensure()
    print(
        f"local run ready: key in {key_file} (mode 0600), folders under {key_file.parent}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
