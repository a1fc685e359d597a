"""Membership transfers get their own permission, ``membership.transfer_member`` (issue 11).

On a node that already runs, the ``union_officer`` role keeps transferring: the permission is made
here and given to that role (what ``roles_sync`` would give it); other roles that may change
members do not gain it.
"""

from django.db import migrations


def grant_to_union_officers(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("core", "Role")
    content_type, _created = ContentType.objects.get_or_create(app_label="membership", model="member")
    permission, _created = Permission.objects.get_or_create(
        content_type=content_type, codename="transfer_member", defaults={"name": "办理会员关系转接"}
    )
    for role in Role.objects.filter(code="union_officer"):
        role.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0004_member_import_job_status"),
        ("core", "0005_person_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="member",
            options={
                "ordering": ["-joined_on", "-pk"],
                "permissions": [("transfer_member", "办理会员关系转接")],
                "verbose_name": "会员",
                "verbose_name_plural": "会员",
            },
        ),
        migrations.RunPython(grant_to_union_officers, migrations.RunPython.noop),
    ]
