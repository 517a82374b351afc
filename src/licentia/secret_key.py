"""The Django secret key kept in the data directory when it is not given by the environment."""

import os
import secrets
from pathlib import Path

SECRET_KEY_FILENAME = "secret_key"  # noqa: S105 - a file name, not a secret


def read_secret_key_file(data_dir: Path) -> str:
    try:
        return (data_dir / SECRET_KEY_FILENAME).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""


def ensure_secret_key_file(data_dir: Path) -> Path:
    """Generate the key file once, readable by its owner only; an existing key is kept."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / SECRET_KEY_FILENAME
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path
