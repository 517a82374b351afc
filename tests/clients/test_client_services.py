import pytest
from django.core.exceptions import ValidationError

from licentia.clients.extra_fields import EXTRA_KINDS
from licentia.clients.models import (
    Client,
    ClientFieldDefinition,
    ClientSource,
    Distributor,
    ExtraFieldKind,
)
from licentia.clients.services import (
    InvalidInnWarning,
    client_delete,
    client_field_delete,
    client_update,
    distributor_delete,
)
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.models import LicenseKey
from licentia.keys.services import license_key_generate
from tests.factories import DistributorFactory, make_client

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
VALID_INN = "7707083893"


def test_a_manager_needs_only_company_contact_phone_and_email() -> None:
    client = make_client(phone="8 (912) 759-10-59", email="  Ivan@Romashka.RU ")

    assert client.source == ClientSource.MANUAL
    assert client.email == "ivan@romashka.ru"
    assert client.phone == "8 (912) 759-10-59"
    assert client.phone_e164 == "+79127591059"
    event = AuditEvent.objects.get(action="client.create")
    assert event.after["company"] == "ООО Ромашка"


def test_the_source_is_recorded_for_other_channels() -> None:
    assert make_client(source=ClientSource.TRIAL).source == ClientSource.TRIAL


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"company": "  "}, "company"),
        ({"email": "not-an-email"}, "email"),
        ({"alert_email": "admin@"}, "alert_email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "звонить Ивану"}, "phone"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(fields, field) -> None:
    with pytest.raises(ValidationError) as error:
        make_client(**fields)

    assert field in error.value.message_dict
    assert not Client.objects.exists()
    assert not AuditEvent.objects.filter(action="client.create").exists()


def test_a_wrong_inn_check_digit_is_a_warning_the_manager_may_override() -> None:
    with pytest.raises(InvalidInnWarning) as warning:
        make_client(crm_id1="7707083890")
    assert "7707083890" in warning.value.message_dict["crm_id1"][0]

    client = make_client(crm_id1="7707083890", accept_invalid_inn=True)
    assert client.crm_id1 == "7707083890"


def test_a_valid_inn_and_a_non_inn_crm_id_pass_without_a_warning() -> None:
    assert make_client(crm_id1=VALID_INN).crm_id1 == VALID_INN
    assert make_client(crm_id1="A-17").crm_id1 == "A-17"


def test_extra_fields_are_validated_by_type() -> None:
    ClientFieldDefinition.objects.create(code="seats", label_ru="Мест", kind=ExtraFieldKind.NUMBER)
    ClientFieldDefinition.objects.create(code="since", label_ru="С", kind=ExtraFieldKind.DATE)
    ClientFieldDefinition.objects.create(
        code="tier", label_ru="Уровень", kind=ExtraFieldKind.CHOICE, choices="Gold\nSilver"
    )
    ClientFieldDefinition.objects.create(code="vip", label_ru="VIP", kind=ExtraFieldKind.BOOLEAN)

    with pytest.raises(ValidationError) as error:
        make_client(extra={"seats": "много", "since": "31.02.2024", "tier": "Bronze", "vip": "?"})
    assert set(error.value.message_dict) == {
        "extra.seats",
        "extra.since",
        "extra.tier",
        "extra.vip",
    }

    client = make_client(extra={"seats": "12", "since": "2024-02-29", "tier": "Gold", "vip": "да"})
    assert client.extra == {"seats": 12, "since": "2024-02-29", "tier": "Gold", "vip": True}


def test_a_required_extra_field_and_an_unknown_code_are_refused() -> None:
    ClientFieldDefinition.objects.create(
        code="region", label_ru="Регион", kind=ExtraFieldKind.TEXT, required=True
    )

    with pytest.raises(ValidationError) as error:
        make_client(extra={"unknown": "x"})

    assert set(error.value.message_dict) == {"extra.region", "extra.unknown"}


def test_an_update_is_audited_with_before_and_after() -> None:
    client = make_client()

    client_update(client=client, actor=ACTOR, company="ООО Ромашка-Плюс")

    event = AuditEvent.objects.get(action="client.update")
    assert event.before["company"] == "ООО Ромашка"
    assert event.after["company"] == "ООО Ромашка-Плюс"
    assert "search_text" not in event.after


def test_a_generated_key_is_empty_uses_the_vendor_prefix_and_is_audited() -> None:
    client = make_client()

    key = license_key_generate(client=client, actor=ACTOR)

    assert key.number.startswith("DEMO-")
    assert key.client == client
    assert AuditEvent.objects.filter(action="license_key.create", object_id=str(key.pk)).exists()


def test_deleting_a_client_with_empty_keys_keeps_the_full_card_in_the_log() -> None:
    client = make_client(email="gone@example.com", comment="важный")
    key = license_key_generate(client=client, actor=ACTOR)

    client_delete(client=client, actor=ACTOR)

    assert not Client.objects.filter(pk=client.pk).exists()
    assert not LicenseKey.objects.filter(pk=key.pk).exists()
    event = AuditEvent.objects.get(action="client.delete")
    assert event.before["email"] == "gone@example.com"
    assert event.before["comment"] == "важный"
    assert event.before["license_keys"] == [key.number]


def test_every_kind_of_additional_field_is_read_and_asked_for() -> None:
    assert set(EXTRA_KINDS) == set(ExtraFieldKind.values)


def test_text_limits_are_the_columns_own() -> None:
    client = make_client()
    limited = ("company", "contact", "crm_id1", "crm_id2")

    refused_at = {}
    for name in limited:
        with pytest.raises(ValidationError) as refused:
            client_update(client=client, actor=ACTOR, **{name: "я" * 301})
        refused_at[name] = refused.value.message_dict[name]
    client_update(client=client, actor=ACTOR, comment="я" * 10_000)

    assert refused_at == {
        "company": ["Не более 300 символов."],
        "contact": ["Не более 200 символов."],
        "crm_id1": ["Не более 64 символов."],
        "crm_id2": ["Не более 64 символов."],
    }


def test_a_distributor_is_deleted_only_without_clients() -> None:
    distributor = DistributorFactory(name="Софтпром")
    client = make_client(distributor=distributor)

    with pytest.raises(ValidationError) as refused:
        distributor_delete(distributor=distributor, actor=ACTOR)
    assert refused.value.messages == [
        "Софтпром: за ним закреплено клиентов: 1; сначала перенесите их."
    ]
    assert Distributor.objects.filter(pk=distributor.pk).exists()

    client_update(client=client, actor=ACTOR, distributor=None)
    distributor_delete(distributor=distributor, actor=ACTOR)

    assert not Distributor.objects.filter(pk=distributor.pk).exists()
    assert AuditEvent.objects.get(action="distributor.delete").before["name"] == "Софтпром"


def test_an_additional_field_is_deleted_only_while_no_client_holds_a_value() -> None:
    definition = ClientFieldDefinition.objects.create(
        code="city", label_ru="Город", kind=ExtraFieldKind.TEXT
    )
    client = make_client(extra={"city": "Тверь"})

    with pytest.raises(ValidationError) as refused:
        client_field_delete(definition=definition, actor=ACTOR)
    assert refused.value.messages == [
        "Город: заполнено у клиентов: 1; вместо удаления переведите поле в архив."
    ]

    client_update(client=client, actor=ACTOR, extra={})
    client_field_delete(definition=definition, actor=ACTOR)

    assert not ClientFieldDefinition.objects.exists()
    event = AuditEvent.objects.get(action="clientfielddefinition.delete")
    assert event.before["code"] == "city"


def test_a_date_of_a_day_that_does_not_exist_is_a_field_error() -> None:
    ClientFieldDefinition.objects.create(code="since", label_ru="С", kind=ExtraFieldKind.DATE)

    with pytest.raises(ValidationError) as error:
        make_client(extra={"since": "2024-02-30"})

    assert set(error.value.message_dict) == {"extra.since"}
