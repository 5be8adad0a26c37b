"""The one canonical form of an e-mail address, used wherever an address is stored or compared.

PostgreSQL's UPPER() and Python's lower() disagree on non-ASCII letters (`ı` U+0131 and `ſ`
U+017F upper-case to I and S): a login looked up one way and locked out the other way let
`vıctim@…` sign in past the lockout and `admın@…` sign in as `admin@…` (issue #25). Every
address is stored in this form and every lookup, lockout key, throttle key, invitation and
import row uses it, then compares exactly: each spelling either is the account (and shares its
lockout) or is nobody.
"""

from __future__ import annotations

import unicodedata


def canonical_email(value: str | None) -> str:
    """NFKC + casefold (Unicode's NFKC_Casefold, applied as NFKC(casefold(NFKC(x)))), trimmed.

    Compatibility forms fold to their letters (fullwidth `ａ`, Kelvin `K`, long `ſ`), case folds
    fully (`ß` → `ss`), and letters that are different letters stay different (`ı` is not `i`).
    """
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value.strip()).casefold())
    return folded.strip()


def validate_canonical_email(value: str) -> str:
    """The canonical form of an address we may store, or ValidationError.

    Django's validator matches its ASCII pattern case-insensitively, and Python's Unicode case
    folding lets exactly the look-alikes through (`ı` matches I, `İ` matches i). After
    canonicalisation `ſ` and `K` are plain letters; a local part that is still not ASCII is a
    look-alike of another address, and refused like any invalid address.
    """
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.utils.translation import gettext as _

    canonical = canonical_email(value)
    validate_email(canonical)
    if not canonical.rpartition("@")[0].isascii():
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    return canonical
