"""Who may have which release (the access rules), and the releases offered to a key."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from ipaddress import ip_address, ip_network
from urllib.parse import urlsplit, urlunsplit

from django.core import signing
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import TrialCounting
from licentia.clients.models import Client
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import key_lines, line_is_live, lines_with_products
from licentia.releases.models import Distribution, Release, ReleaseFile, ReleaseSettings
from licentia.releases.versions import in_range, version_key

DOWNLOAD_SALT = "licentia.releases.download"


def release_settings_get() -> ReleaseSettings:
    found, _created = ReleaseSettings.objects.get_or_create(pk=ReleaseSettings.SINGLETON_PK)
    return found


def prerelease_networks(current: ReleaseSettings) -> list[str]:
    return [line.strip() for line in current.prerelease_networks.splitlines() if line.strip()]


def sees_prereleases(ip: str | None, current: ReleaseSettings) -> bool:
    """Whether the caller's address lies in one of the networks that see pre-releases."""
    if not ip:
        return False
    try:
        address = ip_address(ip)
    except ValueError:
        return False
    for spec in prerelease_networks(current):
        try:
            if address in ip_network(spec, strict=False):
                return True
        except ValueError:
            continue
    return False


def _line_end_day(line: KeyLine, moment: datetime) -> date | None:
    """The last day the line was live; None while it is live (or pending: no day yet)."""
    if line.state == LineState.ACTIVE and line_is_live(line, at=moment):
        return None
    ends = [end for end in (line.expires_at, line.ended_at) if end is not None]
    if not ends and line.is_trial and line.product.trial_counting == TrialCounting.USAGE:
        # A used-up trial counted by days of use: it ended on its last day of use.
        return line.last_used_on or timezone.localdate(line.starts_at)
    if not ends:
        return timezone.localdate(moment)
    return timezone.localdate(min(ends))


@dataclass(frozen=True)
class Holding:
    """What a key's lines say about one distribution at a moment."""

    opens_all: bool  # a live line of a linked product, or a free distribution
    # The last day of the feature's subscription; None: no subscription ever; date.max: live.
    subscribed_until: date | None

    def allows(self, release: Release) -> bool:
        if self.opens_all:
            return True
        return self.subscribed_until is not None and release.released_on <= self.subscribed_until


def key_holding(distribution: Distribution, lines: list[KeyLine], moment: datetime) -> Holding:
    """The access rules of a distribution for a key's lines (with their products):
    - a free (not paid) distribution opens every release to every key;
    - a live line of a linked product opens every release;
    - a line that gives the distribution's feature opens the releases published up to the
      last day it was live (still live: every release); after it ends, newer releases need a
      renewal. A line undone by a coupon deactivation never counted; a pending one not yet."""
    if not distribution.paid:
        return Holding(opens_all=True, subscribed_until=None)
    linked = {product.pk for product in distribution.linked_products.all()}
    counted = [
        line
        for line in lines
        if line.state != LineState.REMOVED_BY_COUPON and line.starts_at <= moment
    ]
    if any(line.product_id in linked and line_is_live(line, at=moment) for line in counted):
        return Holding(opens_all=True, subscribed_until=None)
    until: date | None = None
    if distribution.feature_id is not None:
        for line in counted:
            features = {feature_line.feature_id for feature_line in line.product.lines.all()}
            if distribution.feature_id not in features:
                continue
            end = _line_end_day(line, moment) or date.max
            until = end if until is None else max(until, end)
    return Holding(opens_all=False, subscribed_until=until)


def holds_feature(distribution: Distribution, lines: list[KeyLine]) -> bool:
    """Whether any line ever gave the distribution's feature (undone lines aside)."""
    return any(
        distribution.feature_id
        in {feature_line.feature_id for feature_line in line.product.lines.all()}
        for line in lines
        if line.state != LineState.REMOVED_BY_COUPON
    )


def visible_releases(*, prereleases: bool) -> QuerySet[Release]:
    """Releases of published distributions; pre-releases only when asked."""
    releases = Release.objects.filter(distribution__published=True).select_related("distribution")
    if not prereleases:
        releases = releases.filter(prerelease=False)
    return releases.prefetch_related(
        Prefetch("files", queryset=ReleaseFile.objects.order_by("position", "id")),
        "compatibility",
    )


def newest_first(releases: Iterable[Release]) -> list[Release]:
    return sorted(releases, key=lambda release: version_key(release.version), reverse=True)


def compatible(release: Release, configuration: str, configuration_version: str) -> bool:
    """Whether the release is marked compatible with this configuration at this version."""
    for row in release.compatibility.all():
        if row.configuration.casefold() != configuration.casefold():
            continue
        if not configuration_version:
            return True
        try:
            if in_range(configuration_version, row.min_version, row.max_version):
                return True
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class Offer:
    release: Release
    changelog: list[Release]  # every release after the installed one up to this one, newest first


def releases_for_key(
    *,
    key: LicenseKey,
    distribution_identifier: str,
    installed: str,
    configuration: str,
    configuration_version: str,
    show_untested: bool,
    ip: str | None,
    moment: datetime,
    lines: list[KeyLine] | None = None,
) -> list[Offer]:
    """The releases newer than the installed version that the key may have, newest first: of
    the distribution named (none named: of every distribution). A blocked key has none."""
    if key.blocked:
        return []
    current = release_settings_get()
    releases = visible_releases(prereleases=sees_prereleases(ip, current))
    if distribution_identifier:
        releases = releases.filter(distribution__identifier=distribution_identifier)
    lines = lines_with_products(lines) if lines is not None else key_lines(key)
    installed_key = version_key(installed) if installed else None
    by_distribution: dict[int, list[Release]] = {}
    for release in releases:
        by_distribution.setdefault(release.distribution_id, []).append(release)
    offers: list[Offer] = []
    for group in by_distribution.values():
        distribution = group[0].distribution
        holding = key_holding(distribution, lines, moment)
        newer = [
            release
            for release in newest_first(group)
            if installed_key is None or version_key(release.version) > installed_key
        ]
        for index, release in enumerate(newer):
            if not holding.allows(release):
                continue
            if (
                configuration
                and not show_untested
                and not compatible(release, configuration, configuration_version)
            ):
                continue
            offers.append(Offer(release=release, changelog=newer[index:]))
    offers.sort(
        key=lambda offer: (version_key(offer.release.version), offer.release.released_on),
        reverse=True,
    )
    return offers


@dataclass(frozen=True)
class ClientDistribution:
    distribution: Distribution
    releases: list[Release]  # newest first


def client_distributions(client: Client, *, at: datetime | None = None) -> list[ClientDistribution]:
    """The distributions a client may have through any of its keys that is not blocked, each
    with the releases it may download, newest first: for the client cabinet."""
    moment = at or timezone.now()
    keys = list(client.license_keys.filter(blocked=False))
    lines_of = {key.pk: key_lines(key) for key in keys}
    releases = newest_first(visible_releases(prereleases=False))
    found: dict[int, ClientDistribution] = {}
    for release in releases:
        distribution = release.distribution
        if not any(
            key_holding(distribution, lines_of[key.pk], moment).allows(release) for key in keys
        ):
            continue
        entry = found.setdefault(
            distribution.pk, ClientDistribution(distribution=distribution, releases=[])
        )
        entry.releases.append(release)
    return sorted(
        found.values(), key=lambda entry: (entry.distribution.name, entry.distribution.pk)
    )


def public_url(url: str, current: ReleaseSettings) -> str:
    """The file's link as handed out: the CDN host in place of the origin's, when set."""
    if not current.cdn_host:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, current.cdn_host, parts.path, parts.query, parts.fragment))


def counted_link(file: ReleaseFile, *, base_url: str) -> str:
    """A link through this server that counts the download and sends on to the file."""
    token = signing.dumps(file.pk, salt=DOWNLOAD_SALT, compress=True)
    return base_url + reverse("releases-download", args=[token])


def download_file(token: str) -> ReleaseFile | None:
    """The file a counting link names; None for a forged or broken link."""
    try:
        file_id = signing.loads(token, salt=DOWNLOAD_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(file_id, int):
        return None
    return ReleaseFile.objects.select_related("release").filter(pk=file_id).first()
