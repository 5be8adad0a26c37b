"""Generate a company at scale straight into PostgreSQL with COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench .venv/bin/python bench/seed.py [--scale 1.0] [--reset]

Scale 1.0: 1 organisation with 100,000 users and 1,000 groups (each user in 1-3),
1,000,000 posts over two years (org-wide and group audiences, every kind),
3,000,000 reactions, 1,000,000 comments, 200,000 kudos, 24 months of award rounds,
plus a second, smaller organisation to keep tenancy filters honest. `--scale 0.01`
gives the small data set the CI smoke test uses.

Rows are built from the Django models' own column lists (defaults filled in), so a
new NOT NULL column does not silently break the seed. Re-running without --reset
reuses a seed of the same scale (see bench/.data/seed-<database>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / ".data"
BENCH_PASSWORD = "bench-password-2026"
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
TWO_YEARS = dt.timedelta(days=730)
REACTION_TYPES = ["like", "heart", "clap", "celebrate", "insightful"]
WORDS = [
    "klant",
    "service",
    "team",
    "winkel",
    "vandaag",
    "dank",
    "goed",
    "werk",
    "samen",
    "kassa",
    "vers",
    "magazijn",
    "display",
    "actie",
    "customer",
    "great",
    "job",
    "thanks",
    "shift",
    "store",
    "today",
    "together",
    "display",
    "promo",
    "smile",
    "helped",
]


def model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _plain(field: models.Field, value):
    if isinstance(field, models.JSONField):
        return Jsonb(value)
    return value


def copy_rows(label: str, rows: Iterable[dict]) -> int:
    """COPY dict rows into the model's table; columns absent from a row get the field default."""
    target = model(label)
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    rows = itertools.chain([first], rows)
    # Rows that carry their id (reserved with next_ids) keep it; others take the sequence's.
    fields = [f for f in target._meta.concrete_fields if not (f.primary_key and f.attname not in first)]
    defaults = {}
    for field in fields:
        if field.has_default() or not field.null:
            # Django's own default: "" for text without one, a callable's value otherwise.
            defaults[field.attname] = field.get_default()
        else:
            defaults[field.attname] = None
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        with raw.copy(f"COPY {connection.ops.quote_name(target._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for field in fields:
                    if field.attname in row:
                        value = row[field.attname]
                    elif field.attname in defaults:
                        value = defaults[field.attname]
                    else:
                        raise KeyError(f"{label}.{field.attname} needs a value in the seed")
                    values.append(_plain(field, value))
                copy.write_row(values)
                written += 1
    return written


def next_ids(label: str, count: int) -> range:
    """Reserve `count` consecutive ids from the table's sequence, so rows can reference each other."""
    table = model(label)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count])
    return range(first, first + count)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed(scale: float, rng: random.Random) -> dict:
    counts: dict[str, int] = {}
    started = time.perf_counter()
    n_users = max(50, int(100_000 * scale))
    n_groups = max(10, int(1_000 * scale))
    n_posts = max(200, int(1_000_000 * scale))
    n_reactions = int(3_000_000 * scale)
    n_comments = int(1_000_000 * scale)
    n_kudos = int(200_000 * scale)
    password = make_password(BENCH_PASSWORD)

    organization = model("accounts.Organization")
    big = organization.objects.create(name="Bench Retail", slug="bench-retail", timezone="Europe/Amsterdam", default_language="nl")
    small = organization.objects.create(name="Bench Other", slug="bench-other", timezone="America/New_York", default_language="en")

    # --- people and groups -----------------------------------------------------------------
    def people(org_id: int, ids: range, prefix: str) -> Iterator[dict]:
        for position, user_id in enumerate(ids):
            role = "admin" if position == 0 else "leader" if position % 50 == 1 else "employee"
            yield {
                "id": user_id,
                "organization_id": org_id,
                "email": f"{prefix}{position}@bench.example",
                "name": f"Bench {prefix.title()} {position:06d}",
                "role": role,
                "password": password,
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "date_joined": NOW - TWO_YEARS,
            }

    user_ids = next_ids("accounts.User", n_users)
    other_user_ids = next_ids("accounts.User", 50)
    counts["users"] = copy_rows("accounts.User", people(big.pk, user_ids, "user"))
    counts["users"] += copy_rows("accounts.User", people(small.pk, other_user_ids, "other"))

    group_ids = next_ids("accounts.Group", n_groups)
    other_group_ids = next_ids("accounts.Group", 5)
    n_locations = int(n_groups * 0.7)

    def groups() -> Iterator[dict]:
        for position, group_id in enumerate(group_ids):
            kind = "location" if position < n_locations else "team"
            yield {
                "id": group_id,
                "organization_id": big.pk,
                "name": f"{kind.title()} {position:04d}",
                "kind": kind,
                "allow_member_posts": True,
                "created_at": NOW - TWO_YEARS,
            }
        for position, group_id in enumerate(other_group_ids):
            yield {
                "id": group_id,
                "organization_id": small.pk,
                "name": f"Other {position}",
                "kind": "team",
                "allow_member_posts": True,
                "created_at": NOW - TWO_YEARS,
            }

    counts["groups"] = copy_rows("accounts.Group", groups())

    members_of: dict[int, list[int]] = {group_id: [] for group_id in group_ids}

    def memberships() -> Iterator[dict]:
        for user_id in user_ids:
            chosen = {group_ids[rng.randrange(n_locations)]}
            for _ in range(rng.choice([0, 1, 1, 2])):
                chosen.add(group_ids[n_locations + rng.randrange(n_groups - n_locations)])
            for group_id in chosen:
                members_of[group_id].append(user_id)
                yield {"group_id": group_id, "user_id": user_id, "role": "member", "created_at": NOW - TWO_YEARS}
        for user_id in other_user_ids:
            yield {"group_id": other_group_ids[user_id % 5], "user_id": user_id, "role": "member", "created_at": NOW - TWO_YEARS}

    counts["memberships"] = copy_rows("accounts.Membership", memberships())

    # --- posts ------------------------------------------------------------------------------
    post_ids = next_ids("feed.Post", n_posts)
    kinds = ["post"] * 62 + ["announcement"] * 8 + ["kudos"] * 20 + ["goal_update"] * 6 + ["key_moment"] * 4
    post_kind: dict[int, str] = {}
    post_groups: list[tuple[int, int]] = []
    published: dict[int, dt.datetime] = {}
    step = TWO_YEARS / n_posts

    def posts() -> Iterator[dict]:
        for position, post_id in enumerate(post_ids):
            kind = rng.choice(kinds)
            at = NOW - TWO_YEARS + step * position + dt.timedelta(seconds=rng.random())
            org_wide = kind in ("announcement", "goal_update", "key_moment") or rng.random() < 0.15
            if not org_wide:
                for group_id in rng.sample(group_ids, 2 if rng.random() < 0.1 else 1):
                    post_groups.append((post_id, group_id))
            post_kind[post_id] = kind
            published[post_id] = at
            author = user_ids[rng.randrange(n_users)]
            card = {}
            if kind == "kudos":
                recipient = user_ids[rng.randrange(n_users)]
                card = {"recipients": [{"id": recipient, "name": f"Bench User {recipient}"}], "value": None}
            yield {
                "id": post_id,
                "organization_id": big.pk,
                "author_id": author,
                "kind": kind,
                "body": sentence(rng, rng.randint(6, 40)),
                # The organisation writes Dutch: the search vector stems as Dutch (search.sql).
                "language": "nl",
                "card": card,
                "org_wide": org_wide,
                "created_at": at,
                "published_at": at,
                "updated_at": at,
                "pinned": False,
                "requires_acknowledgement": kind == "announcement" and rng.random() < 0.3,
            }

    counts["posts"] = copy_rows("feed.Post", posts())
    counts["post_groups"] = copy_rows("feed.PostGroup", ({"post_id": p, "group_id": g} for p, g in post_groups))
    # A few pinned announcements, as a real organisation has.
    pinned = [p for p in post_ids[-5000:] if post_kind[p] == "announcement"][:3]
    model("feed.Post").objects.filter(pk__in=pinned).update(pinned=True, pinned_at=NOW)

    # Other organisation: a handful of posts that must never leak.
    other_post_ids = next_ids("feed.Post", 200)
    counts["posts"] += copy_rows(
        "feed.Post",
        (
            {
                "id": post_id,
                "organization_id": small.pk,
                "author_id": other_user_ids[i % 50],
                "kind": "post",
                "body": "OTHER-ORG-MARKER " + sentence(rng, 8),
                "card": {},
                "org_wide": True,
                "created_at": NOW - dt.timedelta(hours=i),
                "published_at": NOW - dt.timedelta(hours=i),
                "updated_at": NOW - dt.timedelta(hours=i),
            }
            for i, post_id in enumerate(other_post_ids)
        ),
    )

    # --- reactions and comments ---------------------------------------------------------------
    def reactions() -> Iterator[dict]:
        remaining = n_reactions
        per_post = max(1, n_reactions // n_posts)
        for post_id in post_ids:
            if remaining <= 0:
                break
            k = min(remaining, rng.randint(0, per_post * 2))
            remaining -= k
            at = published[post_id]
            for user_id in rng.sample(user_ids, k):
                yield {"post_id": post_id, "user_id": user_id, "type": rng.choice(REACTION_TYPES), "created_at": at, "updated_at": at}

    counts["reactions"] = copy_rows("feed.Reaction", reactions())

    def comments() -> Iterator[dict]:
        for _ in range(n_comments):
            post_id = post_ids[rng.randrange(n_posts)]
            yield {
                "post_id": post_id,
                "author_id": user_ids[rng.randrange(n_users)],
                "body": sentence(rng, rng.randint(3, 20)),
                "language": "nl",
                "created_at": published[post_id] + dt.timedelta(minutes=rng.randint(1, 600)),
            }

    counts["comments"] = copy_rows("feed.Comment", comments())

    # --- recognition -----------------------------------------------------------------------------
    if apps.is_installed("recognition"):
        counts.update(seed_recognition(rng, big.pk, user_ids, [p for p in post_ids if post_kind[p] == "kudos"][:n_kudos], published))

    with connection.cursor() as cursor:
        # As autovacuum would have by now on a live deployment: statistics, and the visibility
        # map that index-only scans need (the audience rule's postgroup_by_group_idx; without it
        # the planner reads every post-group row of my groups from the heap: Q1 6 ms -> 2 ms).
        cursor.execute("VACUUM ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def seed_recognition(rng: random.Random, org_id: int, user_ids: range, kudos_posts: list[int], published: dict) -> dict:
    counts = {}
    value_ids = next_ids("recognition.CompanyValue", 4)
    counts["values"] = copy_rows(
        "recognition.CompanyValue",
        (
            {
                "id": v,
                "organization_id": org_id,
                "name": f"Value {i}",
                "emoji": "⭐",
                "active": True,
                "position": i,
                "created_at": NOW - TWO_YEARS,
            }
            for i, v in enumerate(value_ids)
        ),
    )
    kudos_ids = next_ids("recognition.Kudos", len(kudos_posts))
    givers = {}

    def kudos() -> Iterator[dict]:
        for kudos_id, post_id in zip(kudos_ids, kudos_posts, strict=True):
            giver = user_ids[rng.randrange(len(user_ids))]
            givers[kudos_id] = giver
            yield {
                "id": kudos_id,
                "organization_id": org_id,
                "giver_id": giver,
                "message": sentence(rng, 12),
                "language": "nl",
                "value_id": rng.choice(value_ids),
                "post_id": post_id,
                "created_at": published[post_id],
            }

    counts["kudos"] = copy_rows("recognition.Kudos", kudos())

    def recipients() -> Iterator[dict]:
        for kudos_id, post_id in zip(kudos_ids, kudos_posts, strict=True):
            recipient = user_ids[rng.randrange(len(user_ids))]
            if recipient == givers[kudos_id]:
                recipient = user_ids[(user_ids.index(recipient) + 1) % len(user_ids)]
            yield {"kudos_id": kudos_id, "recipient_id": recipient, "giver_id": givers[kudos_id], "created_at": published[post_id]}

    counts["kudos_recipients"] = copy_rows("recognition.KudosRecipient", recipients())

    category_ids = next_ids("recognition.AwardCategory", 3)
    copy_rows(
        "recognition.AwardCategory",
        (
            {
                "id": c,
                "organization_id": org_id,
                "name": f"Award {i}",
                "method": "most_nominations",
                "active": True,
                "created_at": NOW - TWO_YEARS,
            }
            for i, c in enumerate(category_ids)
        ),
    )
    rounds = []
    first = (NOW - TWO_YEARS).date().replace(day=1)

    def month_start(index: int) -> dt.date:
        years, month = divmod(first.month - 1 + index, 12)
        return dt.date(first.year + years, month + 1, 1)

    for month_index in range(24):
        month_date, next_month = month_start(month_index), month_start(month_index + 1)
        opens = dt.datetime(month_date.year, month_date.month, 1, tzinfo=dt.UTC)
        closes = dt.datetime(next_month.year, next_month.month, 1, tzinfo=dt.UTC)
        for category in category_ids:
            rounds.append(
                {
                    "organization_id": org_id,
                    "category_id": category,
                    "month": month_date,
                    "status": "announced",
                    "opens_at": opens,
                    "closes_at": closes,
                    "closed_at": closes,
                    "announced_at": closes,
                }
            )
    round_ids = next_ids("recognition.AwardRound", len(rounds))
    counts["award_rounds"] = copy_rows("recognition.AwardRound", ({**row, "id": rid} for row, rid in zip(rounds, round_ids, strict=True)))

    def nominations() -> Iterator[dict]:
        for round_id, row in zip(round_ids, rounds, strict=True):
            for nominator in rng.sample(user_ids, 40):
                nominee = user_ids[rng.randrange(len(user_ids))]
                if nominee != nominator:
                    yield {
                        "round_id": round_id,
                        "nominator_id": nominator,
                        "nominee_id": nominee,
                        "reason": sentence(rng, 15),
                        "created_at": row["opens_at"] + dt.timedelta(days=3),
                    }

    counts["nominations"] = copy_rows("recognition.Nomination", nominations())
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reset", action="store_true", help="drop everything and seed again")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/seed.py needs DATABASE_URL pointing at PostgreSQL")

    DATA_DIR.mkdir(exist_ok=True)
    database = connection.settings_dict["NAME"]
    state_file = DATA_DIR / f"seed-{database}.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if not args.reset and state.get("scale") == args.scale and state.get("database") == database:
        organization = model("accounts.Organization")
        if organization.objects.filter(slug="bench-retail").exists():
            print(f"Reusing the seed of scale {args.scale} in {database}: {state['counts']}")
            return
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    counts = seed(args.scale, random.Random(args.seed))
    state_file.write_text(json.dumps({"scale": args.scale, "database": database, "counts": counts}, indent=2))
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
