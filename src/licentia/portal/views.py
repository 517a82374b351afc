"""The client cabinet's pages (/my/). Each page parses, calls a selector or a service, renders.
Every object a page names by id is looked up among the signed-in client's own, else 404."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.core.models import User
from licentia.core.network import client_ip
from licentia.core.ratelimit import RateLimited
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import LicenseKey
from licentia.licensing.models import Session
from licentia.licensing.refusals import Refusal
from licentia.portal.forms import (
    AddressForm,
    CouponForm,
    DistributionFilterForm,
    MonitorFilterForm,
    PeriodForm,
    SettingsForm,
    SignInForm,
)
from licentia.portal.models import PortalSession, SignInAddress
from licentia.portal.navigation import tabs
from licentia.portal.selectors import (
    captures_chart,
    client_keys,
    client_portal_sessions,
    key_views,
    license_summary,
    monitor_rows,
    problem_rows,
    refusals_chart,
    resets_left,
)
from licentia.portal.services import (
    SESSION_LIFETIME,
    ResetLimitReached,
    SignInRefused,
    client_actor,
    client_coupon_activate,
    client_settings_update,
    portal_session_end,
    portal_session_find,
    portal_sessions_end_all,
    seat_reset,
    sign_in_address_add,
    sign_in_address_remove,
    sign_in_link_use,
    sign_in_request,
)
from licentia.releases.selectors import (
    client_distributions,
    counted_link,
    public_url,
    release_settings_get,
)

COOKIE_NAME = "licentia_portal"
# The Django session of a manager who opened a client's cabinet read-only.
VIEW_AS_KEY = "portal_view_as"
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Viewer:
    """Who looks at the cabinet: a client user signed in with a link, or a manager viewing
    the client's cabinet read-only."""

    client: Client
    email: str
    read_only: bool
    session: PortalSession | None
    ip: str | None

    def actor(self) -> Actor:
        return client_actor(client=self.client, email=self.email, ip=self.ip)


def _staff_viewer(request: HttpRequest) -> Viewer | None:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not (user.is_active and user.is_staff):
        return None
    client_id = request.session.get(VIEW_AS_KEY)
    if not isinstance(client_id, int) or not user.has_perm("clients.view_client"):
        return None
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return None
    return Viewer(
        client=client,
        email=user.get_username(),
        read_only=True,
        session=None,
        ip=client_ip(request),
    )


def viewer_of(request: HttpRequest) -> Viewer | None:
    staff = _staff_viewer(request)
    if staff is not None:
        return staff
    session = portal_session_find(request.COOKIES.get(COOKIE_NAME, ""))
    if session is None:
        return None
    return Viewer(
        client=session.client,
        email=session.email,
        read_only=False,
        session=session,
        ip=client_ip(request),
    )


PortalView = Callable[..., HttpResponse]


def portal_page(view: PortalView) -> PortalView:
    """The page for a signed-in viewer (others go to the sign-in page); a read-only viewer
    may not change anything (403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        viewer = viewer_of(request)
        if viewer is None:
            return HttpResponseRedirect(reverse("portal:sign_in"))
        if viewer.read_only and request.method not in ("GET", "HEAD"):
            return _render(request, viewer, "portal/read_only.html", {}, status=403)
        response = view(request, viewer, *args, **kwargs)
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


def _render(
    request: HttpRequest,
    viewer: Viewer | None,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    tab: str = "",
) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "tabs": tabs() if viewer is not None else [],
            "active_tab": tab,
            "languages": settings.LANGUAGES,
            **context,
        },
        status=status,
    )


def _own_key(viewer: Viewer, key_id: int | None) -> LicenseKey | None:
    if key_id is None:
        return None
    return get_object_or_404(LicenseKey, pk=key_id, client=viewer.client)


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


# Signing in -------------------------------------------------------------------------------


def sign_in(request: HttpRequest) -> HttpResponse:
    """The key and an e-mail: the same answer whether or not they match."""
    if request.method != "POST" and viewer_of(request) is not None:
        return HttpResponseRedirect(reverse("portal:stats"))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sign_in_request(
                key_number=form.cleaned_data["key"],
                email=form.cleaned_data["email"],
                ip=client_ip(request),
            )
        except RateLimited as limited:
            response = _render(
                request, None, "portal/sign_in.html", {"form": form, "limited": True}, status=429
            )
            response.headers["Retry-After"] = str(limited.retry_after)
            return response
        return _render(request, None, "portal/sign_in_sent.html", {})
    status = 422 if request.method == "POST" else 200
    return _render(request, None, "portal/sign_in.html", {"form": form}, status=status)


def link(request: HttpRequest, token: str) -> HttpResponse:
    """A mailed link asks to confirm (mail scanners follow links), then signs in once."""
    if request.method != "POST":
        return _render(request, None, "portal/link.html", {"token": token})
    try:
        signed_in = sign_in_link_use(
            token=token,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except RateLimited as limited:
        refused = _render(request, None, "portal/link_refused.html", {"limited": True}, status=429)
        refused.headers["Retry-After"] = str(limited.retry_after)
        return refused
    except SignInRefused:
        return _render(request, None, "portal/link_refused.html", {}, status=410)
    response = HttpResponseRedirect(reverse("portal:stats"))
    response.set_cookie(
        COOKIE_NAME,
        signed_in.token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path="/my/",
    )
    if request.session.get(VIEW_AS_KEY) is not None:
        del request.session[VIEW_AS_KEY]
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(reverse("portal:sign_in"))
    if request.session.get(VIEW_AS_KEY) is not None:
        # A manager leaves the client's cabinet for the client's card.
        client_id = request.session.pop(VIEW_AS_KEY)
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[client_id]))
    session = portal_session_find(request.COOKIES.get(COOKIE_NAME, ""))
    if session is not None:
        actor = client_actor(client=session.client, email=session.email, ip=client_ip(request))
        portal_session_end(session=session, actor=actor)
    response.delete_cookie(COOKIE_NAME, path="/my/")
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("portal:sign_in")
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        _set_language_cookie(response, language)
    return response


# Tabs -------------------------------------------------------------------------------------


def _period(request: HttpRequest, viewer: Viewer) -> tuple[PeriodForm, int, LicenseKey | None]:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, DEFAULT_DAYS, None
    key = _own_key(viewer, form.cleaned_data.get("key"))
    return form, form.cleaned_data.get("days") or DEFAULT_DAYS, key


@portal_page
def stats(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form, days, key = _period(request, viewer)
    until = timezone.localdate()
    since = until - timedelta(days=days - 1)
    captures = captures_chart(viewer.client, since=since, until=until, key=key)
    refusals = refusals_chart(viewer.client, since=since, until=until, key=key)
    return _render(
        request,
        viewer,
        "portal/stats.html",
        {
            "form": form,
            "days": days,
            "key": key,
            "keys": list(client_keys(viewer.client)),
            "captures": captures,
            "refusals": refusals,
            "charts": {"captures": captures.as_json(), "refusals": refusals.as_json()},
        },
        tab="stats",
    )


@portal_page
def keys(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _render(
        request, viewer, "portal/keys.html", {"keys": key_views(viewer.client)}, tab="keys"
    )


@portal_page
def summary(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _render(
        request,
        viewer,
        "portal/summary.html",
        {"rows": license_summary(viewer.client)},
        tab="summary",
    )


@portal_page
def problems(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form, days, key = _period(request, viewer)
    since = timezone.localdate() - timedelta(days=days - 1)
    return _render(
        request,
        viewer,
        "portal/problems.html",
        {
            "form": form,
            "days": days,
            "key": key,
            "keys": list(client_keys(viewer.client)),
            "rows": problem_rows(viewer.client, since=since, key=key),
        },
        tab="problems",
    )


@portal_page
def distributions(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form = DistributionFilterForm(request.GET or None)
    kind = query = ""
    if form.is_valid():
        kind, query = form.cleaned_data["kind"], form.cleaned_data["q"].strip().casefold()
    current = release_settings_get()
    entries = []
    for entry in client_distributions(viewer.client):
        distribution = entry.distribution
        if kind and distribution.kind != kind:
            continue
        if query and not any(
            query in text.casefold()
            for text in (distribution.name, distribution.description, distribution.developer)
        ):
            continue
        entries.append(
            {
                "distribution": distribution,
                "releases": [
                    {
                        "release": release,
                        "files": [
                            {
                                "file": file,
                                "url": counted_link(file, base_url=settings.BASE_URL)
                                if not viewer.read_only
                                else public_url(file.url, current),
                            }
                            for file in release.files.order_by("position", "id")
                        ],
                    }
                    for release in entry.releases
                ],
            }
        )
    return _render(
        request,
        viewer,
        "portal/distributions.html",
        {"form": form, "entries": entries},
        tab="distributions",
    )


def _monitor_context(viewer: Viewer, filters: dict[str, Any]) -> dict[str, Any]:
    own_keys = list(client_keys(viewer.client))
    left = resets_left(own_keys)
    rows = monitor_rows(viewer.client, **filters)
    for key in own_keys:
        key.resets_left = left[key.pk]  # type: ignore[attr-defined]
    for row in rows:
        row.resets_left = left.get(row.key_id, 0)  # type: ignore[attr-defined]
    return {
        "rows": rows,
        "filters": filters,
        "keys": own_keys,
        "limit": vendor_settings_get().client_resets_per_30_days,
    }


@portal_page
def monitor(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form = MonitorFilterForm(request.GET)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "key": _own_key(viewer, form.cleaned_data.get("key")),
            "feature_id": form.cleaned_data.get("feature"),
            "license_type": form.cleaned_data.get("type") or "",
        }
    return _render(
        request, viewer, "portal/monitor.html", _monitor_context(viewer, filters), tab="monitor"
    )


@portal_page
def reset(request: HttpRequest, viewer: Viewer, session_id: UUID) -> HttpResponse:
    session = get_object_or_404(
        Session.objects.select_related("key", "feature"),
        public_id=session_id,
        key__client=viewer.client,
    )
    if request.method != "POST":
        return HttpResponseRedirect(reverse("portal:monitor"))
    try:
        seat_reset(client=viewer.client, session=session, actor=viewer.actor())
    except ResetLimitReached:
        error = _(
            "The self-service resets of key %(key)s for 30 days are used up: "
            "contact the vendor to free the seat."
        ) % {"key": session.key.number}
        return _render(
            request,
            viewer,
            "portal/monitor.html",
            {**_monitor_context(viewer, {}), "error": error},
            status=409,
            tab="monitor",
        )
    return HttpResponseRedirect(reverse("portal:monitor") + "?freed=1")


@portal_page
def coupon(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    own_keys = list(client_keys(viewer.client))
    data = request.POST if request.method == "POST" else None
    initial = {"key": own_keys[0].pk} if own_keys else {}
    if data is None and request.GET.get("key"):
        try:
            initial["key"] = _own_key(viewer, int(request.GET["key"])).pk  # type: ignore[union-attr]
        except ValueError:
            raise Http404 from None
    form = CouponForm(data, initial=initial)
    context: dict[str, Any] = {"form": form, "keys": own_keys}
    status = 200
    if data is not None:
        if form.is_valid():
            key = _own_key(viewer, form.cleaned_data["key"])
            assert key is not None
            try:
                activation = client_coupon_activate(
                    client=viewer.client,
                    key=key,
                    code=form.cleaned_data["code"],
                    actor=viewer.actor(),
                )
            except Refusal as refusal:
                context["refusal"] = refusal
                status = 422
            else:
                context["activation"] = activation
                context["form"] = CouponForm(initial={"key": key.pk})
        else:
            status = 422
    return _render(request, viewer, "portal/coupon.html", context, status=status, tab="coupon")


def _settings_context(viewer: Viewer, **extra: Any) -> dict[str, Any]:
    client = viewer.client
    return {
        "form": SettingsForm(
            initial={
                "cabinet_language": translation.get_language(),
                "language": client.language,
                "alert_email": client.alert_email,
            }
        ),
        "address_form": AddressForm(),
        "addresses": list(SignInAddress.objects.filter(client=client)),
        "sessions": client_portal_sessions(client),
        **extra,
    }


@portal_page
def settings_page(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    if request.method != "POST":
        return _render(
            request, viewer, "portal/settings.html", _settings_context(viewer), tab="settings"
        )
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            client_settings_update(
                client=viewer.client,
                actor=viewer.actor(),
                language=form.cleaned_data["language"],
                alert_email=form.cleaned_data["alert_email"] or "",
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                form.add_error(name if name in form.fields else None, messages)
        else:
            response = HttpResponseRedirect(reverse("portal:settings") + "?saved=1")
            _set_language_cookie(response, form.cleaned_data["cabinet_language"])
            return response
    return _render(
        request,
        viewer,
        "portal/settings.html",
        _settings_context(viewer, form=form),
        status=422,
        tab="settings",
    )


@portal_page
def address_add(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("portal:settings"))
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            sign_in_address_add(
                client=viewer.client, email=form.cleaned_data["email"], actor=viewer.actor()
            )
        except ValidationError as error:
            form.add_error("email", error.message_dict.get("email", error.messages))
        else:
            return HttpResponseRedirect(reverse("portal:settings"))
    return _render(
        request,
        viewer,
        "portal/settings.html",
        _settings_context(viewer, address_form=form),
        status=422,
        tab="settings",
    )


@portal_page
def address_remove(request: HttpRequest, viewer: Viewer, address_id: int) -> HttpResponse:
    address = get_object_or_404(SignInAddress, pk=address_id, client=viewer.client)
    if request.method == "POST":
        sign_in_address_remove(address=address, actor=viewer.actor())
    return HttpResponseRedirect(reverse("portal:settings"))


@portal_page
def session_end(request: HttpRequest, viewer: Viewer, session_id: int) -> HttpResponse:
    session = get_object_or_404(
        PortalSession, pk=session_id, client=viewer.client, ended_at__isnull=True
    )
    if request.method == "POST":
        portal_session_end(session=session, actor=viewer.actor())
    return HttpResponseRedirect(reverse("portal:settings"))


@portal_page
def sign_out_everywhere(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("portal:settings"))
    portal_sessions_end_all(client=viewer.client, actor=viewer.actor())
    response = HttpResponseRedirect(reverse("portal:sign_in"))
    response.delete_cookie(COOKIE_NAME, path="/my/")
    return response
