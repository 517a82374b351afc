import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_every_model_change_has_its_migration() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_existing_search_tokens_with_punctuation_are_marked_compound() -> None:
    executor = MigrationExecutor(connection)
    before = [("clients", "0001_initial")]
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    client = old_apps.get_model("clients", "Client").objects.create(company="ООО Ромашка")
    tokens = ["ромашка", "buh@romashka.ru", "b7e1-guid", "snake_case", "2024"]
    for token in tokens:
        old_apps.get_model("clients", "ClientSearchToken").objects.create(
            client=client, token=token
        )

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    new_apps = executor.loader.project_state(latest).apps
    marked = dict(
        new_apps.get_model("clients", "ClientSearchToken").objects.values_list("token", "simple")
    )

    assert marked == {
        "ромашка": True,
        "buh@romashka.ru": False,
        "b7e1-guid": False,
        "snake_case": False,
        "2024": True,
    }
