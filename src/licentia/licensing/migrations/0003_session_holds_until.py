from django.db import migrations, models
from django.db.models import F


def fill_holds_until(apps, schema_editor):
    Session = apps.get_model("licensing", "Session")
    Session.objects.filter(binding="floating").update(holds_until=F("lease_expires_at"))
    Session.objects.filter(binding="bound").update(holds_until=F("bound_until"))


class Migration(migrations.Migration):
    """Sessions keep when they stop holding their seat; rate windows move to core (they are
    counted for an hour at most, so none is carried over)."""

    dependencies = [
        ("licensing", "0002_session_lease_unindexed"),
    ]

    operations = [
        migrations.DeleteModel(name="RateWindow"),
        migrations.AddField(
            model_name="session",
            name="holds_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="holds the seat until"),
        ),
        migrations.RunPython(fill_holds_until, migrations.RunPython.noop),
    ]
