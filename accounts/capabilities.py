"""What `/me` tells the app a person may do, and the organisation settings an app needs (issue #22).

The app must not hard-code rules. Rules that rest on accounts' own data (roles, group
memberships, the organisation's switches) are computed here, in the form the feed enforces
them; rules and settings owned by apps above accounts come from a registry those apps fill
in their `AppConfig.ready()` (accounts imports no higher app, DESIGN.md):

    capabilities.register_person_value("kudos_left", kudos_left_of)            # recognition
    capabilities.register_organization_setting("survey_min_group_size", fn)    # voice
    capabilities.register_capability("create_surveys", fn)                     # voice

An unregistered person value or setting is None; an unregistered capability is False.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CAPABILITIES = ("post_org_wide", "post_group_ids", "announce", "create_goals", "moderate", "run_awards", "create_surveys")
PERSON_VALUES = ("kudos_left",)
ORGANIZATION_SETTINGS = ("leaderboard_enabled", "kudos_value_required", "survey_min_group_size", "voice_first_response_hours")

_capabilities: dict[str, Callable[[Any], Any]] = {}
_person_values: dict[str, Callable[[Any], Any]] = {}
_organization_settings: dict[str, Callable[[Any], Any]] = {}


def register_capability(name: str, compute: Callable[[Any], bool]) -> None:
    if name not in CAPABILITIES:
        raise ValueError(f"{name}: add it to accounts.capabilities.CAPABILITIES (and the /me schema) first")
    _capabilities[name] = compute


def register_person_value(name: str, compute: Callable[[Any], Any]) -> None:
    if name not in PERSON_VALUES:
        raise ValueError(f"{name}: add it to accounts.capabilities.PERSON_VALUES (and the /me schema) first")
    _person_values[name] = compute


def register_organization_setting(name: str, compute: Callable[[Any], Any]) -> None:
    if name not in ORGANIZATION_SETTINGS:
        raise ValueError(f"{name}: add it to accounts.capabilities.ORGANIZATION_SETTINGS (and the /me schema) first")
    _organization_settings[name] = compute


@dataclass(frozen=True)
class MyGroup:
    group_id: int
    role: str  # member | manager
    allow_member_posts: bool


def capabilities_of(user: Any, groups: list[MyGroup]) -> dict[str, Any]:
    """feed.services.posts._check_posting_rights in the app's terms: leaders and admins post
    everywhere; members post in their groups that allow it (managers always), org-wide when opened."""
    leader = user.role in ("leader", "admin")
    admin = user.role == "admin"
    muted = user.is_muted
    organization = user.organization
    post_group_ids = sorted(group.group_id for group in groups if leader or group.allow_member_posts or group.role == "manager")
    values: dict[str, Any] = {
        "post_org_wide": not muted and (leader or bool(organization and organization.org_wide_posting_open)),
        "post_group_ids": [] if muted else post_group_ids,
        "announce": not muted and leader,
        "create_goals": leader,
        "moderate": admin,
        "run_awards": admin,
        "create_surveys": False,
    }
    for name, compute in _capabilities.items():
        values[name] = bool(compute(user))
    return values


def person_values_of(user: Any) -> dict[str, Any]:
    return {name: (_person_values[name](user) if name in _person_values else None) for name in PERSON_VALUES}


def organization_settings_of(organization: Any) -> dict[str, Any]:
    if organization is None:
        return dict.fromkeys(ORGANIZATION_SETTINGS)
    values: dict[str, Any] = {
        "leaderboard_enabled": organization.leaderboard_enabled,
        "kudos_value_required": organization.kudos_value_required,
        "survey_min_group_size": None,
        "voice_first_response_hours": None,
    }
    for name, compute in _organization_settings.items():
        values[name] = compute(organization)
    return values
