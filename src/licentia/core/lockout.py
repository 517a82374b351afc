"""Sign-in lockout, by django-axes: after settings.AXES_FAILURE_LIMIT failed sign-ins for one
user name, or from one address (core.network.client_ip), signing in is refused for
settings.AXES_COOLOFF_TIME, and a manager with full access can unlock it in the cabinet.

Axes watches django.contrib.auth: every way in that checks a secret must go through
`authenticate(request=..., **credentials)` (the cabinet's login does). The client cabinet's
sign-in and the vendor API's keys, when they come, authenticate there too and are locked out
alike; a credential without a user name is counted by its address."""

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from licentia.core.audit import Actor, audit_record
from licentia.core.models import ActorKind, User


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """User names are told apart regardless of case, at sign-in as here."""
    return str((credentials or {}).get("username") or "").strip().lower()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any]
) -> HttpResponse:
    """The sign-in page again, saying why it refuses (429)."""
    messages.error(
        request,
        _(
            "Too many failed sign-ins for this user or from this address: signing in is "
            "locked for a while. A manager with full access can unlock it."
        ),
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "app_path": request.get_full_path(),
        # The theme's own form, so that the page looks as the sign-in page does.
        "form": (admin.site.login_form or AuthenticationForm)(
            request, initial={"username": (credentials or {}).get("username", "")}
        ),
    }
    return TemplateResponse(request, "admin/login.html", context, status=429).render()


def on_locked_out(
    sender: Any, request: HttpRequest, username: str, ip_address: str, **kwargs: Any
) -> None:
    # Axes says so again at every refused try while the lock lasts; the log keeps the first.
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    with transaction.atomic():
        audit_record(
            actor=Actor(kind=ActorKind.SYSTEM, label="sign-in lockout", ip=ip_address or None),
            action="login.locked_out",
            instance=User.objects.filter(username__iexact=username).first() if username else None,
            after={"username": username, "ip": ip_address},
        )


@transaction.atomic
def login_unlock(*, attempt: AccessAttempt, actor: Actor) -> int:
    """Lifts the lock of the attempt's user name and of its address; how many were lifted."""
    lifted = AccessAttempt.objects.filter(
        Q(username=attempt.username) | Q(ip_address=attempt.ip_address)
    )
    rows = [{"username": row.username, "ip": row.ip_address} for row in lifted]
    lifted.delete()
    audit_record(actor=actor, action="login.unlock", after={"attempts": rows})
    return len(rows)
