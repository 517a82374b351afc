"""Daily rollups of the raw records (sessions, problems, key lines, coupons, metrics) and the
metrics the applications send. The statistics pages read only these tables, so their cost
follows the number of days, features and products shown, not the number of sessions.

Days are calendar days in the server's time zone (TIME_ZONE). Rollup rows are written by
statistics.services only: each rolled-up day is deleted and written again as a whole, so
rolling a day up twice gives the same rows."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.keys.models import LicenseKey


class Row(models.Model):
    """A row of the statistics tables, shown by its fields."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return " ".join(
            str(getattr(self, field.attname)) for field in self._meta.concrete_fields[1:]
        )


class RollupState(Row):
    """One row: the first day not yet rolled up (empty: nothing rolled up yet, the first run
    backfills from the oldest record)."""

    SINGLETON_PK = 1

    next_day = models.DateField(null=True, blank=True)
    # The month rollups (trial conversions, metric months) came after the daily ones: an
    # installation that rolled days up before they existed has them filled once, in full.
    months_filled = models.BooleanField(default=False)
    # Metric observations up to this id are rolled up.
    metrics_through_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class KeyUsageDay(Row):
    """Sessions started on a day per key, feature and license type, and the distinct units
    among them. The client and distributor are read through the key, so a merge of clients or
    a key moved to another client moves its figures."""

    day = models.DateField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    feature_id = models.PositiveIntegerField()
    license_type = models.CharField(max_length=16)
    sessions = models.PositiveIntegerField()
    units = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "key", "feature_id", "license_type"], name="key_usage_day_unique"
            )
        ]


class FeatureUsageDay(Row):
    """Per day and feature (0: all features together): sessions started, distinct units (a
    unit is a user, host, database or process of one key) with a session started that day,
    and the peak of sessions holding a seat at the same instant during the day."""

    ALL_FEATURES = 0

    day = models.DateField()
    feature_id = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField()
    units = models.PositiveIntegerField()
    peak = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "feature_id"], name="feature_usage_day_unique")
        ]


class UnitMonth(Row):
    """A unit of a key that started a session of a feature in a month (its first day): the
    distinct active users of a month are counted from these."""

    month = models.DateField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    feature_id = models.PositiveIntegerField()
    unit = models.CharField(max_length=600)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "feature_id", "key", "unit"], name="unit_month_unique"
            )
        ]


class FeatureUsersMonth(Row):
    """Distinct active units per feature (0: any feature) and month."""

    month = models.DateField()
    feature_id = models.PositiveIntegerField()
    units = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "feature_id"], name="feature_users_unique")
        ]


class TrialDay(Row):
    """Trials registered on a day per product."""

    day = models.DateField()
    product_id = models.PositiveIntegerField()
    trials = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "product_id"], name="trial_day_unique")
        ]


class ConversionCohort(Row):
    """Trial lines of a month and product, by the days from the trial to the key's first
    purchased line (rounded up; none: no purchase yet). Per feature of the product too: a
    trial line of a product with the feature, and a purchased line of any product with it
    (feature 0: the product itself). The share converted within N days is the trials with
    days <= N over all of them, read from a few rows per month."""

    PRODUCT = 0

    month = models.DateField()
    product_id = models.PositiveIntegerField()
    feature_id = models.PositiveIntegerField()
    days = models.PositiveIntegerField(null=True)
    trials = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="conversion_cohort_month_idx")]


class RefusalDay(Row):
    """Refused captures on a day per feature and code."""

    day = models.DateField()
    feature_id = models.PositiveIntegerField()
    code = models.PositiveIntegerField()
    refusals = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "feature_id", "code"], name="refusal_day_unique")
        ]


class CouponDay(Row):
    """Coupon codes of a batch generated and activated on a day. The kind, the distributor
    and the products are read through the batch."""

    day = models.DateField()
    batch_id = models.PositiveBigIntegerField()
    generated = models.PositiveIntegerField()
    activated = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "batch_id"], name="coupon_day_unique")
        ]


class MetricSettings(models.Model):
    """Which metric names the applications' observations are accepted under (Анализ метрик)."""

    SINGLETON_PK = 1

    accepted_names = models.TextField(
        _("accepted metric names"),
        blank=True,
        default="platform_version\nconfiguration\nfunction",
        help_text=_(
            "One name a line. Observations under other names are ignored and counted below."
        ),
    )

    class Meta:
        verbose_name = _("metric settings")
        verbose_name_plural = _("metric settings")
        # Reading the statistics pages, given with the right to view the app's tables.
        permissions = [("view_statistics", _("Can view statistics"))]

    def __str__(self) -> str:
        return str(_("metric settings"))

    def names(self) -> set[str]:
        return {line.strip() for line in self.accepted_names.splitlines() if line.strip()}


class IgnoredMetric(models.Model):
    """Observations sent under a name that is not accepted: how many and when last."""

    name = models.CharField(_("metric name"), max_length=100, unique=True)
    count = models.PositiveBigIntegerField(_("count"), default=0)
    last_at = models.DateTimeField(_("last time"))

    class Meta:
        verbose_name = _("ignored metric")
        verbose_name_plural = _("ignored metrics")
        ordering = ["-count"]

    def __str__(self) -> str:
        return self.name


class MetricObservation(Row):
    """An observation an application sent: a name, a value (text) and how many times it was
    seen (count), at a moment, for a key and, when a session was named, its feature."""

    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    feature_id = models.PositiveIntegerField(null=True)
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=300)
    count = models.PositiveIntegerField(default=1)
    at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["at"], name="metric_observation_at_idx")]


class MetricDay(Row):
    """Observations of a day per key, feature, name and value, with the platform version and
    configuration the key last reported by the end of that day."""

    day = models.DateField()
    month = models.DateField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    feature_id = models.PositiveIntegerField(null=True)
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=300)
    count = models.PositiveBigIntegerField()
    platform_version = models.CharField(max_length=300, blank=True, db_default="")
    configuration = models.CharField(max_length=300, blank=True, db_default="")

    class Meta:
        indexes = [models.Index(fields=["day"], name="metric_day_idx")]


class MetricMonth(Row):
    """The daily metric rollup summed over each month: what the pivot reads for the months
    its period covers whole, so that a year is read from a twelfth of the daily rows a key
    that reports every day leaves."""

    month = models.DateField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    feature_id = models.PositiveIntegerField(null=True)
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=300)
    count = models.PositiveBigIntegerField()
    platform_version = models.CharField(max_length=300, blank=True, db_default="")
    configuration = models.CharField(max_length=300, blank=True, db_default="")

    class Meta:
        indexes = [models.Index(fields=["month"], name="metric_month_idx")]


class MetricKeyMonth(Row):
    """The monthly metric rollup without the metric, its value and the feature: each key's
    observations of a month per platform version and configuration. The pivot reads it when
    neither its rows, its columns nor its filters are one of those three, a row or a few per
    key and month."""

    month = models.DateField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveBigIntegerField()
    platform_version = models.CharField(max_length=300, blank=True, db_default="")
    configuration = models.CharField(max_length=300, blank=True, db_default="")

    class Meta:
        indexes = [models.Index(fields=["month"], name="metric_key_month_idx")]
