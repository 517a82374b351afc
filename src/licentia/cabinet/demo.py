"""Demo data for `licentia serve --demo`: seeded once into an empty server."""

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature, TrialCounting
from licentia.clients.models import ClientSource, Distributor
from licentia.clients.services import client_create
from licentia.core.audit import Actor
from licentia.core.models import User
from licentia.core.roles import READ_ONLY, SALES, SUPPORT
from licentia.core.services import staff_user_create_admin
from licentia.coupons.models import CouponKind, Door, Term
from licentia.coupons.services import (
    Row,
    coupon_activate,
    coupon_batch_generate,
    coupons_set_blocked,
)
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, key_set_blocked, license_key_generate
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture, session_release
from licentia.licensing.services.tokens import tokens_consume
from licentia.licensing.units import Unit, application_actor

DEMO_LOGIN_FILENAME = "demo-login.txt"
DEMO_ADMIN = "admin"
DEMO_STAFF = (
    ("sales", "Мария", "Продажина", SALES),
    ("support", "Сергей", "Поддержкин", SUPPORT),
    ("viewer", "Ольга", "Смотрова", READ_ONLY),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def demo_seed(*, data_dir: Path) -> DemoLogin:
    login_file = data_dir / DEMO_LOGIN_FILENAME
    if login_file.exists():
        username, password = login_file.read_text(encoding="utf-8").split("\n", 1)
        return DemoLogin(username=username, password=password.strip())
    if User.objects.filter(username=DEMO_ADMIN).exists():
        raise RuntimeError(
            f"{data_dir} holds a server that was not seeded as a demo; "
            "use another LICENTIA_DATA_DIR for the demo"
        )
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        staff_user_create_admin(username=DEMO_ADMIN, email="admin@example.com", password=password)
        managers = []
        for username, first_name, last_name, role in DEMO_STAFF:
            user = User.objects.create_user(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@example.com",
                password=password,
                is_staff=True,
            )
            user.groups.add(Group.objects.get(name=role))
            managers.append(user)
        _seed_catalog_and_clients(sales_manager=managers[0])
    descriptor = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"{DEMO_ADMIN}\n{password}\n")
    return DemoLogin(username=DEMO_ADMIN, password=password)


FEATURES = (
    (10, "Основной функционал", "Core"),
    (11, "Обмен с сайтом", "Web site exchange"),
    (12, "Мобильный клиент", "Mobile client"),
    (13, "Отчёты PRO", "PRO reports"),
    (20, "Распознавание документов", "Document recognition"),
)


def _product(product_id: int, name_ru: str, name_en: str, lines: list, **fields: object) -> Product:
    product = Product.objects.create(id=product_id, name_ru=name_ru, name_en=name_en, **fields)
    for feature_id, kind, count, multiplier_allowed in lines:
        ProductFeature.objects.create(
            product=product,
            feature_id=feature_id,
            license_type=kind,
            count=count,
            multiplier_allowed=multiplier_allowed,
        )
    return product


def _seed_catalog_and_clients(*, sales_manager: User) -> None:
    """A catalog of a 1C trade configuration, and clients with keys in every state."""
    actor = Actor.system("demo")
    now = timezone.now()
    for feature_id, name_ru, name_en in FEATURES:
        Feature.objects.create(id=feature_id, name_ru=name_ru, name_en=name_en)
    trial = _product(
        100,
        "Торговля: пробная версия",
        "Trade: trial",
        [(10, LicenseType.USER, 2, False), (11, LicenseType.HOST, 1, False)],
        trial_days=30,
        trial_counting=TrialCounting.CALENDAR,
    )
    basic = _product(
        101,
        "Торговля: базовая",
        "Trade: basic",
        [(10, LicenseType.USER, 5, True), (11, LicenseType.HOST, 1, False)],
    )
    pro = _product(
        102,
        "Торговля PRO",
        "Trade PRO",
        [
            (10, LicenseType.USER, 10, True),
            (11, LicenseType.HOST, 1, False),
            (12, LicenseType.USER, 5, True),
            (13, LicenseType.DATABASE, 1, False),
        ],
    )
    pro.ends_trials.add(trial)
    basic.ends_trials.add(trial)
    tokens = _product(
        103,
        "Пакет распознавания 1000",
        "Recognition pack 1000",
        [(20, LicenseType.TOKEN, 1000, True)],
    )
    partner = Distributor.objects.create(
        name="Софтлайн-Регион", email="partner@example.com", comment="Дистрибьютор Поволжья"
    )
    clients = [
        (
            "ООО «Ромашка»",
            "Анна Смирнова",
            "+7 912 759-10-59",
            "anna@romashka.example",
            "7707083893",
        ),
        ("ООО Ромашка", "Анна Смирнова", "8 (912) 759-10-59", "buh@romashka.example", "7707083893"),
        ("АО «Северный ветер»", "Пётр Волков", "+7 495 123-45-67", "it@veter.example", ""),
        ("ИП Лебедев", "Олег Лебедев", "+7 843 200-10-20", "oleg@lebedev.example", ""),
        ("ООО «Маяк»", "Елена Орлова", "+7 812 300-40-50", "orlova@mayak.example", ""),
        ("ООО «Кедр»", "Дмитрий Козлов", "+7 383 222-33-44", "kozlov@kedr.example", ""),
        ("ЗАО «Горизонт»", "Мария Павлова", "+7 343 111-22-33", "pavlova@gorizont.example", ""),
    ]
    made = [
        client_create(
            actor=actor,
            source=ClientSource.TRIAL if index == 1 else ClientSource.MANUAL,
            company=company,
            contact=contact,
            phone=phone,
            email=email,
            crm_id1=inn,
            manager=sales_manager if index % 2 == 0 else None,
            distributor=partner if index == 4 else None,
        )
        for index, (company, contact, phone, email, inn) in enumerate(clients)
    ]
    keys = [license_key_generate(client=client, actor=actor) for client in made]
    key_line_add(key=keys[0], product=pro, multiplier=2, actor=actor)
    key_line_add(key=keys[0], product=tokens, actor=actor)
    key_line_add(
        key=keys[1],
        product=trial,
        is_trial=True,
        starts_at=now - timedelta(days=10),
        expires_at=now + timedelta(days=20),
        actor=actor,
    )
    key_line_add(
        key=keys[2],
        product=basic,
        starts_at=now - timedelta(days=355),
        expires_at=now + timedelta(days=10),
        actor=actor,
    )
    key_line_add(
        key=keys[3],
        product=basic,
        starts_at=now - timedelta(days=400),
        expires_at=now - timedelta(days=35),
        actor=actor,
    )
    key_line_add(
        key=keys[4],
        product=trial,
        is_trial=True,
        starts_at=now - timedelta(days=45),
        expires_at=now - timedelta(days=15),
        actor=actor,
    )
    key_line_add(
        key=keys[5],
        product=basic,
        expires_at=now + timedelta(days=200),
        actor=actor,
    )
    key_set_blocked(key=keys[5], blocked=True, actor=actor)
    # The last client keeps an empty key, as after "generate a new license key".
    _seed_activity(pro_key=keys[0], basic_key=keys[2])
    _seed_coupons(partner=partner, products=(trial, basic, tokens), keys=keys)


def _seed_activity(*, pro_key: LicenseKey, basic_key: LicenseKey) -> None:
    """What protected applications did: seats held now, one released, a refused capture
    (a Problem) and tokens consumed, so the monitor and the reports have something to show."""
    office = {"machine_id": "3f2a9c1e-demo", "os": "Windows Server 2019"}
    for user, host in [("Смирнова", "buh-01"), ("Волков", "buh-02"), ("Администратор", "srv-1c")]:
        session_capture(
            key_number=pro_key.number,
            feature_id=10,
            unit=Unit(user=user, host=host, database="Торговля"),
            fingerprint=office,
            app_version="11.5.18",
            ip="192.0.2.10",
        )
    session_capture(
        key_number=pro_key.number,
        feature_id=13,
        unit=Unit(user="Администратор", host="srv-1c", database="Торговля"),
        fingerprint=office,
        app_version="11.5.18",
    )
    finished = session_capture(
        key_number=pro_key.number, feature_id=12, unit=Unit(user="Смирнова", host="buh-01")
    )
    session_release(session_id=finished.session.public_id)
    session_capture(key_number=basic_key.number, feature_id=11, unit=Unit(host="sklad-01"))
    with contextlib.suppress(Refusal):
        session_capture(key_number=basic_key.number, feature_id=11, unit=Unit(host="sklad-02"))
    tokens_consume(
        key_number=pro_key.number, feature_id=20, amount=120, comment="Распознано 120 накладных"
    )


def _seed_coupons(
    *, partner: Distributor, products: tuple[Product, Product, Product], keys: list[LicenseKey]
) -> None:
    """Batches as a vendor sells: codes for a partner, one of them activated; a reusable trial
    extension a client used; a tokens batch with a code blocked."""
    actor = Actor.system("demo")
    trial, basic, tokens = products
    sold = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT,
        rows=[Row(product=basic, multiplier=2, term=Term.DAYS, days=365)],
        actor=actor,
        count=5,
        distributor=partner,
        invoice_number="СЧ-2026-0117",
        invoice_date=timezone.localdate() - timedelta(days=3),
        comment="Продажа через партнёра",
    )
    extension = coupon_batch_generate(
        kind=CouponKind.TRIAL_EXTEND,
        rows=[Row(product=trial, days=14)],
        actor=actor,
        reusable=True,
        comment="Продление триала на выставке",
    )
    packs = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=tokens)], actor=actor, count=3
    )
    for batch, key in ((sold, keys[0]), (extension, keys[1])):
        coupon_activate(
            key_number=key.number,
            code=batch.coupons.order_by("id")[0].code,
            door=Door.APPLICATION,
            actor=application_actor(Unit(user="Смирнова", host="buh-01"), "192.0.2.10"),
        )
    coupons_set_blocked(coupons=packs.coupons.order_by("-id")[:1], blocked=True, actor=actor)
