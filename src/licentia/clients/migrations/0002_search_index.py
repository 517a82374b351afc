from django.db import migrations

# On PostgreSQL the quick search's substring test is served by a trigram index. SQLite scans
# the (compact, normalised) search column, which is fast enough at the sizes it is meant for.
CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS clients_client_search_trgm "
    "ON clients_client USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS clients_client_search_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
