"""HTTP calls of the application protocol, and a seat that keeps itself alive."""

import json
import platform
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from licentia_client.certificates import verify_certificate

API_PATH = "/api/app/v1/"
# The server cannot reach its database (503): the call is worth repeating after Retry-After.
UNAVAILABLE = 5030


class LicentiaError(Exception):
    """A refusal of the server: `code` is one of the protocol's codes (2008 no free seat, …)."""

    def __init__(
        self,
        code: int,
        message: str,
        status: int,
        body: dict[str, Any],
        retry_after: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body = body
        self.retry_after = retry_after


def machine_fingerprint() -> dict[str, str]:
    """What identifies this machine: its machine id where the system has one, its host name
    and platform."""
    fingerprint = {"host": socket.gethostname(), "platform": platform.platform()}
    machine_id = Path("/etc/machine-id")
    if machine_id.exists():
        fingerprint["machine_id"] = machine_id.read_text().strip()
    return fingerprint


class LicentiaClient:
    """Talks to one Licentia server. With `public_key` (base64, from GET public-key), every
    certificate the server returns is verified, nonce included, before it is handed back."""

    def __init__(
        self,
        base_url: str,
        *,
        public_key: str | None = None,
        language: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        max_retry_wait: float = 30.0,
    ) -> None:
        """`retries`: how many times a call refused with 5030 (the server's database is
        unreachable) is repeated, after the server's Retry-After (at most `max_retry_wait`
        seconds) or else after 1, 2, 4… seconds. Every call is safe to repeat: a unit gets
        its own seat back, and tokens are consumed once per idempotency key."""
        self.base_url = base_url.rstrip("/")
        self.public_key = public_key
        self.language = language
        self.timeout = timeout
        self.retries = retries
        self.max_retry_wait = max_retry_wait

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return self._call_once(path, body)
            except LicentiaError as error:
                if error.code != UNAVAILABLE or attempt >= self.retries:
                    raise
                time.sleep(self._retry_wait(error, attempt))
                attempt += 1

    def _retry_wait(self, error: LicentiaError, attempt: int) -> float:
        try:
            wait = float(error.retry_after or "")
        except ValueError:
            wait = float(2**attempt)
        return min(max(wait, 0.0), self.max_retry_wait)

    def _call_once(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base_url + API_PATH + path
        headers = {"Accept": "application/json"}
        if self.language:
            headers["Accept-Language"] = self.language
        data = None
        if body is not None:
            payload = {name: value for name, value in body.items() if value is not None}
            if self.language:
                payload.setdefault("language", self.language)
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - the vendor's server URL, http(s)
            url, data=data, headers=headers, method="POST" if body is not None else "GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                refusal = json.loads(raw)
            except ValueError:
                refusal = None
            if not isinstance(refusal, dict):
                # Not the server's own answer but a proxy's page: its 503 is worth a retry too.
                code = UNAVAILABLE if error.code == 503 else error.code
                refusal = {"code": code, "message": raw.decode(errors="replace")}
            raise LicentiaError(
                int(refusal.get("code", error.code)),
                str(refusal.get("message", refusal.get("error", ""))),
                error.code,
                refusal,
                retry_after=error.headers.get("Retry-After"),
            ) from None

    def _checked(
        self, answer: dict[str, Any], nonce: str, fingerprint: dict[str, str] | None
    ) -> dict[str, Any]:
        if self.public_key:
            verify_certificate(
                answer["certificate"], self.public_key, nonce=nonce, fingerprint=fingerprint
            )
        return answer

    def fetch_public_key(self) -> str:
        return str(self._call("public-key")["public_key"])

    def trial(
        self,
        *,
        product_id: int,
        company: str,
        email: str,
        user: str,
        host: str,
        fingerprint: dict[str, str],
        contact: str = "",
        phone: str = "",
        inn: str = "",
        database: str = "",
        app_version: str = "",
    ) -> dict[str, Any]:
        """Registers a trial of the product; the answer holds the key and the license."""
        nonce = secrets.token_urlsafe(16)
        answer = self._call(
            "trial",
            {
                "product_id": product_id,
                "company": company,
                "contact": contact,
                "email": email,
                "phone": phone,
                "inn": inn,
                "user": user,
                "host": host,
                "database": database,
                "fingerprint": fingerprint,
                "app_version": app_version,
                "nonce": nonce,
            },
        )
        return self._checked(answer, nonce, fingerprint)

    def license(self, key: str, *, fingerprint: dict[str, str] | None = None) -> dict[str, Any]:
        """The key's products, per feature the seats taken and free, and a certificate."""
        nonce = secrets.token_urlsafe(16)
        answer = self._call("license", {"key": key, "fingerprint": fingerprint, "nonce": nonce})
        return self._checked(answer, nonce, fingerprint)

    def capture_once(
        self,
        key: str,
        feature_id: int,
        *,
        user: str = "",
        host: str = "",
        database: str = "",
        process_id: str = "",
        fingerprint: dict[str, str] | None = None,
        app_version: str = "",
    ) -> dict[str, Any]:
        """Takes a seat (or renews the one the unit holds) without keeping it alive."""
        nonce = secrets.token_urlsafe(16)
        answer = self._call(
            "capture",
            {
                "key": key,
                "feature_id": feature_id,
                "user": user,
                "host": host,
                "database": database,
                "process_id": process_id,
                "fingerprint": fingerprint,
                "app_version": app_version,
                "nonce": nonce,
            },
        )
        return self._checked(answer, nonce, fingerprint)

    def capture(self, key: str, feature_id: int, **unit: Any) -> "Seat":
        """A seat as a context manager: captured on entry, kept alive by heartbeats in a
        background thread, released on exit."""
        return Seat(self, key, feature_id, unit)

    def heartbeat(self, session_id: str) -> dict[str, Any]:
        nonce = secrets.token_urlsafe(16)
        answer = self._call("heartbeat", {"session_id": session_id, "nonce": nonce})
        return self._checked(answer, nonce, None)

    def release(self, session_id: str) -> dict[str, Any]:
        return self._call("release", {"session_id": session_id})

    def consume_tokens(
        self,
        key: str,
        feature_id: int,
        amount: int,
        *,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> int:
        """Consumes tokens and returns the balance left. Pass an idempotency key to retry a
        call safely: a repeated key consumes nothing more."""
        answer = self._call(
            "tokens/consume",
            {
                "key": key,
                "feature_id": feature_id,
                "amount": amount,
                "comment": comment,
                "idempotency_key": idempotency_key or secrets.token_urlsafe(16),
            },
        )
        return int(answer["balance"])

    def releases(
        self,
        key: str,
        *,
        distribution: str = "",
        installed: str = "",
        configuration: str = "",
        configuration_version: str = "",
        show_untested: bool = False,
        count_downloads: bool = False,
    ) -> list[dict[str, Any]]:
        """The releases newer than `installed` that the key may install, newest first: of the
        distribution (its identifier; empty: of every distribution). Each has its files with
        their links and MD5."""
        answer = self._call(
            "releases",
            {
                "KEY": key,
                "TYPE": distribution,
                "INSTALLED_VERSION": installed,
                "CONF": configuration,
                "CONF_VERSION": configuration_version,
                "SHOW_UNTESTED": "Y" if show_untested else "N",
                "COUNT_DOWNLOADS": "Y" if count_downloads else "N",
            },
        )
        modules: list[dict[str, Any]] = answer["modules"]
        return modules

    def metrics(
        self,
        key: str,
        observations: list[dict[str, Any]],
        *,
        session_id: str | None = None,
    ) -> dict[str, int]:
        """Sends observations `{name, value, count, at}` (count and at optional; at an aware
        datetime or ISO text), 1,000 a call at most; answers how many were accepted and how
        many ignored (names the vendor does not accept)."""
        if len(observations) > 1000:
            raise ValueError("at most 1,000 observations a call")
        body: dict[str, Any] = {
            "key": key,
            "metrics": [
                {
                    **item,
                    **(
                        {"at": item["at"].isoformat()}
                        if hasattr(item.get("at"), "isoformat")
                        else {}
                    ),
                }
                for item in observations
            ],
        }
        if session_id:
            body["session"] = session_id
        answer = self._call("metrics", body)
        return {"accepted": int(answer["accepted"]), "ignored": int(answer["ignored"])}

    def activate_coupon(
        self, key: str, coupon: str, *, fingerprint: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Activates a coupon on the key; the answer is the key's license afterwards, as
        license() gives it, with the coupon as stored and its kind."""
        nonce = secrets.token_urlsafe(16)
        answer = self._call(
            "coupon",
            {"key": key, "coupon": coupon, "fingerprint": fingerprint, "nonce": nonce},
        )
        return self._checked(answer, nonce, fingerprint)


class Seat:
    """A captured seat, heartbeated every third of its lease while the `with` block runs.
    If the server refuses a heartbeat (key blocked, license ended, seat reset), `lost` is set
    and `error` holds the refusal: the application should stop using the feature."""

    def __init__(
        self, client: LicentiaClient, key: str, feature_id: int, unit: dict[str, Any]
    ) -> None:
        self.client = client
        self.key = key
        self.feature_id = feature_id
        self.unit = unit
        self.answer: dict[str, Any] = {}
        self.lost = threading.Event()
        self.error: LicentiaError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def session_id(self) -> str:
        return str(self.answer["session_id"])

    @property
    def certificate(self) -> str:
        return str(self.answer["certificate"])

    def __enter__(self) -> "Seat":
        self.answer = self.client.capture_once(self.key, self.feature_id, **self.unit)
        interval = max(float(self.answer["lease_seconds"]) / 3, 1.0)
        self._thread = threading.Thread(
            target=self._keep_alive, args=(interval,), name="licentia-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def _keep_alive(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.answer = {**self.answer, **self.client.heartbeat(self.session_id)}
            except LicentiaError as error:
                if error.code == UNAVAILABLE:
                    continue  # the server's database is down for now: as unreachable
                self.error = error
                self.lost.set()
                return
            except OSError:
                # The server is unreachable for now: the certificate covers the gap.
                continue

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.client.release(self.session_id)
        except LicentiaError as error:
            if error.code != 2062:
                raise
