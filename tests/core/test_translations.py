from pathlib import Path

import polib

import licentia

LOCALE = Path(licentia.__file__).parent / "locale"
ROOT = Path(__file__).resolve().parents[2]


def test_every_russian_message_is_translated() -> None:
    catalog = polib.pofile(str(LOCALE / "ru/LC_MESSAGES/django.po"))

    assert catalog.untranslated_entries() == []
    assert catalog.fuzzy_entries() == []


def test_the_compiled_catalog_matches_its_source() -> None:
    source = polib.pofile(str(LOCALE / "ru/LC_MESSAGES/django.po"))
    compiled = polib.mofile(str(LOCALE / "ru/LC_MESSAGES/django.mo"))

    def messages(catalog: polib._BaseFile) -> dict[tuple[str | None, str], object]:
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr_plural or entry.msgstr
            for entry in catalog
            if not entry.obsolete
        }

    assert messages(compiled) == messages(source), "run scripts/makemessages to recompile"


def test_the_corrections_to_the_admin_scripts_are_compiled() -> None:
    source = polib.pofile(str(LOCALE / "ru/LC_MESSAGES/djangojs.po"))
    compiled = polib.mofile(str(LOCALE / "ru/LC_MESSAGES/djangojs.mo"))

    assert {e.msgid: e.msgstr for e in compiled} == {e.msgid: e.msgstr for e in source}
    assert all(" и и " not in entry.msgstr for entry in source)


def test_ci_checks_that_the_catalog_holds_every_message_of_the_code() -> None:
    ci = (ROOT / ".ci/run").read_text()
    check = (ROOT / "scripts/check-messages").read_text()

    assert "./scripts/check-messages" in ci
    assert "apt-get install -y -qq gettext" in check
    assert "untranslated_entries" in check
    assert "fuzzy_entries" in check
    assert "makemessages" in check
