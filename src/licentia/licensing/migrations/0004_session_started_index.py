from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexWithoutLocking(migrations.AddIndex):
    """On PostgreSQL built concurrently: the sessions table takes captures all along, and a
    plain CREATE INDEX would hold them for as long as it reads the table."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            concurrently = AddIndexConcurrently(self.model_name, self.index)
            concurrently.database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            concurrently = AddIndexConcurrently(self.model_name, self.index)
            concurrently.database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    """The statistics rollup reads a day's sessions by their start."""

    atomic = False

    dependencies = [
        ("licensing", "0003_session_holds_until"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="session",
            index=models.Index(fields=["started_at"], name="session_started_idx"),
        ),
    ]
