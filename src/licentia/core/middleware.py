import io
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from licentia.core.network import client_ip
from licentia.core.outage import DATABASE_UNREACHABLE

request_logger = logging.getLogger("licentia.request")

ResponseGetter = Callable[[HttpRequest], HttpResponse]


def _username(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    try:
        return user.get_username() if user is not None and user.is_authenticated else None
    except DATABASE_UNREACHABLE:
        return None  # the session could not be read; the answer has said so already


class RequestLogMiddleware:
    """Logs each request once, as structured fields, with an id echoed in X-Request-ID."""

    def __init__(self, get_response: ResponseGetter) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        if request_logger.isEnabledFor(logging.INFO):
            self._log(request, response, request_id, started)
        response["X-Request-ID"] = request_id
        return response

    def _log(
        self, request: HttpRequest, response: HttpResponse, request_id: str, started: float
    ) -> None:
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user": _username(request),
                "ip": client_ip(request),
            },
        )


class UserLanguageMiddleware:
    """A signed-in staff user sees the cabinet in the language saved on their account."""

    def __init__(self, get_response: ResponseGetter) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        language = getattr(user, "language", "") if user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class BodyLimitMiddleware:
    """A body larger than settings.MAX_BODY_BYTES is refused (413): by its declared length
    before a byte of it is read, or, sent in chunks without a length, as soon as more than the
    limit has arrived. A chunked body within the limit is read here, as Django reads only as
    many bytes as Content-Length says and would see it empty."""

    def __init__(self, get_response: ResponseGetter) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.BODY_LIMITS_BY_PATH.get(request.path, settings.MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not length:
            body = request.META["wsgi.input"].read(limit + 1)
            length = len(body)
            if length <= limit:
                request._stream = LimitedStream(io.BytesIO(body), length)  # type: ignore[assignment]
                request.META["CONTENT_LENGTH"] = str(length)
        if length > limit:
            return HttpResponse(
                f"Request body too large: the limit is {limit} bytes.\n",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY with every answer that has none of its own."""

    def __init__(self, get_response: ResponseGetter) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class QueryNulMiddleware:
    """Drops NUL characters from query strings: no list filter or search of the cabinet means
    one, and PostgreSQL refuses them in any text it is given (a 500 on every list)."""

    def __init__(self, get_response: ResponseGetter) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            cleaned = request.GET.copy()
            for name in list(cleaned):
                cleaned.setlist(
                    name, [value.replace("\x00", "") for value in cleaned.getlist(name)]
                )
            cleaned._mutable = False
            request.GET = cleaned  # type: ignore[assignment]
        return self.get_response(request)
