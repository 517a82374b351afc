"""Demo data for `licentia serve --demo`: seeded once into an empty server."""

import contextlib
import os
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
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
from licentia.coupons.models import Activation, CouponBatch, CouponKind, Door, Term
from licentia.coupons.services import (
    Row,
    coupon_activate,
    coupon_batch_generate,
    coupons_set_blocked,
)
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.services import key_line_add, key_set_blocked, license_key_generate
from licentia.licensing.models import EndReason, Problem, Session
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture, session_release
from licentia.licensing.services.tokens import tokens_consume
from licentia.licensing.units import Unit, application_actor
from licentia.statistics.models import MetricObservation
from licentia.statistics.services import statistics_rollup

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
    _seed_history(trial=trial, basic=basic, keys=[keys[0], keys[2]])


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


HISTORY_DAYS = 120
HISTORY_COMPANIES = (
    "ООО «Альфа-Трейд»",
    "ООО «Берёзка»",
    "ООО «Вектор»",
    "ООО «Гранит»",
    "ООО «Дельта»",
    "ООО «Енисей»",
    "ООО «Жемчуг»",
    "ООО «Зенит»",
    "ООО «Искра»",
    "ООО «Каскад»",
    "ООО «Лотос»",
    "ООО «Меридиан»",
    "ООО «Нева»",
    "ООО «Омега»",
    "ООО «Парус»",
    "ООО «Радуга»",
    "ООО «Сокол»",
    "ООО «Тайга»",
    "ООО «Урал»",
    "ООО «Феникс»",
)
CONFIGURATIONS = ("Управление торговлей 11.5", "Комплексная автоматизация 2.5", "ERP 2.5")
PLATFORMS = ("8.3.24.1691", "8.3.25.1257")
FUNCTIONS = ("Загрузка банковской выписки", "Печать ценников", "Обмен с сайтом", "Отчёт PRO")


def _seed_history(*, trial: Product, basic: Product, keys: list[LicenseKey]) -> None:
    """Four months of past trials, purchases, sessions, refusals and metrics, rolled up, so
    that the statistics pages show something from the first start."""
    actor = Actor.system("demo")
    chance = random.Random(2026)
    today = timezone.localdate()
    first = today - timedelta(days=HISTORY_DAYS)
    for index, company in enumerate(HISTORY_COMPANIES):
        client = client_create(
            actor=actor,
            source=ClientSource.TRIAL,
            company=company,
            email=f"trial{index}@example.com",
        )
        key = license_key_generate(client=client, actor=actor)
        # Three days off the grid of ends (every 6 days up to today), so that no trial ends
        # on the day the demo is seeded: it would be an expiry reminder before 11:00 and an
        # expired mail after, and the demo's mail would depend on the hour.
        offset = 3 + index * HISTORY_DAYS // len(HISTORY_COMPANIES)
        moment = _at(first + timedelta(days=offset), 11)
        line = key_line_add(
            key=key,
            product=trial,
            is_trial=True,
            starts_at=moment,
            expires_at=moment + timedelta(days=30),
            actor=actor,
        )
        KeyLine.objects.filter(pk=line.pk).update(created_at=moment)
        if index % 3 == 0:
            bought = moment + timedelta(days=chance.randint(5, 40))
            if bought < timezone.now():
                purchase = key_line_add(key=key, product=basic, starts_at=bought, actor=actor)
                KeyLine.objects.filter(pk=purchase.pk).update(created_at=bought)
                keys.append(key)
    sessions, problems, observations = [], [], []
    users = [f"Пользователь {number}" for number in range(1, 9)]
    keys = keys[:4]
    for offset in range(HISTORY_DAYS):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for key in keys:
            for user in chance.sample(users, chance.randint(1, 4)):
                for feature_id in chance.sample([10, 10, 11, 12, 13], chance.randint(1, 2)):
                    started = _at(day, 9) + timedelta(minutes=chance.randint(0, 240))
                    ended = started + timedelta(minutes=chance.randint(20, 480))
                    sessions.append(
                        Session(
                            key=key,
                            feature_id=feature_id,
                            license_type=LicenseType.USER,
                            binding="floating",
                            unit=f"{user}@pc-{user[-1]}",
                            user=user,
                            host=f"pc-{user[-1]}",
                            started_at=started,
                            last_heartbeat_at=ended,
                            lease_expires_at=ended,
                            ended_at=ended,
                            end_reason=EndReason.RELEASED,
                        )
                    )
            observations += [
                MetricObservation(
                    key=key,
                    name=name,
                    value=value,
                    count=count,
                    at=_at(day, 20),
                    received_at=_at(day, 20),
                )
                for name, value, count in [
                    ("platform_version", PLATFORMS[(key.pk + offset // 60) % 2], 1),
                    ("configuration", CONFIGURATIONS[key.pk % 3], 1),
                    ("function", FUNCTIONS[(key.pk + offset) % 4], chance.randint(1, 30)),
                ]
            ]
        if offset % 4 == 0:
            moment = _at(day, 10)
            problems.append(
                Problem(
                    key=keys[0],
                    key_number=keys[0].number,
                    feature_id=13,
                    unit="Гость@pc-9",
                    user="Гость",
                    host="pc-9",
                    code=2008,
                    day=day,
                    first_at=moment,
                    last_at=moment,
                    count=chance.randint(1, 5),
                )
            )
    Session.objects.bulk_create(sessions, batch_size=500)
    Problem.objects.bulk_create(problems)
    MetricObservation.objects.bulk_create(observations, batch_size=500)
    # The coupons were sold a month ago and activated last week.
    CouponBatch.objects.update(created_at=timezone.now() - timedelta(days=30))
    Activation.objects.update(activated_at=timezone.now() - timedelta(days=7))
    statistics_rollup()


def _at(day: object, hour: int) -> datetime:
    assert hasattr(day, "year")
    return timezone.make_aware(datetime.combine(day, time(hour)))  # type: ignore[arg-type]
