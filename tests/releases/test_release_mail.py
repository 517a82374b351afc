"""The new-release mail: after a delay, at most N a day, each client once, cancelled when the
release is withdrawn."""

from datetime import timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import Product
from licentia.keys.models import LicenseKey
from licentia.licensing.models import Session
from licentia.notifications.models import MailKind, Notification
from licentia.releases.models import Distribution, MailState, Release, ReleaseMail
from licentia.releases.services import (
    distribution_visibility_changed,
    release_delete,
    release_mails_write,
    release_settings_update,
)
from tests.releases.conftest import (
    ACTOR,
    LINKED_FEATURE,
    ONE_DAY,
    add_line,
    make_key,
    noon,
    publish,
    today,
)

pytestmark = pytest.mark.django_db


def used(key: LicenseKey, feature_id: int, days_ago: int) -> None:
    """A session of the key on the feature, last seen that many days ago."""
    moment = timezone.now() - timedelta(days=days_ago)
    Session.objects.create(
        key=key,
        feature_id=feature_id,
        license_type="USER",
        binding="floating",
        unit=f"u@{key.pk}",
        started_at=moment,
        last_heartbeat_at=moment,
        lease_expires_at=moment + timedelta(minutes=10),
        ended_at=moment + timedelta(minutes=10),
    )


def user_of(linked_product: Product, *, days_ago: int = 1, **client_fields) -> LicenseKey:
    key = make_key(**client_fields)
    add_line(key, linked_product, starts=today() - 60 * ONE_DAY)
    used(key, LINKED_FEATURE, days_ago)
    return key


def mails() -> list[str]:
    return sorted(
        Notification.objects.filter(kind=MailKind.NEW_RELEASE).values_list("recipient", flat=True)
    )


def test_the_mail_waits_for_the_delay_then_reaches_each_recent_user_once(
    distribution: Distribution, linked_product: Product
) -> None:
    user_of(linked_product, email="a@example.ru", company="ООО А")
    user_of(linked_product, email="b@example.ru", company="ООО Б")
    user_of(linked_product, days_ago=40, email="old@example.ru", company="ООО Старое")
    make_key(email="never@example.ru", company="ООО Никогда")
    published = timezone.now()
    release = publish(distribution, "2.0", today(), whats_new_ru="Новое")

    assert release.mail_due_at == pytest.approx(
        published + timedelta(hours=2), abs=timedelta(seconds=5)
    )
    release_mails_write(at=published + timedelta(minutes=119))
    assert mails() == []
    release_mails_write(at=published + timedelta(minutes=121))
    release_mails_write(at=published + timedelta(minutes=200))
    assert mails() == ["a@example.ru", "b@example.ru"]
    notification = Notification.objects.filter(kind=MailKind.NEW_RELEASE).first()
    assert "Бухгалтерия 2.0" in notification.subject
    assert "Новое" in notification.html
    assert "/releases/download/" in notification.html


def test_at_most_the_daily_limit_goes_out_and_the_rest_waits_for_the_next_day(
    distribution: Distribution, linked_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_daily_limit=2, mail_delay_minutes=0)
    for letter in "abc":
        user_of(linked_product, email=f"{letter}@example.ru", company=f"ООО {letter}")
    start = noon(today())
    release = publish(distribution, "2.0", today())
    Release.objects.filter(pk=release.pk).update(mail_due_at=start)

    first_day = release_mails_write(at=start + timedelta(minutes=5))
    same_day = release_mails_write(at=start + timedelta(hours=5))
    next_day = release_mails_write(at=start + timedelta(days=1))

    assert (first_day, same_day, next_day) == (
        {"planned": 3, "sent": 2},
        {"planned": 0, "sent": 0},
        {"planned": 0, "sent": 1},
    )
    assert ReleaseMail.objects.filter(state=MailState.SENT).count() == 3


def test_withdrawing_before_the_delay_passes_sends_nothing(
    distribution: Distribution, linked_product: Product
) -> None:
    user_of(linked_product, email="a@example.ru")
    published = timezone.now()
    release = publish(distribution, "2.0", today())
    publish(distribution, "2.0", today(), prerelease=True)
    release_mails_write(at=published + timedelta(hours=3))
    assert mails() == []
    assert Release.objects.get(pk=release.pk).mail_due_at is None


def test_withdrawing_after_planning_cancels_the_unsent_mail(
    distribution: Distribution, linked_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_daily_limit=1, mail_delay_minutes=0)
    user_of(linked_product, email="a@example.ru", company="ООО А")
    user_of(linked_product, email="b@example.ru", company="ООО Б")
    release = publish(distribution, "2.0", today())
    moment = timezone.now() + timedelta(minutes=1)
    release_mails_write(at=moment)
    publish(distribution, "2.0", today(), prerelease=True)
    release_mails_write(at=moment + timedelta(days=1))

    assert len(mails()) == 1
    states = sorted(ReleaseMail.objects.filter(release=release).values_list("state", flat=True))
    assert states == [MailState.CANCELLED, MailState.SENT]


def test_publishing_again_after_a_withdrawal_mails_only_those_not_mailed_yet(
    distribution: Distribution, linked_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_daily_limit=1, mail_delay_minutes=0)
    user_of(linked_product, email="a@example.ru", company="ООО А")
    user_of(linked_product, email="b@example.ru", company="ООО Б")
    publish(distribution, "2.0", today())
    moment = timezone.now() + timedelta(minutes=1)
    release_mails_write(at=moment)
    publish(distribution, "2.0", today(), prerelease=True)
    publish(distribution, "2.0", today())
    release_mails_write(at=moment + timedelta(days=1, minutes=1))
    release_mails_write(at=moment + timedelta(days=2, minutes=2))

    assert mails() == ["a@example.ru", "b@example.ru"]


def test_a_deleted_release_takes_its_unsent_mail_with_it(
    distribution: Distribution, linked_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_delay_minutes=0)
    user_of(linked_product, email="a@example.ru")
    release = publish(distribution, "2.0", today())
    release_delete(release=release, actor=ACTOR)
    release_mails_write(at=timezone.now() + timedelta(minutes=1))
    assert mails() == []
    assert not ReleaseMail.objects.exists()


def test_a_client_that_may_not_have_the_release_is_not_mailed(
    distribution: Distribution, subscription_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_delay_minutes=0)
    lapsed = make_key(email="lapsed@example.ru")
    add_line(
        lapsed, subscription_product, starts=today() - 60 * ONE_DAY, ends=today() - 2 * ONE_DAY
    )
    used(lapsed, 70, 3)
    publish(distribution, "2.0", today())
    release_mails_write(at=timezone.now() + timedelta(minutes=1))
    assert mails() == []


def test_a_pre_release_is_never_mailed(distribution: Distribution, linked_product: Product) -> None:
    release_settings_update(actor=ACTOR, mail_delay_minutes=0)
    user_of(linked_product, email="a@example.ru")
    release = publish(distribution, "2.0", today(), prerelease=True)
    release_mails_write(at=timezone.now() + timedelta(minutes=1))
    assert mails() == []
    assert release.mail_due_at is None


def test_unpublishing_the_distribution_cancels_the_unsent_mail_of_its_releases(
    distribution: Distribution, linked_product: Product
) -> None:
    release_settings_update(actor=ACTOR, mail_daily_limit=1, mail_delay_minutes=0)
    user_of(linked_product, email="a@example.ru", company="ООО А")
    user_of(linked_product, email="b@example.ru", company="ООО Б")
    release = publish(distribution, "2.0", today())
    release_mails_write(at=timezone.now() + timedelta(minutes=1))
    distribution.published = False
    distribution.save()
    distribution_visibility_changed(distribution=distribution, was_published=True)
    release_mails_write(at=timezone.now() + timedelta(days=1, minutes=1))

    assert len(mails()) == 1
    assert ReleaseMail.objects.filter(release=release, state=MailState.CANCELLED).count() == 1
