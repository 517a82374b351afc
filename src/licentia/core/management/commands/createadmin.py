import getpass
import os
import secrets
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licentia.core.services import staff_user_create_admin


class Command(BaseCommand):
    help = (
        "Create a cabinet user with full access. The password is asked for on a terminal, taken "
        "from LICENTIA_ADMIN_PASSWORD, or generated and printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, username: str, email: str, **options: Any) -> None:
        password = os.environ.get("LICENTIA_ADMIN_PASSWORD", "")
        generated = False
        if not password and sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        if not password:
            password = secrets.token_urlsafe(12)
            generated = True
        try:
            validate_password(password)
            user = staff_user_create_admin(username=username, email=email, password=password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Created {user.username}, with full access.")
        if generated:
            self.stdout.write(f"Password: {password}")
