"""What a push says and carries, built from the event's own payload.

notifications imports no feature app (DESIGN.md): every word comes from the
event payload the emitting service wrote, translated with Django's i18n
(`locale/<lang>/LC_MESSAGES/django.po`) in the recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

EXCERPT_LENGTH = 120


class PushType(StrEnum):
    """One per preference switch and per Android notification channel."""

    ANNOUNCEMENT = "announcement"
    POST = "post"
    MENTION = "mention"
    COMMENT = "comment"
    REACTION = "reaction"
    KUDOS = "kudos"
    AWARD = "award"
    NOMINATION = "nomination"  # a kind of award news: shares the `award` switch
    GOAL = "goal"
    KEY_MOMENT = "key_moment"
    # Reports for moderators, decisions about your content, outcomes of your reports:
    # service messages without a switch (quiet hours still apply).
    MODERATION = "moderation"


# The preference column that switches each type on or off (none for moderation).
PREFERENCE_FIELD: dict[PushType, str] = {t: t.value for t in PushType if t != PushType.MODERATION} | {PushType.NOMINATION: "award"}
PREFERENCE_FIELDS = ("announcement", "post", "mention", "comment", "reaction", "kudos", "award", "goal", "key_moment")

# Android channel ids (the app creates these channels); acknowledgement-required
# announcements get their own high-importance channel.
CHANNEL: dict[PushType, str] = {
    PushType.ANNOUNCEMENT: "announcements",
    PushType.POST: "posts",
    PushType.MENTION: "mentions",
    PushType.COMMENT: "comments",
    PushType.REACTION: "reactions",
    PushType.KUDOS: "recognition",
    PushType.AWARD: "recognition",
    PushType.NOMINATION: "recognition",
    PushType.GOAL: "goals",
    PushType.KEY_MOMENT: "goals",
    PushType.MODERATION: "moderation",
}
CHANNEL_REQUIRED = "announcements_required"

# Inbox reasons (realtime's NotificationReason) and emitters' "reaction" → push type.
REASON_TYPES: dict[str, PushType] = {
    "mention": PushType.MENTION,
    "comment": PushType.COMMENT,
    "announcement": PushType.ANNOUNCEMENT,
    "kudos": PushType.KUDOS,
    "award": PushType.AWARD,
    "nomination": PushType.NOMINATION,
    "reaction": PushType.REACTION,
    "moderation": PushType.MODERATION,
}


def normalized(*, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its own id also under `<entity>_id` (a post card's `id` is `post_id`).

    Event payloads are the API's cards, whose id is plain `id`; deep links and
    collapse keys want to know what the id is of.
    """
    entity = event_type.split(".", 1)[0]
    key = f"{entity}_id"
    if key not in payload and payload.get("id") is not None:
        return payload | {key: payload["id"]}
    return payload


@dataclass(frozen=True)
class PushText:
    title: str
    body: str


def actor_name(payload: dict[str, Any]) -> str:
    for key in ("actor", "author", "giver", "by"):
        value = payload.get(key)
        if isinstance(value, dict) and value.get("name"):
            return str(value["name"])
    return str(payload.get("actor_name") or payload.get("author_name") or "")


def excerpt(payload: dict[str, Any]) -> str:
    text = payload.get("excerpt") or payload.get("body") or payload.get("message") or payload.get("note") or payload.get("reason") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1].rstrip() + "…"


def _named(payload: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict) and (value.get("name") or value.get("title")):
            return str(value.get("name") or value.get("title"))
        if isinstance(value, str) and value:
            return value
    return ""


def _report_reason(reason: str) -> str:
    return {
        "harassment": _("harassment"),
        "inappropriate": _("inappropriate content"),
        "spam": _("spam"),
        "confidential": _("confidential information"),
        "other": _("other"),
    }.get(reason, reason)


def _content_name(target_type: str) -> str:
    return {"post": _("Your post"), "comment": _("Your comment")}.get(target_type, _("Your content"))


def moderation_text(*, event_type: str, payload: dict[str, Any]) -> PushText:
    """Texts of report.created (moderators), moderation.decided (author), report.resolved (reporters)."""
    note = excerpt({"note": payload.get("note", "")})
    action = payload.get("action", "")
    if event_type == "report.created":
        if payload.get("source") == "keyword":
            title = _("Flagged for review: matched keywords")
        else:
            title = _("New report: %(reason)s") % {"reason": _report_reason(payload.get("reason", ""))}
        return PushText(title, excerpt({"excerpt": payload.get("excerpt", "")}))
    if event_type == "moderation.decided":
        if action == "mute":
            return PushText(_("You are muted until %(until)s") % {"until": str(payload.get("muted_until", ""))[:10]}, note)
        if action == "unmute":
            return PushText(_("You can post again"), note)
        content = _content_name(payload.get("target_type", ""))
        title = {
            "hide": _("%(content)s was hidden by a moderator"),
            "remove": _("%(content)s was removed by a moderator"),
            "restore": _("%(content)s is visible again"),
            "auto_hide": _("%(content)s is hidden while a moderator looks at reports"),
        }.get(action, _("%(content)s was reviewed by a moderator"))
        return PushText(title % {"content": content}, note)
    if event_type == "report.resolved":
        body = _("Action was taken. Thank you for reporting.") if action in ("hide", "remove") else _("No action was needed.")
        return PushText(_("Your report was reviewed"), body)
    return PushText(_("Moderation"), note)


def render(
    *, push_type: PushType, payload: dict[str, Any], requires_ack: bool, personal: bool, language: str, event_type: str = ""
) -> PushText:
    """Title and body in `language` (English for languages without a catalogue).

    `personal`: the recipient is addressed by the event (the kudos is theirs, the
    award is theirs), not merely in its audience.
    """
    with translation.override(language):
        if push_type == PushType.MODERATION:
            return moderation_text(event_type=event_type, payload=payload)
        actor = actor_name(payload) or pgettext("push actor fallback", "A colleague")
        snippet = excerpt(payload)
        award = _named(payload, "award", "category", "award_name")
        title_of = _named(payload, "goal", "key_moment", "title")
        if push_type == PushType.ANNOUNCEMENT and requires_ack:
            return PushText(_("Please read and confirm"), _("%(actor)s: %(excerpt)s") % {"actor": actor, "excerpt": snippet})
        match push_type:
            case PushType.ANNOUNCEMENT:
                return PushText(_("Announcement from %(actor)s") % {"actor": actor}, snippet)
            case PushType.POST:
                return PushText(_("New post by %(actor)s") % {"actor": actor}, snippet)
            case PushType.MENTION:
                return PushText(_("%(actor)s mentioned you") % {"actor": actor}, snippet)
            case PushType.COMMENT:
                return PushText(_("%(actor)s commented on your post") % {"actor": actor}, snippet)
            case PushType.REACTION:
                return PushText(_("New reactions to your post"), _("%(actor)s reacted to your post") % {"actor": actor})
            case PushType.KUDOS:
                return PushText(_("%(actor)s gave you kudos") % {"actor": actor}, snippet)
            case PushType.AWARD:
                if not personal:
                    winner = _named(payload, "winner", "nominee") or actor
                    return PushText(_("%(winner)s won %(award)s") % {"winner": winner, "award": award}, snippet)
                return PushText(_("You won %(award)s!") % {"award": award}, snippet or _("Congratulations!"))
            case PushType.NOMINATION:
                return PushText(_("You were nominated for %(award)s") % {"award": award}, snippet)
            case PushType.GOAL:
                return PushText(_("Goal update: %(title)s") % {"title": title_of}, snippet)
            case PushType.KEY_MOMENT:
                return PushText(_("Key moment updated: %(title)s") % {"title": title_of}, snippet)
    raise ValueError(f"no text for push type {push_type!r}")


def _id(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if value is None:
        nested = payload.get(key.removesuffix("_id"))
        value = nested.get("id") if isinstance(nested, dict) else None
    return "" if value is None else str(value)


def deep_link(*, push_type: PushType, payload: dict[str, Any]) -> str:
    """An app route for the tap: the same ids the REST paths use."""
    post_id, comment_id = _id(payload, "post_id"), _id(payload, "comment_id")
    if push_type in (PushType.COMMENT, PushType.MENTION) and post_id and comment_id:
        return f"posts/{post_id}/comments/{comment_id}"
    if push_type == PushType.KUDOS and _id(payload, "kudos_id"):
        return f"kudos/{_id(payload, 'kudos_id')}"
    if push_type in (PushType.AWARD, PushType.NOMINATION) and _id(payload, "round_id"):
        return f"awards/rounds/{_id(payload, 'round_id')}"
    if push_type == PushType.GOAL and _id(payload, "goal_id"):
        return f"goals/{_id(payload, 'goal_id')}"
    if push_type == PushType.KEY_MOMENT and _id(payload, "key_moment_id"):
        return f"key-moments/{_id(payload, 'key_moment_id')}"
    if push_type == PushType.MODERATION and _id(payload, "report_id"):
        return f"moderation/reports/{_id(payload, 'report_id')}"
    if post_id:
        return f"posts/{post_id}"
    return "notifications"


ID_KEYS = ("report_id", "post_id", "comment_id", "kudos_id", "round_id", "category_id", "nomination_id", "goal_id", "key_moment_id")


def data_payload(*, event_id: str, event_type: str, push_type: PushType, payload: dict[str, Any], requires_ack: bool) -> dict[str, str]:
    """FCM data (string values only): what the app needs to route the tap and de-duplicate."""
    data = {
        "event_id": event_id,
        "event_type": event_type,
        "push_type": push_type.value,
        "link": deep_link(push_type=push_type, payload=payload),
    }
    for key in ID_KEYS:
        if value := _id(payload, key):
            data[key] = value
    if actor := payload.get("actor_id") or _id(payload, "actor_id") or _id(payload, "author_id"):
        data["actor_id"] = str(actor)
    if requires_ack:
        data["requires_acknowledgement"] = "true"
    return data


def collapse_key(*, push_type: PushType, payload: dict[str, Any], event_id: str) -> str:
    """Pushes with the same key replace each other on the phone: ten reactions ring once."""
    post_id = _id(payload, "post_id")
    if push_type == PushType.REACTION and post_id:
        return f"reactions-{post_id}"
    if push_type == PushType.COMMENT and post_id:
        return f"comments-{post_id}"
    if push_type in (PushType.ANNOUNCEMENT, PushType.POST) and post_id:
        return f"post-{post_id}"
    if push_type == PushType.GOAL and _id(payload, "goal_id"):
        return f"goal-{_id(payload, 'goal_id')}"
    if push_type == PushType.KEY_MOMENT and _id(payload, "key_moment_id"):
        return f"key-moment-{_id(payload, 'key_moment_id')}"
    return f"event-{event_id}"
