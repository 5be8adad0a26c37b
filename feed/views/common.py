"""What the feed's views share: a post's card as the answer, an id from the query string."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.response import Response

from feed import selectors
from feed.cards import post_card
from server.api.exceptions import ValidationFailed
from server.api.fields import MAX_ID


def _card(request, post_id: int) -> Response:
    post = selectors.access_post(user=request.user, post_id=post_id)
    return Response(post_card(post=post, viewer=request.user))


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(_("%(name)s must be a number.") % {"name": name}, fields={name: [_("Must be a number.")]})
    if not 1 <= value <= MAX_ID:
        raise ValidationFailed(_("%(name)s is not a valid id.") % {"name": name}, fields={name: [_("Not a valid id.")]})
    return value
