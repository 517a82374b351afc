"""The protocol a protected application speaks: /api/app/v1/ (DOMAIN.md §2, §4)."""

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestValidationError
from pydantic import BaseModel

from licentia.api import schemas
from licentia.api.field_errors import field_error_text
from licentia.core.models import VendorSettings
from licentia.core.network import client_ip
from licentia.core.outage import DATABASE_UNREACHABLE, RETRY_AFTER_SECONDS
from licentia.core.ratelimit import RateLimited, rate_limit_hit
from licentia.core.selectors import vendor_settings_get
from licentia.core.signing import public_key_pem
from licentia.coupons.models import Door
from licentia.coupons.services import coupon_activate
from licentia.keys.selectors import (
    KeyLicense,
    key_license,
    line_sentence,
    line_status,
    seats_of,
)
from licentia.licensing.certificates import LICENSE_DOMAIN, certificate_issue
from licentia.licensing.refusals import Code, Refusal, invalid
from licentia.licensing.selectors import key_find, key_usage
from licentia.licensing.services.sessions import (
    Granted,
    session_capture,
    session_heartbeat,
    session_release,
)
from licentia.licensing.services.tokens import tokens_consume
from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit, application_actor
from licentia.releases.models import Distribution, ReleaseSettings
from licentia.releases.selectors import (
    Offer,
    counted_link,
    public_url,
    release_settings_get,
    releases_for_key,
)
from licentia.releases.services import subscription_trial_grant
from licentia.statistics.services import metrics_record

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Licentia application protocol",
    version="1",
    urls_namespace="app-v1",
    description=(
        "What a protected application calls: trial registration, license information, "
        "capture / heartbeat / release of seats, token consumption and the public key that "
        "verifies offline certificates. Every refusal is JSON `{code, message}` with the codes "
        "of the domain (2008 no free seat, 2009 unknown key, 2011 expired, 2022, 2026 malformed "
        "key, 2051, 2060 blocked, 2061, 2062 unknown session, 2063 not enough tokens, 4040 no "
        "such call, 4050 wrong method, 4130 body too large, 4220 invalid request with field "
        "errors, 4290 rate limited, 5000 server error, 5030 database unreachable: retry after "
        "`Retry-After` seconds and work offline on the certificate meanwhile)."
    ),
)

REFUSALS: dict[int | frozenset[int], Any] = {
    frozenset({403, 404, 409, 413, 422, 429, 503}): schemas.Refusal
}


def _speak(language: str | None) -> None:
    """Answers, refusals included, in the language the request asks for (else
    Accept-Language, which the locale middleware has applied)."""
    if language:
        translation.activate(language)


def _language_asked(request: HttpRequest) -> str | None:
    """The body's `language`, for an answer given before the body was validated."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    language = body.get("language") if isinstance(body, dict) else None
    return language if language in get_args(schemas.Language) else None


def _refusal_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    response = api.create_response(request, refusal.body(), status=refusal.status)
    if "retry_after" in refusal.extra:
        response["Retry-After"] = str(refusal.extra["retry_after"])
    return response


@api.exception_handler(Refusal)
def on_refusal(request: HttpRequest, exc: Refusal) -> HttpResponse:
    return _refusal_response(request, exc)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return _refusal_response(request, Refusal(Code.RATE_LIMITED, retry_after=exc.retry_after))


RELEASES_PATH = "/api/app/v1/releases"


def _is_releases_call(request: HttpRequest) -> bool:
    """The releases call answers bad input as the service installers know does: 400
    {"error": "..."}."""
    return request.path_info.rstrip("/") == RELEASES_PATH


def _releases_error(request: HttpRequest, message: str) -> HttpResponse:
    return api.create_response(request, {"error": message}, status=400)


@api.exception_handler(RequestValidationError)
def on_invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    _speak(_language_asked(request))
    if _is_releases_call(request):
        described = []
        for error in exc.errors:
            location = [
                str(part) for part in error.get("loc", ()) if part not in ("body", "payload")
            ]
            described.append(f"{'.'.join(location) or 'body'}: {field_error_text(error)}")
        return _releases_error(request, "; ".join(described))
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        errors.setdefault(".".join(location) or "body", []).append(field_error_text(error))
    return _refusal_response(request, invalid(errors))


@api.exception_handler(DjangoValidationError)
def on_invalid_data(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
    return _refusal_response(request, invalid(errors))


def on_database_unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # With the traceback: a deadlock or a cancelled query is an OperationalError too.
    logger.warning("The database is unreachable: %s", exc, exc_info=exc)
    return _refusal_response(
        request, Refusal(Code.DATABASE_UNAVAILABLE, retry_after=RETRY_AFTER_SECONDS)
    )


for _error in DATABASE_UNREACHABLE:
    api.exception_handler(_error)(on_database_unreachable)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises 400 for a body that is not JSON: to the application it is an invalid request.
    if exc.status_code == 400 and _is_releases_call(request):
        return _releases_error(request, _("The body is not valid JSON."))
    if exc.status_code == 400:
        return _refusal_response(request, invalid({"body": [_("The body is not valid JSON.")]}))
    return api.create_response(
        request, {"code": exc.status_code, "message": str(exc)}, status=exc.status_code
    )


def _products(license_: KeyLicense, moment: datetime) -> list[dict[str, Any]]:
    products = []
    for line in license_.lines:
        products.append(
            {
                "id": line.product_id,
                "name": line.product.name,
                "trial": line.is_trial,
                "state": line_status(line, at=moment),
                "status": line_sentence(line, at=moment),
                "starts_at": line.starts_at,
                "expires_at": line.expires_at,
                "multiplier": line.multiplier,
                "features": [
                    {
                        "id": feature_line.feature_id,
                        "name": feature_line.feature.name,
                        "type": feature_line.license_type,
                        "count": seats_of(line, feature_line),
                    }
                    for feature_line in line.product.lines.all()
                ],
            }
        )
    return products


def _license_body(
    license_: KeyLicense,
    *,
    moment: datetime,
    vendor: VendorSettings,
    fingerprint: dict[str, str] | None,
    nonce: str | None,
) -> dict[str, Any]:
    client = license_.key.client
    return {
        "key": license_.key.number,
        "blocked": license_.key.blocked,
        "client": {
            "company": client.company,
            "contact": client.contact,
            "email": client.email,
            "phone": client.phone,
            "language": client.language,
        },
        "products": _products(license_, moment),
        "summary": [
            {
                "feature_id": row.feature_id,
                "feature_name": row.feature_name,
                "type": row.license_type,
                "total": row.total,
                "occupied": row.occupied,
                "free": row.free,
            }
            for row in key_usage(license_, moment)
        ],
        "certificate": certificate_issue(
            license_, moment=moment, vendor=vendor, fingerprint=fingerprint, nonce=nonce
        ),
    }


@api.post(
    "/trial",
    response={201: schemas.TrialOut, 200: schemas.TrialOut, **REFUSALS},
    summary="Register a trial through the questionnaire",
)
def trial(request: HttpRequest, payload: schemas.TrialIn) -> Status:
    _speak(payload.language)
    ip = client_ip(request)
    rate_limit_hit(
        scope="trial",
        caller=ip or "unknown",
        limit=settings.LICENTIA_TRIAL_RATE_LIMIT,
        window_seconds=3600,
    )
    moment = timezone.now()
    outcome = trial_register(
        product_id=payload.product_id,
        questionnaire={
            "company": payload.company,
            "contact": payload.contact,
            "email": payload.email,
            "phone": payload.phone,
            "inn": payload.inn,
        },
        unit=Unit(user=payload.user, host=payload.host, database=payload.database),
        fingerprint=payload.fingerprint,
        app_version=payload.app_version,
        language=payload.language or translation.get_language() or "ru",
        ip=ip,
        at=moment,
    )
    license_ = key_license(outcome.key, moment)
    body = _license_body(
        license_,
        moment=moment,
        vendor=vendor_settings_get(),
        fingerprint=payload.fingerprint,
        nonce=payload.nonce,
    )
    granted = outcome.line is not None
    return Status(201 if granted else 200, {**body, "trial_granted": granted})


@api.post("/license", response={200: schemas.LicenseOut, **REFUSALS}, summary="License information")
def license_info(request: HttpRequest, payload: schemas.LicenseIn) -> dict[str, Any]:
    _speak(payload.language)
    moment = timezone.now()
    key = key_find(payload.key)
    return _license_body(
        key_license(key, moment),
        moment=moment,
        vendor=vendor_settings_get(),
        fingerprint=payload.fingerprint,
        nonce=payload.nonce,
    )


def _session_body(granted: Granted, nonce: str | None) -> dict[str, Any]:
    session = granted.session
    return {
        "session_id": session.public_id,
        "type": session.license_type,
        "binding": session.binding,
        "lease_seconds": granted.vendor.lease_seconds,
        "lease_expires_at": session.lease_expires_at,
        "certificate": certificate_issue(
            granted.license,
            moment=session.last_heartbeat_at,
            vendor=granted.vendor,
            fingerprint=session.fingerprint or None,
            nonce=nonce,
        ),
    }


@api.post("/capture", response={200: schemas.CaptureOut, **REFUSALS}, summary="Capture a seat")
def capture(request: HttpRequest, payload: schemas.CaptureIn) -> dict[str, Any]:
    _speak(payload.language)
    granted = session_capture(
        key_number=payload.key,
        feature_id=payload.feature_id,
        unit=Unit(
            user=payload.user,
            host=payload.host,
            database=payload.database,
            process_id=payload.process_id,
        ),
        fingerprint=payload.fingerprint,
        app_version=payload.app_version,
        ip=client_ip(request),
    )
    return _session_body(granted, payload.nonce)


@api.post(
    "/heartbeat", response={200: schemas.HeartbeatOut, **REFUSALS}, summary="Extend the lease"
)
def heartbeat(request: HttpRequest, payload: schemas.HeartbeatIn) -> dict[str, Any]:
    _speak(payload.language)
    granted = session_heartbeat(session_id=payload.session_id)
    return _session_body(granted, payload.nonce)


@api.post("/release", response={200: schemas.ReleaseOut, **REFUSALS}, summary="Release a seat")
def release(request: HttpRequest, payload: schemas.ReleaseIn) -> dict[str, Any]:
    _speak(payload.language)
    released = session_release(session_id=payload.session_id)
    return {
        "session_id": payload.session_id,
        "released_at": released["released_at"],
        "ended_at": released["ended_at"],
        "bound": released["ended_at"] is None,
    }


Route = Callable[[HttpRequest, Any], dict[str, Any]]
# The calls a protected application makes most, with their routes' schemas and functions.
SHORTCUTS: dict[str, tuple[type[BaseModel], type[BaseModel], Route]] = {
    "/api/app/v1/capture": (schemas.CaptureIn, schemas.CaptureOut, capture),
    "/api/app/v1/heartbeat": (schemas.HeartbeatIn, schemas.HeartbeatOut, heartbeat),
    "/api/app/v1/release": (schemas.ReleaseIn, schemas.ReleaseOut, release),
}


class ShortcutMiddleware:
    """Answers SHORTCUTS by calling their routes' functions as django-ninja would, with the
    same schemas, renderer and exception handlers, but without the URL resolver and ninja's
    work per call: a seventh of a heartbeat's CPU time (bench/RESULTS.md, "The protocol's own
    middleware"). A body that does not validate goes on to its route, which answers the field
    errors. The last of settings.PROTOCOL_MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        shortcut = SHORTCUTS.get(request.path_info) if request.method == "POST" else None
        if shortcut is None:
            return self.get_response(request)
        given, answered, route = shortcut
        try:
            payload = given.model_validate(json.loads(request.body))
        except ValueError:  # not JSON, or pydantic's field errors
            return self.get_response(request)
        try:
            answer = answered.model_validate(route(request, payload))
        except Exception as exc:  # ninja's exception handlers answer it, as on the route
            return api.on_exception(request, exc)
        return api.create_response(request, answer.model_dump(), status=200)


@api.post(
    "/tokens/consume", response={200: schemas.TokensOut, **REFUSALS}, summary="Consume tokens"
)
def tokens(request: HttpRequest, payload: schemas.TokensIn) -> dict[str, Any]:
    _speak(payload.language)
    balance = tokens_consume(
        key_number=payload.key,
        feature_id=payload.feature_id,
        amount=payload.amount,
        comment=payload.comment,
        idempotency_key=payload.idempotency_key,
    )
    return {"balance": balance}


@api.post(
    "/metrics",
    response={200: schemas.MetricsOut, **REFUSALS},
    summary="Send metrics observed by the application",
    description=(
        "A batch of up to 1,000 observations `{name, value, count, at}` of a key (and of a "
        "session's feature when `session` names one of the key's sessions), e.g. "
        "`platform_version`, `configuration`, `function` with a count. Observations under names "
        "the vendor does not accept are ignored and counted. Refusals: 2009, 2026, 2060 for the "
        "key, 4220."
    ),
)
def metrics(request: HttpRequest, payload: schemas.MetricsIn) -> dict[str, Any]:
    _speak(payload.language)
    key = key_find(payload.key)
    if key.blocked:
        raise Refusal(Code.KEY_BLOCKED)
    moment = timezone.now()
    accepted, ignored = metrics_record(
        key_id=key.pk,
        session_id=payload.session,
        observations=[
            {"name": item.name, "value": str(item.value), "count": item.count, "at": item.at}
            for item in payload.metrics
        ],
        moment=moment,
    )
    return {"accepted": accepted, "ignored": ignored}


@api.get("/public-key", response=schemas.PublicKeyOut, summary="The vendor's public key")
def public_key(request: HttpRequest) -> dict[str, Any]:
    current = vendor_settings_get()
    return {
        "algorithm": "Ed25519",
        "public_key": current.signing_public_key,
        "pem": public_key_pem(current.signing_public_key),
        "certificate_prefix": LICENSE_DOMAIN.decode(),
    }


@api.post(
    "/coupon",
    response={200: schemas.CouponOut, **REFUSALS},
    summary="Activate a coupon on a key",
    description=(
        "Answers as POST license does, with the key's license after the activation and a fresh "
        "certificate. Refusals: 2040 unknown coupon, 2041 already activated (a reusable one: by "
        "this client), 2057 coupon blocked, 2037 an upgrade coupon of another key, 2009, 2026, "
        "2060 for the key, 4220."
    ),
)
def coupon(request: HttpRequest, payload: schemas.CouponIn) -> dict[str, Any]:
    _speak(payload.language)
    ip = client_ip(request)
    activation = coupon_activate(
        key_number=payload.key,
        code=payload.coupon,
        door=Door.APPLICATION,
        actor=application_actor(Unit(), ip),
    )
    body = _license_body(
        key_license(activation.key, activation.activated_at),
        moment=activation.activated_at,
        vendor=vendor_settings_get(),
        fingerprint=payload.fingerprint,
        nonce=payload.nonce,
    )
    return {
        **body,
        "coupon": activation.coupon.code,
        "coupon_kind": activation.coupon.batch.kind,
        "activated_at": activation.activated_at,
    }


def _module(offer: Offer, *, counted: bool, current: ReleaseSettings) -> dict[str, Any]:
    release = offer.release
    distribution = release.distribution
    files = [
        {
            "name": file.name,
            "size": file.size,
            "url": (
                counted_link(file, base_url=settings.BASE_URL)
                if counted
                else public_url(file.url, current)
            ),
            "md5": file.md5,
        }
        for file in release.files.all()
    ]
    linked = [product.pk for product in distribution.linked_products.all()]
    return {
        "release_id": release.pk,
        "uniqid": distribution.identifier,
        "version": release.version,
        "developer": distribution.developer,
        "min_1c_version": release.min_platform_version,
        "lic_product_id": distribution.trial_product_id or (linked[0] if linked else 0),
        "lic_feature_id": distribution.feature_id or 0,
        "name": distribution.name,
        "description": distribution.description,
        "promo_link": distribution.documentation_url,
        "changelog": "\n\n".join(
            f"{item.version}:\n{item.whats_new}".rstrip() for item in offer.changelog
        ),
        "size": sum(file["size"] for file in files),
        "download_link": files[0]["url"] if files else "",
        "files": files,
    }


@api.post(
    "/releases",
    response={200: schemas.ReleasesOut, 400: schemas.ReleasesError, **REFUSALS},
    summary="Releases this key may install",
    description=(
        "What an installer or auto-update asks: the releases newer than INSTALLED_VERSION that "
        "the key may have, newest first, of the distribution TYPE (empty: of every "
        "distribution; unknown: none). A key that never had the distribution's feature gets "
        "its subscription trial on the first call. Bad input: 400 `{error}`; the key's "
        "refusals as elsewhere (2009, 2026, 2060)."
    ),
)
def releases(request: HttpRequest, payload: schemas.ReleasesIn) -> dict[str, Any]:
    ip = client_ip(request)
    moment = timezone.now()
    key = key_find(payload.KEY)
    if key.blocked:
        raise Refusal(Code.KEY_BLOCKED)
    if payload.TYPE:
        distribution = (
            Distribution.objects.filter(identifier=payload.TYPE, published=True)
            .prefetch_related("linked_products")
            .first()
        )
        if distribution is not None:
            subscription_trial_grant(
                distribution=distribution,
                key=key,
                lines=key_license(key, moment).lines,
                actor=application_actor(Unit(), ip),
                at=moment,
            )
    with translation.override(key.client.language or settings.LANGUAGE_CODE):
        offers = releases_for_key(
            key=key,
            distribution_identifier=payload.TYPE,
            installed=payload.INSTALLED_VERSION,
            configuration=payload.CONF,
            configuration_version=payload.CONF_VERSION,
            show_untested=payload.SHOW_UNTESTED == "Y",
            ip=ip,
            moment=moment,
        )
        current = release_settings_get()
        counted = payload.COUNT_DOWNLOADS == "Y"
        modules = [_module(offer, counted=counted, current=current) for offer in offers]
    return {"modules": modules, "result": ""}
