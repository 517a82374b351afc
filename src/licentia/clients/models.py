import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Distributor(models.Model):
    """A partner company; mail about its clients goes to it instead of them."""

    name = models.CharField(_("name"), max_length=200)
    guid = models.UUIDField(_("GUID"), default=uuid.uuid4, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClientSource(models.TextChoices):
    MANUAL = "manual", _("entered by a manager")
    TRIAL = "trial", _("trial questionnaire")
    API = "api", _("API")
    MERGE = "merge", _("merge of duplicates")
    IMPORT = "import", _("import")


class Client(models.Model):
    """A client company (Клиент)."""

    company = models.CharField(_("company"), max_length=300)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    phone_e164 = models.CharField(_("phone (E.164)"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    alert_email = models.EmailField(
        _("e-mail for alerts about license problems and new releases"), blank=True, db_index=True
    )
    crm_id1 = models.CharField(_("CRM ID1"), max_length=64, blank=True, db_index=True)
    crm_id2 = models.CharField(_("CRM ID2"), max_length=64, blank=True, db_index=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_clients",
    )
    distributor = models.ForeignKey(
        Distributor,
        verbose_name=_("distributor the client belongs to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
    )
    comment = models.TextField(_("comment"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    source = models.CharField(
        _("source"), max_length=16, choices=ClientSource.choices, default=ClientSource.MANUAL
    )
    extra = models.JSONField(_("additional fields"), default=dict, blank=True)
    # The company name reduced for finding duplicates; kept by the services.
    company_key = models.CharField(max_length=300, editable=False, default="", db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["company", "id"]
        indexes = [models.Index(fields=["company", "id"], name="client_company_idx")]

    def __str__(self) -> str:
        return self.company


class ClientSearchToken(models.Model):
    """A normalised word of a client's searchable values (see licentia.clients.search); kept by
    the services, never edited."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="search_tokens", db_index=False
    )
    token = models.CharField(max_length=100)
    # A word with no punctuation. A typed word without punctuation is looked for among these
    # only: a token with punctuation (b7e1-guid, buh@firm.ru) starting with it always comes with
    # its first part, a simple token that starts with it too.
    simple = models.BooleanField(default=True)

    class Meta:
        # Read without touching the table: clients by token prefix (simple words and the rest
        # apart, so that a common word's range holds no compound tokens), and whether one client
        # has a token with a prefix. Pattern ops let PostgreSQL serve LIKE 'prefix%' whatever
        # the database collation.
        indexes = [
            models.Index(
                fields=["token", "client"],
                name="client_token_simple_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
                condition=models.Q(simple=True),
            ),
            models.Index(
                fields=["token", "client"],
                name="client_token_compound_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
                condition=models.Q(simple=False),
            ),
            models.Index(
                fields=["client", "token"],
                name="client_token_by_client_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.token


class ExtraFieldKind(models.TextChoices):
    TEXT = "text", _("text")
    NUMBER = "number", _("number")
    DATE = "date", _("date")
    BOOLEAN = "boolean", _("yes / no")
    CHOICE = "choice", _("choice")


class ClientFieldDefinition(models.Model):
    """An additional field of the client card, defined by the vendor."""

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_(
            "Latin letters, digits and underscores; the key under which the API returns it."
        ),
    )
    label_ru = models.CharField(_("label (Russian)"), max_length=120)
    label_en = models.CharField(_("label (English)"), max_length=120, blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=ExtraFieldKind.choices)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For the choice type: one value a line.")
    )
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    show_in_list = models.BooleanField(_("show in the client list"), default=False)
    archived = models.BooleanField(
        _("archived"),
        default=False,
        help_text=_("Hidden from the card and the list; stored values are kept."),
    )

    class Meta:
        verbose_name = _("additional client field")
        verbose_name_plural = _("additional client fields")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label_ru

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]
