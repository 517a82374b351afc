"""Settings for the test suite: the project's own, with a throw-away data directory."""

import os
import tempfile
from pathlib import Path

from licentia.secret_key import ensure_secret_key_file

_data_dir = Path(
    os.environ.get("LICENTIA_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="licentia-test-")
)
os.environ["LICENTIA_DATA_DIR"] = str(_data_dir)
if not os.environ.get("SECRET_KEY"):
    ensure_secret_key_file(_data_dir)

from licentia.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
