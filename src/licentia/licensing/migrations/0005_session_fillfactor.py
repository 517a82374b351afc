from django.db import migrations


def _fillfactor(percent: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE licensing_session SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    """On PostgreSQL each page of sessions keeps room for its rows' next versions: a heartbeat
    then writes its session's new version in the same page and no index entry (a HOT update),
    where a full page sends it elsewhere and into every index of the table (bench/RESULTS.md,
    "Room for heartbeats"). Changing the setting takes no lock that holds captures."""

    dependencies = [
        ("licensing", "0004_session_started_index"),
    ]

    operations = [migrations.RunPython(_fillfactor(70), _fillfactor(100))]
