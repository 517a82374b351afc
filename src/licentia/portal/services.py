"""The client cabinet's changes: sign-in links and sessions, the client's own resets, coupon
activation and settings. Tokens leave the server once (in the mail, the link or the cookie) and
are kept only as SHA-256 hashes, compared in constant time."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.clients.models import Client
from licentia.clients.services import client_update
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record
from licentia.core.models import ActorKind
from licentia.core.normalize import normalize_email
from licentia.core.ratelimit import rate_limit_hit
from licentia.core.selectors import vendor_settings_get
from licentia.coupons.models import Activation, Door
from licentia.coupons.services import coupon_activate
from licentia.keys.models import LicenseKey
from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.sessions import session_reset
from licentia.notifications.services import notify_client_sign_in
from licentia.portal.models import PortalSession, SignInAddress, SignInLink
from licentia.portal.selectors import (
    RESET_WINDOW,
    client_resets_used,
    client_sign_in_addresses,
)

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=14)
# Sign-in requests per address or per typed key in a quarter of an hour.
SIGN_IN_WINDOW_SECONDS = 900
SIGN_IN_PER_IP = 10
SIGN_IN_PER_KEY = 5
LINKS_PER_IP = 20
MAX_EXTRA_ADDRESSES = 20
# A session's last visit is written at most this often.
SEEN_EVERY = timedelta(minutes=1)


class SignInRefused(Exception):
    """The link is unknown, used, expired, or its address no longer belongs to the client."""


class ResetLimitReached(Exception):
    """The key's self-service resets in the last 30 days are used up."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_actor(*, client: Client, email: str, ip: str | None) -> Actor:
    """A client user as the audit names it: the address it signed in with, and its company."""
    return Actor(kind=ActorKind.CLIENT, label=f"{email} ({client.company})"[:200], ip=ip)


def _link_url(token: str) -> str:
    return settings.BASE_URL + reverse("portal:link", args=[token])


def sign_in_link_issue(*, client: Client, email: str, actor: Actor) -> str:
    """A new one-time link for the address (which must be one of the client's), recorded in
    the audit; returns the link's full address. The caller holds the transaction when it
    mails the link in it."""
    address = normalize_email(email)
    if address not in client_sign_in_addresses(client):
        raise ValidationError(
            {"email": [_("This address may not sign in to the client's cabinet.")]}
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = SignInLink.objects.create(
            client=client,
            email=address,
            token_hash=token_hash(token),
            issued_by=actor.label[:200],
            expires_at=timezone.now() + LINK_LIFETIME,
        )
        audit_record(
            actor=actor,
            action="portal.link_issue",
            instance=client,
            after={"email": address, "link": link.pk, "expires_at": link.expires_at},
        )
    return _link_url(token)


def sign_in_link_mail(*, client: Client, email: str, actor: Actor, key: LicenseKey | None) -> str:
    """Issues a link and mails it to the address, in one transaction."""
    with transaction.atomic():
        url = sign_in_link_issue(client=client, email=email, actor=actor)
        notify_client_sign_in(
            client=client,
            key=key,
            email=normalize_email(email),
            link=url,
            valid_minutes=int(LINK_LIFETIME.total_seconds() // 60),
        )
    return url


def sign_in_request(*, key_number: str, email: str, ip: str | None) -> None:
    """What the sign-in form does: mails a link when the key is known and the address is one
    of its client's, else nothing; the caller answers the same either way. Counted per IP and
    per typed key (RateLimited past the limits)."""
    rate_limit_hit(
        scope="portal_signin_ip",
        caller=ip or "-",
        limit=SIGN_IN_PER_IP,
        window_seconds=SIGN_IN_WINDOW_SECONDS,
    )
    number = keycodes.key_number(key_number) or key_number.strip().upper()[:64]
    rate_limit_hit(
        scope="portal_signin_key",
        caller=hashlib.sha256(number.encode()).hexdigest(),
        limit=SIGN_IN_PER_KEY,
        window_seconds=SIGN_IN_WINDOW_SECONDS,
    )
    try:
        address = normalize_email(email)
    except ValidationError:
        return
    key = LicenseKey.objects.select_related("client").filter(number=number).first()
    if key is None or not address:
        return
    client = key.client
    if address not in client_sign_in_addresses(client):
        return
    sign_in_link_mail(
        client=client,
        email=address,
        actor=client_actor(client=client, email=address, ip=ip),
        key=key,
    )


def _found(rows: list, token: str) -> object | None:
    digest = token_hash(token)
    for row in rows:
        if hmac.compare_digest(row.token_hash, digest):
            return row
    return None


@dataclass(frozen=True)
class SignedIn:
    session: PortalSession
    token: str


def sign_in_link_use(
    *, token: str, ip: str | None, user_agent: str = "", at: datetime | None = None
) -> SignedIn:
    """Opens a session for the link's address, once: a used, expired or unknown link, or one
    whose address no longer belongs to the client, is refused. Counted per IP."""
    rate_limit_hit(
        scope="portal_link_ip",
        caller=ip or "-",
        limit=LINKS_PER_IP,
        window_seconds=SIGN_IN_WINDOW_SECONDS,
    )
    moment = at or timezone.now()
    with transaction.atomic():
        rows = list(
            SignInLink.objects.select_for_update()
            .select_related("client")
            .filter(token_hash=token_hash(token[:200]))
        )
        link = _found(rows, token[:200])
        if not isinstance(link, SignInLink):
            raise SignInRefused
        if link.used_at is not None or link.expires_at <= moment:
            raise SignInRefused
        client = link.client
        if link.email not in client_sign_in_addresses(client):
            raise SignInRefused
        link.used_at = moment
        link.save(update_fields=["used_at"])
        session_token = secrets.token_urlsafe(32)
        session = PortalSession.objects.create(
            client=client,
            email=link.email,
            token_hash=token_hash(session_token),
            created_at=moment,
            expires_at=moment + SESSION_LIFETIME,
            last_seen_at=moment,
            ip=ip,
            user_agent=user_agent[:200],
        )
        audit_record(
            actor=client_actor(client=client, email=link.email, ip=ip),
            action="portal.sign_in",
            instance=client,
            after={"email": link.email, "session": session.pk, "link": link.pk},
        )
    return SignedIn(session=session, token=session_token)


def portal_session_find(token: str, *, at: datetime | None = None) -> PortalSession | None:
    """The live session the cookie names, or None; notes the visit at most once a minute."""
    if not token:
        return None
    moment = at or timezone.now()
    rows = list(
        PortalSession.objects.select_related("client").filter(
            token_hash=token_hash(token[:200]), ended_at__isnull=True, expires_at__gt=moment
        )
    )
    session = _found(rows, token[:200])
    if not isinstance(session, PortalSession):
        return None
    if moment - session.last_seen_at >= SEEN_EVERY:
        PortalSession.objects.filter(pk=session.pk).update(last_seen_at=moment)
        session.last_seen_at = moment
    return session


def portal_session_end(*, session: PortalSession, actor: Actor) -> None:
    with transaction.atomic():
        ended = PortalSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if ended:
            audit_record(
                actor=actor,
                action="portal.sign_out",
                instance=session.client,
                after={"email": session.email, "session": session.pk},
            )


def portal_sessions_end_all(*, client: Client, actor: Actor) -> int:
    """Signs every browser of the client out (this one too)."""
    with transaction.atomic():
        ended = PortalSession.objects.filter(client=client, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="portal.sign_out_everywhere",
            instance=client,
            after={"sessions": ended},
        )
    return ended


def seat_reset(*, client: Client, session: Session, actor: Actor) -> Session:
    """Frees a seat of one of the client's keys (ends the session or the binding) within the
    vendor's limit of resets per key in any 30 days, counted under a lock on the key."""
    if session.key.client_id != client.pk:
        raise ValueError("the session is not of this client")
    with transaction.atomic():
        # LICENTIA_RESET_LOCK exists for the test that shows the race without the lock.
        if getattr(settings, "LICENTIA_RESET_LOCK", True):
            LicenseKey.objects.select_for_update().filter(pk=session.key_id).first()
        limit = vendor_settings_get().client_resets_per_30_days
        used = client_resets_used(key_id=session.key_id, since=timezone.now() - RESET_WINDOW)
        if used >= limit:
            raise ResetLimitReached
        return session_reset(session=session, actor=actor, reason=EndReason.RESET_BY_CLIENT)


def client_coupon_activate(
    *, client: Client, key: LicenseKey, code: str, actor: Actor
) -> Activation:
    """The same activation as every door's, through the client cabinet's."""
    if key.client_id != client.pk:
        raise ValueError("the key is not of this client")
    return coupon_activate(key_number=key.number, code=code, door=Door.CLIENT_CABINET, actor=actor)


def client_settings_update(
    *, client: Client, actor: Actor, language: str, alert_email: str
) -> Client:
    """The mail's language and the alert e-mail, as the client sets them (audited)."""
    return client_update(client=client, actor=actor, language=language, alert_email=alert_email)


def sign_in_address_add(*, client: Client, email: str, actor: Actor) -> SignInAddress:
    try:
        address = normalize_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    if not address:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]})
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        if address in client_sign_in_addresses(client):
            raise ValidationError({"email": [_("This address may sign in already.")]})
        if SignInAddress.objects.filter(client=client).count() >= MAX_EXTRA_ADDRESSES:
            raise ValidationError(
                {"email": [_("At most %(count)d addresses.") % {"count": MAX_EXTRA_ADDRESSES}]}
            )
        added = SignInAddress.objects.create(client=client, email=address)
        audit_record(
            actor=actor,
            action="portal.address_add",
            instance=client,
            after={"email": address},
        )
    return added


def sign_in_address_remove(*, address: SignInAddress, actor: Actor) -> None:
    with transaction.atomic():
        deleted, _rows = SignInAddress.objects.filter(pk=address.pk).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="portal.address_remove",
                instance=address.client,
                before={"email": address.email},
            )


def view_as_record(*, client: Client, actor: Actor) -> None:
    """A manager opens the client's cabinet, read-only, for a support call."""
    with transaction.atomic():
        audit_record(actor=actor, action="portal.view_as", instance=client)


def portal_records_prune(*, at: datetime | None = None) -> int:
    """Forgets links a day after they stopped working, and sessions 30 days after they
    ended or ran out; the audit keeps every sign-in."""
    moment = at or timezone.now()
    links, _by_model = SignInLink.objects.filter(expires_at__lt=moment - timedelta(days=1)).delete()
    old = moment - timedelta(days=30)
    sessions, _by_model = PortalSession.objects.filter(
        Q(ended_at__lt=old) | Q(expires_at__lt=old)
    ).delete()
    return links + sessions
