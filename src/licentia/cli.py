"""`licentia`: run, prepare and administer a Licentia server."""

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from licentia import cli_operations
from licentia.core.preflight import OperatorError, data_dir_problem
from licentia.secret_key import ensure_secret_key_file

DESCRIPTION = """\
Licentia, the licensing server.

First time here? `licentia serve --demo` prepares ./var, fills it with demo data and serves the
vendor cabinet at http://127.0.0.1:8000/, printing the login.

In production: set SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS (see README.md), run
`licentia init --prefix ABCD` once (ABCD: the four letters your keys start with), then
`licentia serve` and `licentia worker` under your process manager.
"""


def _data_dir(*, create: bool = False) -> Path:
    data_dir = Path(os.environ.get("LICENTIA_DATA_DIR", "var")).resolve()
    # Children (gunicorn, the worker) must find the same directory whatever their cwd.
    os.environ["LICENTIA_DATA_DIR"] = str(data_dir)
    if create:
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise OperatorError(f"cannot create the data directory {data_dir}: {error}") from None
    problem = data_dir_problem(data_dir)
    if problem:
        raise OperatorError(problem)
    return data_dir


def _setup_django(*, database: bool = True) -> None:
    """Django set up, and its database answering unless `database` is false; a problem with
    either is an OperatorError."""
    cli_operations.setup_django(database=database)


def _call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def command_init(options: argparse.Namespace) -> None:
    data_dir = _data_dir(create=True)
    if not os.environ.get("SECRET_KEY"):
        print(f"Secret key file: {ensure_secret_key_file(data_dir)}")
    _setup_django()
    _call("migrate", "--no-input")
    if options.prefix:
        from django.core.exceptions import ValidationError

        from licentia.core.audit import Actor
        from licentia.core.services import vendor_settings_update

        try:
            vendor_settings_update(actor=Actor.system("licentia init"), key_prefix=options.prefix)
        except ValidationError as error:
            sys.exit(f"licentia: --prefix: {' '.join(error.messages)}")
        print(f"License keys will start with {options.prefix}.")
    print("Licentia is ready. Create the first cabinet user with `licentia createadmin`.")


def command_serve(options: argparse.Namespace) -> None:
    data_dir = _data_dir(create=options.demo)
    if options.demo and not os.environ.get("SECRET_KEY"):
        ensure_secret_key_file(data_dir)
    host, _sep, port = options.bind.rpartition(":")
    url = f"http://{host or '127.0.0.1'}:{port}/"
    if options.demo:
        # The demo's links (mail, sign-in) lead where it serves, unless told otherwise.
        os.environ.setdefault("LICENTIA_BASE_URL", url.rstrip("/"))
    _setup_django()
    _call("migrate", "--no-input", "--verbosity", "0")
    if options.demo:
        from licentia.cabinet.demo import demo_seed
        from licentia.portal.demo import demo_client_link

        login = demo_seed(data_dir=data_dir)
        print(
            f"\nLicentia demo is starting at {url}\n"
            f"Login: {login.username}\nPassword: {login.password}\n"
            "(the demo users sales, support and viewer share this password)\n"
        )
        client_link = demo_client_link()
        if client_link is not None:
            print(
                f"Client cabinet of {client_link.company} ({client_link.email}), "
                f"a sign-in link for one use within 15 minutes:\n{client_link.url}\n"
                f"(later ask for a new one at {url}my/ with a key of the client and that e-mail)\n"
            )
        from django.conf import settings

        if settings.EMAIL_BACKEND.endswith(".console.EmailBackend"):
            print("The demo's mail is printed below, not sent: set EMAIL_URL to send it.\n")
    else:
        print(f"\nLicentia is starting at {url}\n")
    sys.stdout.flush()

    children = [subprocess.Popen(web_server_command(options))]  # noqa: S603 - our own
    if not options.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "licentia.cli", "worker"]))

    def kill_remaining() -> None:
        for child in children:
            if child.poll() is None:
                child.kill()

    def stop(signum: int, frame: object) -> None:
        for child in children:
            child.send_signal(signal.SIGTERM)
        # A stop must end: granian's main process can stay waiting after its workers ended.
        killer = threading.Timer(STOP_GRACE_SECONDS, kill_remaining)
        killer.daemon = True
        killer.start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_codes = [child.wait() for child in children]
    sys.exit(max(exit_codes, key=abs))


HEADER_TIMEOUT_MS = 10_000
# How long the web server and the worker get to finish after SIGTERM before they are killed.
STOP_GRACE_SECONDS = 15.0


def web_server_command(options: argparse.Namespace) -> list[str]:
    """granian: its event loop (Rust) reads requests, keeps connections and cuts off clients
    that send their headers slowly; licentia.asgi hands whole requests to Django's threads."""
    host, _sep, port = options.bind.rpartition(":")
    os.environ["LICENTIA_THREADS"] = str(options.threads)
    return [
        sys.executable, "-m", "granian", "licentia.asgi:application",
        "--interface", "asgi",
        "--host", host.strip("[]") or "127.0.0.1",
        "--port", port,
        "--workers", str(options.workers),
        "--http", "1",
        "--no-ws",
        "--http1-header-read-timeout", str(HEADER_TIMEOUT_MS),
        "--workers-kill-timeout", "10",
        "--log-level", "warning",
    ]  # fmt: skip


def command_worker(options: argparse.Namespace) -> None:
    _data_dir()
    _setup_django()
    from licentia.scheduler import run_schedule

    stop = threading.Event()
    threading.Thread(target=run_schedule, args=(stop,), name="scheduler", daemon=True).start()
    try:
        _call("db_worker")
    finally:
        stop.set()


def command_createadmin(options: argparse.Namespace) -> None:
    _data_dir()
    _setup_django()
    args = ["createadmin", "--username", options.username]
    if options.email:
        args += ["--email", options.email]
    from django.utils import translation

    # The command line speaks English, whatever the cabinet's language.
    with translation.override("en"):
        _call(*args)


def command_check(options: argparse.Namespace) -> None:
    cli_operations.command_check(options)


def command_apikey(options: argparse.Namespace) -> None:
    _data_dir()
    _setup_django()
    from django.core.exceptions import ValidationError

    from licentia.api.models import ApiKey
    from licentia.api.services import api_key_create, api_key_revoke
    from licentia.core.audit import Actor

    actor = Actor.system("licentia apikey")
    if options.action == "create":
        try:
            new = api_key_create(name=options.name, role=options.role, actor=actor)
        except ValidationError as error:
            sys.exit(f"licentia: {' '.join(error.messages)}")
        print(new.token)
        print(
            f"API key #{new.key.pk} ({options.role}) made; the line above is shown only once.",
            file=sys.stderr,
        )
        return
    key = ApiKey.objects.filter(pk=options.id).first()
    if key is None:
        sys.exit(f"licentia: no API key #{options.id}")
    api_key_revoke(key=key, actor=actor)
    print(f"API key #{key.pk} ({key.name}) is revoked.")


def command_manage(options: argparse.Namespace) -> None:
    _data_dir()
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["licentia manage", *options.args])


DEFAULT_WORKERS = max(2, os.cpu_count() or 1)
DEFAULT_THREADS = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="licentia",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help="generate the secret key file (unless SECRET_KEY is set) and migrate"
    )
    init.add_argument(
        "--prefix",
        help="the four Latin capitals every license key starts with (else DEMO, the demo's)",
    )
    init.set_defaults(handler=command_init)

    serve = commands.add_parser(
        "serve", help="migrate if needed, then serve the cabinet and the APIs (with a worker)"
    )
    serve.add_argument(
        "--demo", action="store_true", help="fill an empty server with demo data; print the login"
    )
    serve.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT (default %(default)s)")
    # A process per CPU: requests spend most of their time in Python, which one process runs
    # on one CPU at a time, and more processes than CPUs only take turns (bench/RESULTS.md:
    # on 2 CPUs 2×2 served heartbeats 11% faster than 4×2, and 4×2 24% more than 2×4). The
    # threads only run Django on requests read whole, so two are enough to keep a process busy
    # while the other waits for the database.
    serve.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="web processes (default: one per CPU, at least 2; %(default)s here)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="threads running Django in each (default %(default)s)",
    )
    serve.add_argument(
        "--no-worker", action="store_true", help="do not start the background task worker"
    )
    serve.set_defaults(handler=command_serve)

    worker = commands.add_parser("worker", help="run background tasks (mail, reminders, sweeps)")
    worker.set_defaults(handler=command_worker)

    createadmin = commands.add_parser(
        "createadmin", help="create a cabinet user with full access (asks for the password)"
    )
    createadmin.add_argument("--username", default="admin", help="default %(default)s")
    createadmin.add_argument("--email", default="")
    createadmin.set_defaults(handler=command_createadmin)

    check = commands.add_parser("check", help="check settings, the database and migrations")
    check.set_defaults(handler=command_check)

    apikey = commands.add_parser("apikey", help="make or revoke a key of the vendor API")
    apikey_actions = apikey.add_subparsers(dest="action", required=True, metavar="ACTION")
    apikey_create = apikey_actions.add_parser(
        "create", help="make a key; prints <id>.<secret> for the Authorization header, once"
    )
    apikey_create.add_argument("--name", required=True)
    apikey_create.add_argument(
        "--role", required=True, choices=["full", "readonly", "support", "sales"]
    )
    apikey_revoke = apikey_actions.add_parser("revoke", help="revoke a key by its id")
    apikey_revoke.add_argument("id", type=int)
    apikey.set_defaults(handler=command_apikey)

    manage = commands.add_parser(
        "manage", help="run any Django management command, e.g. `licentia manage shell`"
    )
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=command_manage)
    cli_operations.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    options = build_parser().parse_args(argv)
    cli_operations.run_handler(options.handler, options)


if __name__ == "__main__":
    main()
