"""Markers: an anonymous signal's author (name, id, avatar) appears in no response to anyone else.

The author's name is a unique marker and they have an avatar. Their anonymous signal is
supported, answered, merged into, announced ("you said, we did") and commented on, with every
event delivered. Then every GET route of the URLconf is walked as each other person of the
organisation (collection routes, and routes whose parameters are the signal, the announcement
post, the viewer themselves or the group), with and without a search for the signal: any
response that shows the signal must not show its author. The signal routes must not show them
at all, and neither may the WebSocket stream.
"""

from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from accounts.models import MembershipRole
from feed import services as feed_services
from media.models import UserAvatar
from server.routing import websocket_urlpatterns
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory, issue_token
from tests.media.factories import ready_media
from tests.security.harness import PUBLIC_ROUTES, all_routes
from voice.services import signals as voice
from voice.services import signals_promise, signals_workflow

RESOLUTION = "The desk may now grant late check-out until 13:00 itself."
VIEWERS = ("colleague", "supporter", "manager", "other_leader", "admin")


def _world(org):
    marker = f"ANON{uuid.uuid4().hex[:10].upper()}"
    group = GroupFactory(organization=org, kind="location")
    other = GroupFactory(organization=org, kind="location")
    author = MembershipFactory(group=group, user=UserFactory(organization=org, name=f"{marker} Author")).user
    avatar = ready_media(owner=author)
    UserAvatar.objects.create(user=author, media=avatar)
    people = {
        "author": author,
        "colleague": MembershipFactory(group=group, user=UserFactory(organization=org)).user,
        "supporter": MembershipFactory(group=other, user=UserFactory(organization=org)).user,
        "manager": MembershipFactory(group=group, role=MembershipRole.MANAGER, user=LeaderFactory(organization=org)).user,
        "other_leader": MembershipFactory(group=other, role=MembershipRole.MANAGER, user=LeaderFactory(organization=org)).user,
        "admin": AdminFactory(organization=org),
    }
    return marker, group, avatar, people


def _scenario(people, group, title: str):
    author = people["author"]
    signal = voice.signal_create(author=author, kind="friction", title=title, body=f"{title} body", group_id=group.pk, anonymous=True)
    voice.signal_support(user=people["supporter"], signal=signal, note="Same here")
    signals_workflow.signal_set_status(actor=people["manager"], signal=signal, status="in_progress", message="Asking the front office")
    # A second signal of theirs, merged into the first: the author becomes nothing visible.
    twin = voice.signal_create(author=author, kind="friction", title=f"{title} twin", body="b", group_id=group.pk, anonymous=True)
    signals_workflow.signal_merge(actor=people["admin"], signal=twin, into=signal)
    signals_workflow.signal_set_status(actor=people["manager"], signal=signal, status="resolved", message=RESOLUTION, announce=True)
    signal.refresh_from_db()
    feed_services.comment_create(author=people["colleague"], post=signal.announcement, body="Thanks!")
    # An open one past the promise: the reminder and the escalation reach their inboxes.
    late = voice.signal_create(author=author, kind="idea", title=f"{title} late", body="b", group_id=group.pk, anonymous=True)
    type(late).objects.filter(pk=late.pk).update(created_at=late.created_at.replace(year=late.created_at.year - 1))
    signals_promise.signals_promise_process()
    return signal


def _leaks(body: bytes, *, marker: str, author_id: int, avatar_id: int) -> list[str]:
    text = body.decode(errors="replace")
    found = []
    if marker in text:
        found.append("name")
    if f"/media/{avatar_id}/" in text:
        found.append("avatar")
    try:
        value = json.loads(text)
    except ValueError:
        return found

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("id") == author_id and "name" in node and "avatar" in node:  # a person, not a group (same id)
                found.append("person")
            for key in ("author_id", "user_id", "actor_id"):
                if node.get(key) == author_id:
                    found.append(key)
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return found


def test_no_route_shows_an_anonymous_author_to_anyone_else(api, org, django_capture_on_commit_callbacks):
    marker, group, avatar, people = _world(org)
    title = f"Signal {uuid.uuid4().hex[:8]}"
    with django_capture_on_commit_callbacks(execute=True):
        signal = _scenario(people, group, title)
    # Not vacuous: the author sees themselves on it, and the others see the signal.
    mine = api(people["author"]).get(f"/api/v1/signals/{signal.pk}").json()
    assert mine["author"]["id"] == people["author"].pk and mine["author"]["avatar"] is not None
    kwargs_for = {
        "signal_id": lambda viewer: signal.pk,
        "post_id": lambda viewer: signal.announcement_id,
        "user_id": lambda viewer: viewer.pk,
        "group_id": lambda viewer: group.pk,
    }
    routes = [
        route
        for route in all_routes()
        if route.is_api and route.name not in PUBLIC_ROUTES and "get" in route.methods and set(route.kwargs) <= set(kwargs_for)
    ]
    assert {"signal-list", "signal-detail", "signal-insights", "feed", "notification-list", "post-detail"} <= {r.name for r in routes}
    leaks, shown = [], 0
    for role in VIEWERS:
        viewer = people[role]
        client = api(viewer)
        for route in routes:
            path = reverse(route.name, kwargs={kwarg: kwargs_for[kwarg](viewer) for kwarg in route.kwargs})
            for params in ({}, {"page_size": 100}, {"search": title}, {"q": title}):
                response = client.get(path, params)
                if response.status_code >= 500:
                    leaks.append(f"{role} GET {path} {params}: {response.status_code}")
                body = b"".join(response.streaming_content) if response.streaming else response.content
                about_signal = title.encode() in body or route.name.startswith("signal-")
                if not about_signal:
                    continue
                shown += 1
                if found := _leaks(body, marker=marker, author_id=people["author"].pk, avatar_id=avatar.pk):
                    leaks.append(f"{role} GET {path} {params}: {found}")
    assert shown > 50
    assert not leaks, "\n".join(leaks)


@pytest.mark.django_db(transaction=True)
def test_the_stream_never_carries_an_anonymous_author():
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    marker, group, avatar, people = _world(org)
    application = URLRouter(websocket_urlpatterns)
    tokens = {role: issue_token(people[role]) for role in (*VIEWERS, "author")}

    async def scenario():
        streams = {}
        for role, token in tokens.items():
            communicator = WebsocketCommunicator(application, f"/ws/v1/stream?token={token}")
            connected, _ = await communicator.connect()
            assert connected
            streams[role] = communicator
        await sync_to_async(_scenario)(people, group, f"Signal {marker[-6:]}")
        frames: dict[str, list[str]] = {role: [] for role in streams}
        for role, communicator in streams.items():
            while not await communicator.receive_nothing(timeout=0.3):
                frames[role].append(await communicator.receive_from(timeout=1))
            await communicator.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    signal_frames = [frame for role in VIEWERS for frame in frames[role] if '"signal.' in frame]
    assert {json.loads(frame)["type"] for frame in signal_frames} >= {"signal.created", "signal.status_changed", "signal.supported"}
    for role in VIEWERS:
        for frame in frames[role]:
            assert not _leaks(frame.encode(), marker=marker, author_id=people["author"].pk, avatar_id=avatar.pk), (role, frame[:300])
