from django.db import migrations

# The four cabinet roles. Their permissions are kept exact by licentia.core.roles after every
# migrate, as each app's models (and so their permissions) come into being.
ROLE_NAMES = ("Полный доступ", "Только просмотр", "Техподдержка", "Продажи и клиенты")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
