"""The templates shipped with Licentia, the variables each kind offers, and the sample data the
preview and the save check render with. Block tags stand alone in their own <div>, so that the
cabinet's HTML editor keeps them where they are."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from licentia.notifications.models import MailKind

Defaults = dict[str, tuple[str, str]]  # language -> (subject, HTML body)

COMMON_VARIABLES: dict[str, Any] = {
    "company": _("the client's company"),
    "contact": _("the client's contact person"),
    "client_email": _("the client's e-mail"),
    "key": _("the license key"),
    "cabinet_link": _("the link to the server"),
}

KIND_VARIABLES: dict[str, dict[str, Any]] = {
    MailKind.NEW_TRIAL: {
        "products": _("list: name, term, expiry, activation_text of each product"),
        "expiry": _("the end of the trial (empty: counted by days of use)"),
    },
    MailKind.COUPON_ACTIVATED: {
        "coupon": _("the coupon"),
        "products": _("list: name, term, expiry, activation_text of each product"),
    },
    MailKind.LICENSE_PROBLEM: {
        "feature": _("the feature's name"),
        "feature_id": _("the feature's number"),
        "refusals": _("list: time, unit, reason, count of each refusal since the last mail"),
    },
    MailKind.EXPIRING: {
        "product": _("the product"),
        "expiry": _("the expiry date"),
        "days_left": _("days left"),
        "trial": _("yes for a trial"),
    },
    MailKind.EXPIRED: {
        "product": _("the product"),
        "expiry": _("the expiry date"),
        "trial": _("yes for a trial"),
    },
    MailKind.NEW_KEY: {},
    MailKind.CLIENT_SIGN_IN: {
        "link": _("the one-time sign-in link to the client cabinet"),
        "valid_minutes": _("minutes the link stays valid"),
        "email": _("the address the link was asked for"),
    },
    MailKind.NEW_RELEASE: {
        "distribution": _("the distribution's name"),
        "version": _("the release's version"),
        "release_date": _("the release date"),
        "whats_new": _("what's new in the release"),
        "files": _("list: name, size, url (counted), direct_url of each file"),
    },
    MailKind.MANAGER_DIGEST: {
        "manager": _("the manager's name"),
        "date": _("the digest's date"),
        "expiring": _("list: company, key, product, expiry of lines ending in 30 days"),
        "trials": _("list: company, key, product, expiry of yesterday's new trials"),
        "problems": _("list: company, key, feature, reason, count of yesterday's problems"),
    },
}


def variables_of(kind: str) -> dict[str, Any]:
    if kind == MailKind.MANAGER_DIGEST:
        return {"cabinet_link": COMMON_VARIABLES["cabinet_link"], **KIND_VARIABLES[kind]}
    return {**COMMON_VARIABLES, **KIND_VARIABLES.get(kind, {})}


_SAMPLE_PRODUCT = {
    "name": "Бухгалтерия ПРОФ",
    "term": "Лицензия активна до 2030-12-31",
    "expiry": "2030-12-31",
    "activation_text": "Откройте Сервис → Лицензирование и нажмите «Обновить».",
}


def sample_context(kind: str) -> dict[str, Any]:
    """Plain values standing for what a real mail of the kind is given."""
    common = {
        "company": "ООО Ромашка",
        "contact": "Иван Петров",
        "client_email": "buh@romashka.ru",
        "key": "DEMO-ABCDE-FGHJK-LMNPQ-RSTUV",
        "cabinet_link": "https://licensing.example.ru",
    }
    specific: dict[str, dict[str, Any]] = {
        MailKind.NEW_TRIAL: {"products": [_SAMPLE_PRODUCT], "expiry": "2030-12-31"},
        MailKind.COUPON_ACTIVATED: {
            "coupon": "DEMOUPD-ABCDE-FGHJK-LMNPQ-RSTUV",
            "products": [_SAMPLE_PRODUCT],
        },
        MailKind.LICENSE_PROBLEM: {
            "feature": "Обмен с банком",
            "feature_id": 10,
            "refusals": [
                {
                    "time": "2030-12-01 10:15",
                    "unit": "Иванов@buh-01",
                    "reason": "Нет свободной лицензии",
                    "count": 3,
                }
            ],
        },
        MailKind.EXPIRING: {
            "product": "Бухгалтерия ПРОФ",
            "expiry": "2030-12-31",
            "days_left": 30,
            "trial": False,
        },
        MailKind.EXPIRED: {"product": "Бухгалтерия ПРОФ", "expiry": "2030-12-31", "trial": False},
        MailKind.NEW_KEY: {},
        MailKind.CLIENT_SIGN_IN: {
            "link": "https://licensing.example.ru/my/link/sample-token/",
            "valid_minutes": 15,
            "email": "buh@romashka.ru",
        },
        MailKind.NEW_RELEASE: {
            "distribution": "Бухгалтерия ПРОФ",
            "version": "4.0.10",
            "release_date": "2030-12-01",
            "whats_new": "Исправлена загрузка выписок.",
            "files": [
                {
                    "name": "setup.zip",
                    "size": 1048576,
                    "url": "https://licensing.example.ru/releases/download/sample",
                    "direct_url": "https://cdn.example.ru/setup.zip",
                }
            ],
        },
        MailKind.MANAGER_DIGEST: {
            "manager": "Мария Иванова",
            "date": "2030-12-01",
            "expiring": [
                {
                    "company": "ООО Ромашка",
                    "key": common["key"],
                    "product": "Бухгалтерия ПРОФ",
                    "expiry": "2030-12-31",
                }
            ],
            "trials": [
                {
                    "company": "ООО Лютик",
                    "key": "DEMO-BCDEF-GHJKL-MNPQR-STUVW",
                    "product": "Бухгалтерия ПРОФ",
                    "expiry": "2030-12-15",
                }
            ],
            "problems": [
                {
                    "company": "ООО Ромашка",
                    "key": common["key"],
                    "feature": "Обмен с банком",
                    "reason": "Нет свободной лицензии",
                    "count": 3,
                }
            ],
        },
    }
    if kind == MailKind.MANAGER_DIGEST:
        return {"cabinet_link": common["cabinet_link"], **specific[kind]}
    return {**common, **specific.get(kind, {})}


_PRODUCTS_RU = """<ul>
<li><strong>{{ p.name }}</strong>: {{ p.term }}</li>
</ul>
<div>{% if p.activation_text %}</div>
<blockquote>{{ p.activation_text }}</blockquote>
<div>{% endif %}</div>"""

DEFAULTS: dict[str, Defaults] = {
    MailKind.NEW_TRIAL: {
        "ru": (
            "Пробная лицензия для {{ company }}: ключ {{ key }}",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Для {{ company }} открыта пробная лицензия. Ваш ключ: "
            "<strong>{{ key }}</strong></div>\n"
            "<div>{% for p in products %}</div>\n" + _PRODUCTS_RU + "\n<div>{% endfor %}</div>\n"
            '<div>Сервер лицензирования: <a href="{{ cabinet_link }}">{{ cabinet_link }}</a></div>',
        ),
        "en": (
            "Trial license for {{ company }}: key {{ key }}",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>A trial license is open for {{ company }}. Your key: "
            "<strong>{{ key }}</strong></div>\n"
            "<div>{% for p in products %}</div>\n<ul>\n<li><strong>{{ p.name }}</strong>: "
            "{{ p.term }}</li>\n</ul>\n<div>{% if p.activation_text %}</div>\n"
            "<blockquote>{{ p.activation_text }}</blockquote>\n<div>{% endif %}</div>\n"
            "<div>{% endfor %}</div>\n"
            '<div>License server: <a href="{{ cabinet_link }}">{{ cabinet_link }}</a></div>',
        ),
    },
    MailKind.COUPON_ACTIVATED: {
        "ru": (
            "Купон {{ coupon }} активирован: ключ {{ key }}",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Купон {{ coupon }} активирован на ключе <strong>{{ key }}</strong> "
            "({{ company }}).</div>\n"
            "<div>{% for p in products %}</div>\n" + _PRODUCTS_RU + "\n<div>{% endfor %}</div>",
        ),
        "en": (
            "Coupon {{ coupon }} activated: key {{ key }}",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Coupon {{ coupon }} was activated on key <strong>{{ key }}</strong> "
            "({{ company }}).</div>\n"
            "<div>{% for p in products %}</div>\n<ul>\n<li><strong>{{ p.name }}</strong>: "
            "{{ p.term }}</li>\n</ul>\n<div>{% if p.activation_text %}</div>\n"
            "<blockquote>{{ p.activation_text }}</blockquote>\n<div>{% endif %}</div>\n"
            "<div>{% endfor %}</div>",
        ),
    },
    MailKind.LICENSE_PROBLEM: {
        "ru": (
            "Не хватает лицензий: {{ feature }}, ключ {{ key }}",
            "<div>Приложение {{ company }} не смогло занять лицензию «{{ feature }}» "
            "({{ feature_id }}) по ключу <strong>{{ key }}</strong>.</div>\n"
            "<div>{% for r in refusals %}</div>\n"
            "<ul>\n<li>{{ r.time }} — {{ r.unit }}: {{ r.reason }} ({{ r.count }})</li>\n</ul>\n"
            "<div>{% endfor %}</div>\n"
            "<div>Чтобы продолжить работу, расширьте или продлите лицензию.</div>",
        ),
        "en": (
            "Licenses short: {{ feature }}, key {{ key }}",
            "<div>The application of {{ company }} could not take a license of "
            "“{{ feature }}” ({{ feature_id }}) with key <strong>{{ key }}</strong>.</div>\n"
            "<div>{% for r in refusals %}</div>\n"
            "<ul>\n<li>{{ r.time }} — {{ r.unit }}: {{ r.reason }} ({{ r.count }})</li>\n</ul>\n"
            "<div>{% endfor %}</div>\n"
            "<div>To keep working, extend or renew the license.</div>",
        ),
    },
    MailKind.EXPIRING: {
        "ru": (
            "{% if trial %}Триал{% else %}Лицензия{% endif %} «{{ product }}» истекает "
            "{{ expiry }}",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>{% if trial %}Пробный период{% else %}Лицензия{% endif %} «{{ product }}» "
            "по ключу <strong>{{ key }}</strong> ({{ company }}) заканчивается {{ expiry }} "
            "(осталось дней: {{ days_left }}).</div>\n"
            "<div>Чтобы продолжить работу без перерыва, продлите лицензию.</div>",
        ),
        "en": (
            "{% if trial %}Trial{% else %}License{% endif %} “{{ product }}” expires {{ expiry }}",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>The {% if trial %}trial{% else %}license{% endif %} of “{{ product }}” "
            "on key <strong>{{ key }}</strong> ({{ company }}) ends on {{ expiry }} "
            "({{ days_left }} days left).</div>\n"
            "<div>Renew it to keep working without a break.</div>",
        ),
    },
    MailKind.EXPIRED: {
        "ru": (
            "{% if trial %}Триал{% else %}Лицензия{% endif %} «{{ product }}» истекла",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>{% if trial %}Пробный период{% else %}Лицензия{% endif %} «{{ product }}» "
            "по ключу <strong>{{ key }}</strong> ({{ company }}) закончилась {{ expiry }}.</div>\n"
            "<div>Чтобы возобновить работу, приобретите или продлите лицензию.</div>",
        ),
        "en": (
            "{% if trial %}Trial{% else %}License{% endif %} “{{ product }}” has expired",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>The {% if trial %}trial{% else %}license{% endif %} of “{{ product }}” "
            "on key <strong>{{ key }}</strong> ({{ company }}) ended on {{ expiry }}.</div>\n"
            "<div>Buy or renew the license to resume work.</div>",
        ),
    },
    MailKind.NEW_KEY: {
        "ru": (
            "Новый лицензионный ключ для {{ company }}",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Для {{ company }} создан лицензионный ключ <strong>{{ key }}</strong>.</div>",
        ),
        "en": (
            "New license key for {{ company }}",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>A license key was made for {{ company }}: <strong>{{ key }}</strong>.</div>",
        ),
    },
    MailKind.CLIENT_SIGN_IN: {
        "ru": (
            "Вход в личный кабинет {{ company }}",
            "<div>Здравствуйте!</div>\n"
            "<div>Для адреса {{ email }} запрошен вход в личный кабинет {{ company }} "
            "на сервере лицензирования.</div>\n"
            "<div>Чтобы войти, откройте ссылку:</div>\n"
            '<div><a href="{{ link }}">{{ link }}</a></div>\n'
            "<div>Ссылка действует {{ valid_minutes }} минут и открывает кабинет один раз. "
            "Если вы не запрашивали вход, просто удалите это письмо.</div>",
        ),
        "en": (
            "Sign in to the client cabinet of {{ company }}",
            "<div>Hello!</div>\n"
            "<div>Signing in to the client cabinet of {{ company }} on the license server "
            "was asked for {{ email }}.</div>\n"
            "<div>To sign in, open the link:</div>\n"
            '<div><a href="{{ link }}">{{ link }}</a></div>\n'
            "<div>The link works once, for {{ valid_minutes }} minutes. If you did not ask "
            "to sign in, delete this mail.</div>",
        ),
    },
    MailKind.NEW_RELEASE: {
        "ru": (
            "Вышел релиз {{ distribution }} {{ version }}",
            "<div>Здравствуйте{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Вышел релиз <strong>{{ distribution }} {{ version }}</strong> от "
            "{{ release_date }}; по ключу {{ key }} ({{ company }}) он вам доступен.</div>\n"
            "<div>{% if whats_new %}</div>\n<blockquote>{{ whats_new }}</blockquote>\n"
            "<div>{% endif %}</div>\n"
            "<div>{% for f in files %}</div>\n"
            '<ul>\n<li><a href="{{ f.url }}">{{ f.name }}</a></li>\n</ul>\n'
            "<div>{% endfor %}</div>",
        ),
        "en": (
            "Release {{ distribution }} {{ version }} is out",
            "<div>Hello{% if contact %}, {{ contact }}{% endif %}!</div>\n"
            "<div>Release <strong>{{ distribution }} {{ version }}</strong> of "
            "{{ release_date }} is out; key {{ key }} ({{ company }}) may have it.</div>\n"
            "<div>{% if whats_new %}</div>\n<blockquote>{{ whats_new }}</blockquote>\n"
            "<div>{% endif %}</div>\n"
            "<div>{% for f in files %}</div>\n"
            '<ul>\n<li><a href="{{ f.url }}">{{ f.name }}</a></li>\n</ul>\n'
            "<div>{% endfor %}</div>",
        ),
    },
    MailKind.MANAGER_DIGEST: {
        "ru": (
            "Сводка по клиентам за {{ date }}",
            "<div>{{ manager }}, сводка по вашим клиентам.</div>\n"
            "<div><strong>Истекают в ближайшие 30 дней</strong></div>\n"
            "<div>{% for l in expiring %}</div>\n"
            "<ul>\n<li>{{ l.company }}, {{ l.key }}: {{ l.product }} — {{ l.expiry }}</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            "<div><strong>Новые триалы вчера</strong></div>\n"
            "<div>{% for t in trials %}</div>\n"
            "<ul>\n<li>{{ t.company }}, {{ t.key }}: {{ t.product }}</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            "<div><strong>Проблемы вчера</strong></div>\n"
            "<div>{% for p in problems %}</div>\n"
            "<ul>\n<li>{{ p.company }}, {{ p.key }}: {{ p.feature }} — {{ p.reason }} "
            "({{ p.count }})</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            '<div><a href="{{ cabinet_link }}">{{ cabinet_link }}</a></div>',
        ),
        "en": (
            "Client digest for {{ date }}",
            "<div>{{ manager }}, here is the digest of your clients.</div>\n"
            "<div><strong>Ending in the next 30 days</strong></div>\n"
            "<div>{% for l in expiring %}</div>\n"
            "<ul>\n<li>{{ l.company }}, {{ l.key }}: {{ l.product }} — {{ l.expiry }}</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            "<div><strong>New trials yesterday</strong></div>\n"
            "<div>{% for t in trials %}</div>\n"
            "<ul>\n<li>{{ t.company }}, {{ t.key }}: {{ t.product }}</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            "<div><strong>Problems yesterday</strong></div>\n"
            "<div>{% for p in problems %}</div>\n"
            "<ul>\n<li>{{ p.company }}, {{ p.key }}: {{ p.feature }} — {{ p.reason }} "
            "({{ p.count }})</li>\n</ul>\n"
            "<div>{% else %}</div>\n<div>—</div>\n<div>{% endfor %}</div>\n"
            '<div><a href="{{ cabinet_link }}">{{ cabinet_link }}</a></div>',
        ),
    },
}

# A manager generating a key usually tells the client himself: that mail waits to be switched on.
DISABLED_BY_DEFAULT = frozenset({MailKind.NEW_KEY})
TEMPLATE_KINDS = tuple(DEFAULTS)
