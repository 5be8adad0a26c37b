"""Existing addresses to their canonical form (accounts.emails, issue #25 item 1).

Lookups now compare the canonical form exactly, so a row left in another form could not sign in.
Two rows whose addresses become the same canonical address (`ſam@` and `sam@`) cannot both have
it: a row already in that form keeps it, else the older; the other keeps its old spelling and is reported here, for an admin to
give it a real address (docs/operations.md). It cannot sign in until then, which is the point:
such a pair is the confusable-spelling attack this fixes.
"""

import unicodedata

from django.db import migrations


def _canonical(value):
    if not value:
        return value
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value.strip()).casefold()).strip()


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Invitation = apps.get_model("accounts", "Invitation")
    taken = set(User.objects.values_list("email", flat=True))
    for user in User.objects.exclude(email__isnull=True).order_by("pk").only("pk", "email").iterator():
        canonical = _canonical(user.email)
        if canonical == user.email:
            continue
        if canonical in taken:
            print(f"\n  accounts.0005: user {user.pk} keeps {user.email!r}: {canonical!r} belongs to another account")
            continue
        taken.add(canonical)
        User.objects.filter(pk=user.pk).update(email=canonical)
    for invitation in Invitation.objects.exclude(email="").only("pk", "email").iterator():
        canonical = _canonical(invitation.email)
        if canonical != invitation.email:
            Invitation.objects.filter(pk=invitation.pk).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_canonical_email_codes_outgoing_email")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
