from pathlib import Path

import polib

import licentia

LOCALE = Path(licentia.__file__).parent / "locale"


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
