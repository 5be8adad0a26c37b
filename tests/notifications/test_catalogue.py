"""One test over the event catalogue: every declared event type is complete.

For each type an app declares (`<app>/events.py`), its sample (`tests/<app>/event_samples.py`,
`SAMPLES`) raises it through the real services and delivers it. The test then asks:
- is it raised? the sample's services sent at least one frame of the type;
- does every frame match its declared shape? the AsyncAPI document's schema of the frame,
  strictly (no field the schema does not name);
- does every push it can send have a text in English and in Dutch, and a deep link?
- is it in the generated docs? a message of docs/asyncapi.json and a row of docs/realtime.md,
  both up to date.
Adding an event type is: declare it, emit it from a service, add its sample (docs/architecture.md).
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.conf import settings as django_settings

import tests
from accounts.models import MembershipRole
from notifications import asyncapi, catalogue, realtime
from notifications.catalogue import EventType
from notifications.push_texts import normalized, render
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory

DOCS = Path(django_settings.BASE_DIR) / "docs"
REGENERATE = "run `manage.py asyncapi --file docs/asyncapi.json --docs docs/realtime.md`"


def samples() -> dict[str, Any]:
    """SAMPLES of every tests/<app>/event_samples.py, by event type name."""
    found: dict[str, Any] = {}
    for package in pkgutil.iter_modules(tests.__path__):
        try:
            module = importlib.import_module(f"tests.{package.name}.event_samples")
        except ModuleNotFoundError as missing:
            if missing.name != f"tests.{package.name}.event_samples":
                raise
            continue
        for name, sample in module.SAMPLES.items():
            assert name not in found, f"two samples of {name}"
            found[name] = sample
    return found


@dataclass
class World:
    org: Any
    leader: Any
    admin: Any
    employee: Any
    colleague: Any
    group: Any
    settings: Any
    tmp_path: Path


@pytest.fixture
def world(db, settings, tmp_path):
    org = OrganizationFactory(org_wide_posting_open=True)
    group = GroupFactory(organization=org, name="Bakery")
    leader = LeaderFactory(organization=org, name="Lea Leader")
    MembershipFactory(group=group, user=leader, role=MembershipRole.MANAGER)
    employee, colleague = UserFactory(organization=org, name="Erin Bakker"), UserFactory(organization=org, name="Cas Visser")
    for person in (employee, colleague):
        MembershipFactory(group=group, user=person)
    return World(org, leader, AdminFactory(organization=org, name="Ada Admin"), employee, colleague, group, settings, tmp_path)


@pytest.fixture
def frames(monkeypatch) -> list[dict[str, Any]]:
    """Every event frame delivery sends, parsed, as the sockets would receive it."""
    sent: list[dict[str, Any]] = []

    def capture(messages) -> None:
        sent.extend(json.loads(message["text"]) for _group, message in messages if message.get("type") == "stream.event")

    monkeypatch.setattr(realtime, "group_send_many", capture)
    return sent


def strict(schema: Any) -> Any:
    """The schema with every object closed: a payload field the schema does not name is an error,
    unless it is null (a post card carries the other kinds' payload keys as null, which its
    variant by kind leaves out: a null carries nothing a client could miss)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: strict(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema and "oneOf" not in schema:
        schema["additionalProperties"] = {"type": "null"}
    return schema


def frame_validator(event_type: EventType) -> jsonschema.Draft7Validator:
    doc = copy.deepcopy(asyncapi.document())
    components = {**doc["components"], "schemas": strict(doc["components"]["schemas"])}
    frame = doc["components"]["messages"][event_type.name]["payload"]["$ref"]
    return jsonschema.Draft7Validator({"$ref": frame, "components": components}, format_checker=jsonschema.FormatChecker())


def pushes_to_render(event_type: EventType) -> list[tuple[Any, bool]]:
    """(push, personal) for everything the type can push: the audience's, and each reason's."""
    found = [(candidate.push, False) for candidate in event_type.audience_pushes]
    return found + [(reason.push, True) for reason in event_type.reasons if reason.push is not None]


@pytest.mark.parametrize("event_type", catalogue.event_types(), ids=lambda event_type: event_type.name)
def test_every_declared_event_type_is_raised_shaped_worded_linked_and_documented(
    event_type, world, frames, django_capture_on_commit_callbacks
):
    sample = samples().get(event_type.name)
    assert sample is not None, f"{event_type.name}: add a sample that raises it to SAMPLES in tests/<app>/event_samples.py"
    with django_capture_on_commit_callbacks(execute=True):
        sample(world)
    sent = [frame for frame in frames if frame["type"] == event_type.name]
    assert sent, f"{event_type.name}: its sample {sample.__module__}.{sample.__name__} raised none (emit it from a service)"

    validator = frame_validator(event_type)
    for frame in sent:
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(frame)]
        assert not problems, f"{event_type.name}: a frame does not match its declared payload {event_type.payload}: {problems}"

    for frame in sent:
        payload = normalized(event_type=event_type.name, payload=frame["data"])
        for push, personal in pushes_to_render(event_type):
            must_read = push.is_must_read(frame["data"])
            english, dutch = (
                render(push=push, event_type=event_type.name, payload=payload, personal=personal, must_read=must_read, language=language)
                for language in ("en", "nl")
            )
            assert english.title and dutch.title, f"{event_type.name}: push {push.kind!r} has no title"
            assert english.title != dutch.title, f"{event_type.name}: push {push.kind!r} has no Dutch text for {english.title!r}"
            assert push.links and catalogue.deep_link(push, payload), f"{event_type.name}: push {push.kind!r} has no deep link"

    document = asyncapi.document()
    assert event_type.name in document["components"]["messages"], f"{event_type.name}: not in the AsyncAPI document"
    assert f"| `{event_type.name}` |" in (DOCS / "realtime.md").read_text(encoding="utf-8"), (
        f"{event_type.name}: no row in docs/realtime.md"
    )


def test_every_sample_is_of_a_declared_type():
    declared = {event_type.name for event_type in catalogue.event_types()}
    assert set(samples()) <= declared, f"samples of undeclared types: {set(samples()) - declared}"


def test_the_asyncapi_document_is_valid_and_the_docs_are_up_to_date():
    document = asyncapi.document()
    assert asyncapi.validate(document) == []
    assert (DOCS / "asyncapi.json").read_text(encoding="utf-8") == asyncapi.dumps(), f"docs/asyncapi.json is out of date: {REGENERATE}"
    realtime_md = (DOCS / "realtime.md").read_text(encoding="utf-8")
    assert asyncapi.with_table(realtime_md) == realtime_md, f"the event table of docs/realtime.md is out of date: {REGENERATE}"


def test_the_validator_refuses_a_broken_document():
    # The validator must be able to fail: an operation with an unknown action, a $ref to nowhere.
    broken = copy.deepcopy(asyncapi.document())
    broken["operations"]["sendEvents"]["action"] = "publish"  # AsyncAPI 2's verb
    broken["components"]["messages"]["post.created"]["payload"] = {"$ref": "#/components/schemas/Nowhere"}
    problems = asyncapi.validate(broken)
    assert any("operations/sendEvents" in problem for problem in problems)
    assert any("Nowhere" in problem for problem in problems)


def test_the_document_is_served(api, db):
    response = api().get("/api/v1/asyncapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == asyncapi.document()
