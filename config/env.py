"""Tiny typed readers for settings that come from the environment.

Each raises ImproperlyConfigured with the variable's name and what was wrong, so a bad
deployment fails at start-up with a sentence instead of a stack trace deep in a request.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


SECRET_KEY_HELP = (
    "Set it in the environment to a long random value, the same for every web and worker "
    "process, e.g. export DJANGO_SECRET_KEY=\"$(python -c 'import secrets; "
    "print(secrets.token_urlsafe(50))')\". For a local run on this machine, `make demo` and "
    "`make serve` create var/secret_key and pass it on (or run `python -m config.local_setup` "
    "and start manage.py with DEBUG=1, which reads that file)."
)


def var_dir(base_dir: Path) -> Path:
    """Where local state lives (SQLite file, secret key, broker files): EARSHOT_VAR_DIR, or
    var/ in the checkout."""
    return Path(env_str("EARSHOT_VAR_DIR", str(base_dir / "var")))


def secret_key(*, debug: bool, key_file: Path) -> str:
    """The SECRET_KEY: DJANGO_SECRET_KEY from the environment; with DEBUG on, else the local
    key file that `python -m config.local_setup` creates. Never writes anything.

    Raises ImproperlyConfigured when there is no key, naming the variable and how to set it:
    with DEBUG off (any deployment) only the environment counts."""
    from_env = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if from_env:
        return from_env
    if not debug:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set and DEBUG is off. {SECRET_KEY_HELP}"
        )
    try:
        from_file = key_file.read_text().strip()
    except FileNotFoundError:
        from_file = ""
    if not from_file:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set and {key_file} does not exist (or is empty). "
            f"{SECRET_KEY_HELP}"
        )
    return from_file


def cache_config(url: str) -> dict:
    """The default cache from CACHE_URL: ``locmem://`` (one process's memory, the local
    default) or ``redis://host:6379/1`` (shared by every web process: what rate limits need
    in production). Anything else stops start-up with a sentence."""
    if url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(
        f"CACHE_URL={url!r} is not supported; use locmem:// or redis://host:6379/1."
    )
