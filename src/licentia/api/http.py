"""Every answer under /api/app/ is JSON: what Django or a lower layer answers as an HTML or
text error (an unknown path, a wrong method, a body too large, a server error, the database
unreachable) becomes the protocol's coded refusal of that status."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from licentia.licensing.refusals import Code, Refusal

API_ROOT = "/api/app"
VENDOR_API_ROOT = "/api/v1"

CODE_OF_STATUS = {
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    413: Code.BODY_TOO_LARGE,
    503: Code.DATABASE_UNAVAILABLE,
}
# Headers of the original answer that the caller still needs.
KEPT_HEADERS = ("Allow", "Retry-After", "X-Request-ID")


def _refusal_of(response: HttpResponse) -> Refusal:
    status = response.status_code
    code = CODE_OF_STATUS.get(status, Code.SERVER_ERROR if status >= 500 else Code.INVALID_REQUEST)
    retry_after = response.get("Retry-After", "")
    if retry_after.isdigit():
        return Refusal(code, retry_after=int(retry_after))
    return Refusal(code)


class JsonRefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _under(request, VENDOR_API_ROOT):
            return _vendor_json(request, response)
        if (
            response.status_code < 400
            or not _under(request, API_ROOT)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        refusal = _refusal_of(response)
        with translation.override(translation.get_language_from_request(request)):
            body = refusal.body()
        # The refusal's own status, but for one the protocol has no code of (a 400 or 403
        # of Django's) the original status is kept.
        status = refusal.status if response.status_code in CODE_OF_STATUS else response.status_code
        answer = JsonResponse(body, status=status)
        for header in KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer


class _ProtocolHandler(BaseHandler):
    """Django's handler over settings.PROTOCOL_MIDDLEWARE rather than settings.MIDDLEWARE.
    Django's own assembly reads settings.MIDDLEWARE itself; naming the protocol's list there
    for a moment would hand it to any handler another thread builds meanwhile (a test client)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(settings.PROTOCOL_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class ProtocolStackMiddleware:
    """Hands a call under /api/app/ to a handler of its own, whose middleware are
    settings.PROTOCOL_MIDDLEWARE; every other request goes on through the rest of
    settings.MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.protocol = _ProtocolHandler()
        self.protocol.load_middleware()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _under(request, API_ROOT):
            return self.protocol.get_response(request)  # type: ignore[return-value]
        return self.get_response(request)


def _under(request: HttpRequest, root: str) -> bool:
    return request.path_info == root or request.path_info.startswith(root + "/")


def _vendor_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The vendor API's shape `{code, message, fields}` for what Django or the server answered
    as a page (a wrong method, a body too large, a server error)."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    refusal = _refusal_of(response)
    with translation.override(translation.get_language_from_request(request)):
        message = str(refusal.message)
    status = refusal.status if response.status_code in CODE_OF_STATUS else response.status_code
    code = int(refusal.code) if response.status_code in CODE_OF_STATUS else status * 10
    answer = JsonResponse({"code": code, "message": message, "fields": {}}, status=status)
    for header in KEPT_HEADERS:
        if header in response:
            answer[header] = response[header]
    return answer


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any path under /api/app/ the protocol does not serve; without it the cabinet's URLs would
    answer (a login redirect, or the CSRF page for a POST)."""
    raise Http404


@csrf_exempt
def vendor_api_not_found(request: HttpRequest) -> HttpResponse:
    """Any path under /api/v1/ the vendor API does not serve, answered in its own shape."""
    return JsonResponse(
        {"code": 4040, "message": _("No such call in the vendor API."), "fields": {}}, status=404
    )
