"""licentia-client: try the application protocol from a shell.

licentia-client --server URL trial --product 100 --company "ООО Ромашка" --email a@b.ru
licentia-client --server URL info KEY
licentia-client --server URL capture KEY FEATURE --hold 30s
licentia-client --server URL tokens KEY FEATURE AMOUNT
licentia-client --server URL verify CERTIFICATE
"""

import argparse
import getpass
import json
import os
import re
import socket
import sys
from collections.abc import Sequence
from typing import Any

from licentia_client.certificates import CertificateError, verify_certificate
from licentia_client.client import LicentiaClient, LicentiaError, machine_fingerprint

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def duration(text: str) -> float:
    """Seconds in "30", "30s", "5m" or "1h"."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use 30s, 5m, 1h)")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _unit(options: argparse.Namespace) -> dict[str, Any]:
    return {
        "user": options.user,
        "host": options.host,
        "database": options.database,
        "fingerprint": machine_fingerprint(),
    }


def command_trial(client: LicentiaClient, options: argparse.Namespace) -> None:
    _print(
        client.trial(
            product_id=options.product,
            company=options.company,
            email=options.email,
            contact=options.contact,
            phone=options.phone,
            inn=options.inn,
            **_unit(options),
        )
    )


def command_info(client: LicentiaClient, options: argparse.Namespace) -> None:
    _print(client.license(options.key, fingerprint=machine_fingerprint()))


def command_capture(client: LicentiaClient, options: argparse.Namespace) -> None:
    with client.capture(
        options.key, options.feature, process_id=str(os.getpid()), **_unit(options)
    ) as seat:
        _print({name: seat.answer[name] for name in ("session_id", "type", "lease_expires_at")})
        print(f"holding the seat for {options.hold:g} s …", file=sys.stderr)
        if seat.lost.wait(options.hold):
            raise seat.error or LicentiaError(2062, "the seat was lost", 404, {})
    print("released", file=sys.stderr)


def command_tokens(client: LicentiaClient, options: argparse.Namespace) -> None:
    balance = client.consume_tokens(
        options.key, options.feature, options.amount, comment=options.comment
    )
    _print({"balance": balance})


def command_verify(client: LicentiaClient, options: argparse.Namespace) -> None:
    public_key = options.public_key or client.fetch_public_key()
    _print(verify_certificate(options.certificate, public_key))


def command_coupon(client: LicentiaClient, options: argparse.Namespace) -> None:
    _print(client.activate_coupon(options.key, options.coupon, fingerprint=machine_fingerprint()))


def command_releases(client: LicentiaClient, options: argparse.Namespace) -> None:
    _print(
        client.releases(
            options.key,
            distribution=options.type,
            installed=options.installed,
            configuration=options.conf,
            configuration_version=options.conf_version,
            show_untested=options.show_untested,
            count_downloads=options.count_downloads,
        )
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="licentia-client", description="Call a Licentia server as a protected application."
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("LICENTIA_SERVER", "http://127.0.0.1:8000"),
        help="the server's URL (default: $LICENTIA_SERVER or http://127.0.0.1:8000)",
    )
    parser.add_argument("--language", choices=["ru", "en"], help="language of the answers")
    parser.add_argument("--user", default=getpass.getuser())
    parser.add_argument("--host", default=socket.gethostname())
    parser.add_argument("--database", default="", help="the infobase, for DATABASE licenses")
    commands = parser.add_subparsers(dest="command", required=True)

    trial = commands.add_parser("trial", help="register a trial through the questionnaire")
    trial.add_argument("--product", type=int, required=True)
    trial.add_argument("--company", required=True)
    trial.add_argument("--email", required=True)
    trial.add_argument("--contact", default="")
    trial.add_argument("--phone", default="")
    trial.add_argument("--inn", default="")
    trial.set_defaults(handler=command_trial)

    info = commands.add_parser("info", help="the key's products, seats and certificate")
    info.add_argument("key")
    info.set_defaults(handler=command_info)

    capture = commands.add_parser("capture", help="capture a seat and hold it")
    capture.add_argument("key")
    capture.add_argument("feature", type=int)
    capture.add_argument("--hold", type=duration, default=30.0, help="e.g. 30s, 5m (default 30s)")
    capture.set_defaults(handler=command_capture)

    tokens = commands.add_parser("tokens", help="consume tokens")
    tokens.add_argument("key")
    tokens.add_argument("feature", type=int)
    tokens.add_argument("amount", type=int)
    tokens.add_argument("--comment", default="")
    tokens.set_defaults(handler=command_tokens)

    verify = commands.add_parser("verify", help="verify a certificate offline")
    verify.add_argument("certificate")
    verify.add_argument(
        "--public-key", help="base64 public key; fetched from the server if not given"
    )
    verify.set_defaults(handler=command_verify)

    coupon = commands.add_parser("coupon", help="activate a coupon on the key")
    coupon.add_argument("key")
    coupon.add_argument("coupon")
    coupon.set_defaults(handler=command_coupon)

    releases = commands.add_parser("releases", help="the releases the key may install")
    releases.add_argument("key")
    releases.add_argument("--type", default="", help="the distribution's identifier")
    releases.add_argument("--installed", default="", help="the version installed, e.g. 1.2.3")
    releases.add_argument("--conf", default="", help="the configuration it runs in")
    releases.add_argument("--conf-version", default="")
    releases.add_argument(
        "--show-untested", action="store_true", help="also releases not marked compatible"
    )
    releases.add_argument(
        "--count-downloads", action="store_true", help="links that count each download"
    )
    releases.set_defaults(handler=command_releases)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    options = build_parser().parse_args(argv)
    client = LicentiaClient(options.server, language=options.language)
    try:
        options.handler(client, options)
    except LicentiaError as error:
        print(f"refused: {error.code} {error.message}", file=sys.stderr)
        sys.exit(2)
    except CertificateError as error:
        print(f"certificate not valid: {error}", file=sys.stderr)
        sys.exit(3)
    except OSError as error:
        print(f"cannot reach {options.server}: {error}", file=sys.stderr)
        sys.exit(4)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
