"""Demo data for `licentia serve --demo`: seeded once into an empty server."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction

from licentia.core.models import User
from licentia.core.roles import READ_ONLY, SALES, SUPPORT
from licentia.core.services import staff_user_create_admin

DEMO_LOGIN_FILENAME = "demo-login.txt"
DEMO_ADMIN = "admin"
DEMO_STAFF = (
    ("sales", "Мария", "Продажина", SALES),
    ("support", "Сергей", "Поддержкин", SUPPORT),
    ("viewer", "Ольга", "Смотрова", READ_ONLY),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def demo_seed(*, data_dir: Path) -> DemoLogin:
    login_file = data_dir / DEMO_LOGIN_FILENAME
    if login_file.exists():
        username, password = login_file.read_text(encoding="utf-8").split("\n", 1)
        return DemoLogin(username=username, password=password.strip())
    if User.objects.filter(username=DEMO_ADMIN).exists():
        raise RuntimeError(
            f"{data_dir} holds a server that was not seeded as a demo; "
            "use another LICENTIA_DATA_DIR for the demo"
        )
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        staff_user_create_admin(username=DEMO_ADMIN, email="admin@example.com", password=password)
        for username, first_name, last_name, role in DEMO_STAFF:
            user = User.objects.create_user(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@example.com",
                password=password,
                is_staff=True,
            )
            user.groups.add(Group.objects.get(name=role))
    descriptor = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"{DEMO_ADMIN}\n{password}\n")
    return DemoLogin(username=DEMO_ADMIN, password=password)
