"""The vendor REST API at /api/v1/: its NinjaAPI, the key check, the error shapes and the
role checks every operation makes.

Adding a group of calls (a module of this app, e.g. `vendor_releases.py`):

    from ninja import Router
    from licentia.api.vendor import ERRORS, requires, requires_role
    from licentia.core.roles import FULL_ACCESS

    router = Router(tags=["releases"])

    @router.post("/", response={201: ReleaseOut, **ERRORS})
    @requires("add", "releases.release")     # what the key's role may do in the cabinet
    def release_create(request, payload: ReleaseIn): ...

    @router.delete("/{id}", response={204: None, **ERRORS})
    @requires_role(FULL_ACCESS)              # or: only these cabinet roles
    def release_delete(request, id: int): ...

and one line in `licentia/api/vendor_v1.py`: `vendor_api.add_router("/releases", router)`.
Every call needs a key (`Authorization: Bearer <id>.<secret>`); `requires`/`requires_role`
answer 403 to a role that may not; `api_actor_of(request)` is the audit's actor for writes."""

import functools
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import HttpBearer
from pydantic import BaseModel, BeforeValidator, Field

from licentia.api.field_errors import field_error_text
from licentia.api.models import ApiKey
from licentia.api.services import api_actor, api_key_authenticate
from licentia.core.audit import Actor
from licentia.core.network import client_ip
from licentia.core.outage import DATABASE_UNREACHABLE, RETRY_AFTER_SECONDS
from licentia.core.ratelimit import RateLimited, rate_limit_hit
from licentia.core.roles import allowed_actions
from licentia.core.selectors import vendor_settings_get
from licentia.licensing.refusals import Refusal

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4010
FORBIDDEN = 4030
NOT_FOUND = 4040
CONFLICT = 4090
INVALID = 4220
RATE_LIMITED = 4290
DATABASE_UNAVAILABLE = 5030


def _iso_only(value: Any) -> Any:
    """A moment is an ISO 8601 text: pydantic would take a number as seconds since 1970."""
    if not isinstance(value, str | datetime) or (
        isinstance(value, str) and not re.match(r"^\d{4}-\d\d-\d\d", value)
    ):
        raise ValueError("Enter a date and time as YYYY-MM-DDTHH:MM:SS+03:00.")
    return value


# A moment given to the API.
Moment = Annotated[datetime, BeforeValidator(_iso_only)]


class ErrorOut(BaseModel):
    """Every refusal of the vendor API."""

    code: int = Field(
        description="Код отказа: 4010 нет или неверный ключ, 4030 роли ключа нельзя, 4040 не "
        "найдено, 4090 отказ по данным, 4220 неверный запрос, 4290 слишком часто, 2xxx коды "
        "протокола. / Refusal code: 4010 missing or wrong key, 4030 the key's role may not, "
        "4040 not found, 4090 refused by the data, 4220 invalid request, 4290 too many calls, "
        "2xxx the protocol's codes."
    )
    message: str = Field(description="Текст отказа. / What went wrong, in words.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Ошибки по полям запроса. / Errors by the request's field.",
    )


ERROR_STATUSES = frozenset({401, 403, 404, 409, 422, 429, 503})
# The refusals every operation may answer, for its `response=`.
ERRORS: dict[int | frozenset[int], Any] = {ERROR_STATUSES: ErrorOut}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: Any,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = str(message)
        self.fields = fields or {}
        self.retry_after = retry_after
        super().__init__(self.message)


def not_found(message: Any = None) -> ApiError:
    return ApiError(404, NOT_FOUND, message or _("Not found."))


class ApiKeyBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = api_key_authenticate(token)
        if key is None:
            return None
        rate_limit_hit(
            scope="vendor_api",
            caller=f"key:{key.pk}",
            limit=vendor_settings_get().api_calls_per_minute,
            window_seconds=60,
        )
        return key


vendor_api = NinjaAPI(
    title="Licentia vendor API",
    version="1",
    urls_namespace="vendor-v1",
    auth=ApiKeyBearer(),
    description=str(
        gettext_lazy(
            "The vendor's API: clients, keys, sessions, coupons, the audit log, and the calls "
            "1C vendors already make (coupons/generate, trials/new, subscriptions/expiring, "
            "map). Every call needs an API key (Настройки → API-ключи, or `licentia apikey "
            "create`): `Authorization: Bearer <id>.<secret>`. The key's role allows exactly "
            "what it allows in the cabinet. Refusals are JSON `{code, message, fields}`: 401 "
            "missing or wrong key, 403 the role may not, 404, 409, 422 invalid request, 429 "
            "too many calls (wait `Retry-After` seconds)."
        )
    ),
)


def _error_response(request: HttpRequest, error: ApiError) -> HttpResponse:
    body = {"code": error.code, "message": error.message, "fields": error.fields}
    response = vendor_api.create_response(request, body, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@vendor_api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error_response(request, exc)


@vendor_api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = _("A valid API key is required: Authorization: Bearer <id>.<secret>.")
    return _error_response(request, ApiError(401, UNAUTHORIZED, message))


@vendor_api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    message = _("Too many calls with this key: try again later.")
    return _error_response(
        request, ApiError(429, RATE_LIMITED, message, retry_after=exc.retry_after)
    )


@vendor_api.exception_handler(Refusal)
def on_refusal(request: HttpRequest, exc: Refusal) -> HttpResponse:
    fields = exc.extra.get("errors") or {}
    return _error_response(request, ApiError(exc.status, int(exc.code), exc.message, fields))


@vendor_api.exception_handler(RequestValidationError)
def on_invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query")
        ]
        fields.setdefault(".".join(location) or "body", []).append(field_error_text(error))
    return _error_response(request, ApiError(422, INVALID, _("The request is invalid."), fields))


@vendor_api.exception_handler(DjangoValidationError)
def on_invalid_data(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = {name: list(messages) for name, messages in exc.message_dict.items()}
        return _error_response(
            request, ApiError(422, INVALID, _("The request is invalid."), fields)
        )
    return _error_response(request, ApiError(409, CONFLICT, " ".join(exc.messages)))


@vendor_api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error_response(request, not_found())


@vendor_api.exception_handler(ObjectDoesNotExist)
def on_object_missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error_response(request, not_found())


@vendor_api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        fields = {"body": [_("The body is not valid JSON.")]}
        return _error_response(
            request, ApiError(422, INVALID, _("The request is invalid."), fields)
        )
    return _error_response(request, ApiError(exc.status_code, exc.status_code * 10, str(exc)))


def on_database_unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("The database is unreachable: %s", exc, exc_info=exc)
    message = _("The server cannot reach its database now: try again later.")
    return _error_response(
        request,
        ApiError(503, DATABASE_UNAVAILABLE, message, retry_after=RETRY_AFTER_SECONDS),
    )


for _error in DATABASE_UNREACHABLE:
    vendor_api.exception_handler(_error)(on_database_unreachable)


def query_known(request: HttpRequest, filters: type[BaseModel]) -> None:
    """422 for a query parameter the call does not take: a misspelt filter must not silently
    list everything."""
    unknown = sorted(set(request.GET) - set(filters.model_fields))
    if unknown:
        message = _("This call takes no such parameter.")
        raise ApiError(
            422,
            INVALID,
            _("The request is invalid."),
            {name or "(empty)": [message] for name in unknown},
        )


# Role checks.


def request_key(request: HttpRequest) -> ApiKey:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        raise ApiError(401, UNAUTHORIZED, _("A valid API key is required."))
    return key


def api_actor_of(request: HttpRequest) -> Actor:
    """The audit's actor of a write made by this call."""
    return api_actor(request_key(request), ip=client_ip(request))


def key_may(key: ApiKey, action: str, model: str) -> bool:
    """Whether the key's role may `action` (view, add, change, delete) `model` ("app.model")
    in the cabinet."""
    app_label, _dot, name = model.partition(".")
    return action in allowed_actions(key.cabinet_role, app_label, name)


def _forbidden() -> ApiError:
    return ApiError(403, FORBIDDEN, _("The role of this API key does not allow this call."))


def check_permission(request: HttpRequest, action: str, model: str) -> None:
    """403 unless the key's role may `action` `model` in the cabinet."""
    if not key_may(request_key(request), action, model):
        raise _forbidden()


F = TypeVar("F", bound=Callable[..., Any])


def requires(action: str, model: str) -> Callable[[F], F]:
    """Decorates an operation (below the router's decorator): 403 unless the key's role may
    `action` `model` ("clients.client") in the cabinet."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            check_permission(request, action, model)
            return view(request, *args, **kwargs)

        checked.required_permission = (action, model)  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


def requires_role(*cabinet_roles: str) -> Callable[[F], F]:
    """Decorates an operation: 403 unless the key has one of these cabinet roles
    (licentia.core.roles.FULL_ACCESS, ...)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request_key(request).cabinet_role not in cabinet_roles:
                raise _forbidden()
            return view(request, *args, **kwargs)

        checked.required_roles = cabinet_roles  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate
