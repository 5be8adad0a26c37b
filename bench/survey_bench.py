"""S1, pulse surveys against a real server: submitting to an open survey with a 100,000-person
audience, and the results of a survey with 20,000 responses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_benchsurvey REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/survey_bench.py [--audience 100000] [--responses 20000] [--requests 300]

Its own database, bulk-seeded once (a second run reuses it): one organisation of `--audience`
people in 20 groups, an open organisation-wide survey of five questions to submit to, and a
second one holding `--responses` anonymous responses (with their group tags and answers).
Starts the production server (bench/api_bench.py's Server), submits as `--requests` different
people one after another on 2 connections, then reads the results (whole survey, and one
group's breakdown). Writes the "Surveys (S1)" section and the S1 rows of the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import Server, django_setup, new_token
from bench.lib import REPORT, Sample, command_line, http_load, load_average, save_rows, stamp, write_section

SLUG = "bench-surveys"
GROUPS = 20
QUESTIONS = [
    {"kind": "scale_0_10", "text": "How likely are you to recommend working here?"},
    {"kind": "scale_1_5", "text": "Do you know this month's goal?"},
    {"kind": "scale_1_5", "text": "Can you solve a customer's problem without asking your manager?"},
    {"kind": "single_choice", "text": "What would help most?", "options": ["Hours", "Rosters", "Training", "Tools"]},
    {"kind": "text", "text": "Anything else?", "required": False},
]


def seed(*, audience: int, responses: int) -> dict:
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Group, Membership, Organization, Role, User
    from notifications.models import OutboxEvent
    from voice.models import Survey, SurveyAnswer, SurveyParticipation, SurveyResponse, SurveyResponseGroup
    from voice.services.surveys import survey_create

    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is not None:
        submit, results = Survey.objects.filter(organization=organization).order_by("pk")
        admin = User.objects.get(email="admin@bench-surveys.test")
        return {"organization": organization, "submit": submit, "results": results, "admin": admin}
    started = time.perf_counter()
    with transaction.atomic():
        organization = Organization.objects.create(name="Bench surveys", slug=SLUG, timezone="Europe/Amsterdam")
        admin = User.objects.create_user("admin@bench-surveys.test", organization=organization, name="Bench admin", role=Role.ADMIN)
        groups = Group.objects.bulk_create(Group(organization=organization, name=f"Store {n:02d}") for n in range(GROUPS))
        for start in range(0, audience, 10_000):
            people = User.objects.bulk_create(
                User(organization=organization, email=f"p{n}@bench-surveys.test", name=f"Person {n}", password="!")
                for n in range(start, min(audience, start + 10_000))
            )
            Membership.objects.bulk_create(Membership(group=groups[person.pk % GROUPS], user=person) for person in people)
        closes_at = timezone.now() + dt.timedelta(days=365)
        submit = survey_create(actor=admin, title="Submit here", questions=QUESTIONS, closes_at=closes_at)
        results = survey_create(actor=admin, title="Read results", questions=QUESTIONS, closes_at=closes_at)
        # The two opening events would tell 100,000 people twice: not what is measured here.
        OutboxEvent.objects.filter(organization=organization).delete()
    instance = results.instances.get()
    questions = list(results.questions.prefetch_related("options").order_by("position"))
    employees = User.objects.filter(organization=organization, role=Role.EMPLOYEE).order_by("pk")
    people = list(employees.values_list("pk", flat=True)[:responses])
    membership = dict(Membership.objects.filter(user_id__in=people).values_list("user_id", "group_id"))
    rng = random.Random(21)
    today = timezone.now().date()
    for start in range(0, len(people), 5_000):
        chunk = people[start : start + 5_000]
        with transaction.atomic():
            SurveyParticipation.objects.bulk_create(SurveyParticipation(instance=instance, user_id=pk) for pk in chunk)
            rows = [SurveyResponse(id=uuid.uuid4(), instance=instance, submitted_on=today) for _ in chunk]
            SurveyResponse.objects.bulk_create(rows)
            SurveyResponseGroup.objects.bulk_create(
                SurveyResponseGroup(response=row, group_id=membership[pk], instance=instance) for row, pk in zip(rows, chunk, strict=True)
            )
            answers = []
            choice_options = list(questions[3].options.all())
            for row in rows:
                answers += [
                    SurveyAnswer(response=row, instance=instance, question=questions[0], value=rng.randint(0, 10)),
                    SurveyAnswer(response=row, instance=instance, question=questions[1], value=rng.randint(1, 5)),
                    SurveyAnswer(response=row, instance=instance, question=questions[2], value=rng.randint(1, 5)),
                    SurveyAnswer(response=row, instance=instance, question=questions[3], option=rng.choice(choice_options)),
                ]
                if rng.random() < 0.1:
                    comment = f"Comment {rng.randint(0, 10**6)}"
                    answers.append(SurveyAnswer(response=row, instance=instance, question=questions[4], text=comment))
            SurveyAnswer.objects.bulk_create(answers, batch_size=5_000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now: index-only scans
    print(f"seeded {audience} people and {len(people)} responses in {time.perf_counter() - started:.0f} s", flush=True)
    return {"organization": organization, "submit": submit, "results": results, "admin": admin}


def submitters(*, organization, survey, count: int) -> list[str]:
    """Tokens of `count` people who have not answered `survey` yet (each request is a new person)."""
    from accounts.models import User
    from voice.models import SurveyParticipation

    answered = SurveyParticipation.objects.filter(instance__survey=survey).values("user_id")
    people = User.objects.filter(organization=organization, role="employee").exclude(pk__in=answered).order_by("-pk")[:count]
    return [new_token(person) for person in people]


def answers_body(survey, rng: random.Random) -> dict:
    questions = list(survey.questions.prefetch_related("options").order_by("position"))
    return {
        "answers": [
            {"question_id": questions[0].pk, "value": rng.randint(0, 10)},
            {"question_id": questions[1].pk, "value": rng.randint(1, 5)},
            {"question_id": questions[2].pk, "value": rng.randint(1, 5)},
            {"question_id": questions[3].pk, "option_ids": [rng.choice(list(questions[3].options.all())).pk]},
            {"question_id": questions[4].pk, "text": "Good team."},
        ]
    }


async def submit_load(base: str, path: str, tokens: list[str], body: dict, *, concurrency: int, warmup: int) -> Sample:
    import httpx

    sample = Sample()
    queue = iter(enumerate(tokens))
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def worker() -> None:
            for index, token in queue:
                started = time.perf_counter()
                response = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 201:
                    sample.errors += 1
                    continue
                if index < warmup:
                    continue  # each worker's first requests open connections and warm the caches
                sample.client_ms.append(elapsed)
                match = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
                if match:
                    sample.server_ms.append(float(match.group(1)))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.elapsed_s = time.perf_counter() - started
    return sample


def results_query_count(token: str, survey_id: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(f"/api/v1/surveys/{survey_id}/results")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/v1/surveys/{survey_id}/results").status_code == 200
    return len(captured.captured_queries)


def python_cpu(*, organization, submit, results, admin_token: str, count: int = 40) -> dict[str, float]:
    """CPU seconds of this process per request, in process (Django's test client): what a request costs in
    Python, which the machine's load does not inflate the way it does wall-clock latency."""
    from django.test import Client

    tokens = submitters(organization=organization, survey=submit, count=count)
    body = answers_body(submit, random.Random(2))
    submit_cpu, results_cpu = [], []
    for token in tokens:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        started = time.process_time()
        assert client.post(f"/api/v1/surveys/{submit.pk}/responses", body, content_type="application/json").status_code == 201
        submit_cpu.append((time.process_time() - started) * 1000)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    for _ in range(count // 2):
        started = time.process_time()
        assert client.get(f"/api/v1/surveys/{results.pk}/results").status_code == 200
        results_cpu.append((time.process_time() - started) * 1000)
    return {"submit": statistics.median(submit_cpu[5:]), "results": statistics.median(results_cpu[2:])}


def upsert_summary(rows: list[str]) -> None:
    """Put the S1 rows into the summary table of docs/benchmarks.md, replacing earlier S1 rows and keeping the rest."""
    if not REPORT.exists():
        return
    lines = REPORT.read_text().splitlines()
    lines = [line for line in lines if not line.startswith("| S1 |")]
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("| id | what |"))
    except StopIteration:
        return
    end = start
    while end + 1 < len(lines) and lines[end + 1].startswith("|"):
        end += 1
    REPORT.write_text("\n".join(lines[: end + 1] + rows + lines[end + 1 :]) + "\n")


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audience", type=int, default=100_000)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch docs/benchmarks.md")
    args = parser.parse_args()
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a fresh database, or one a release behind
    world = seed(audience=args.audience, responses=args.responses)
    submit, results = world["submit"], world["results"]
    warmup = 10
    admin_token = new_token(world["admin"])
    from voice.models import SurveyResponseGroup

    group_id = SurveyResponseGroup.objects.filter(response__instance__survey=results).values_list("group_id", flat=True).first()
    queries = results_query_count(admin_token, results.pk)
    cpu = python_cpu(organization=world["organization"], submit=submit, results=results, admin_token=admin_token)
    # After the in-process run: its people have answered, these have not.
    tokens = submitters(organization=world["organization"], survey=submit, count=args.requests + warmup * 2)
    body = answers_body(submit, random.Random(1))
    server = Server(workers=2)
    try:
        load_submit = load_average()
        path = f"/api/v1/surveys/{submit.pk}/responses"
        submitted = asyncio.run(submit_load(server.base, path, tokens, body, concurrency=2, warmup=warmup))
        # A control measured in the same minutes: `/me` (auth and two small queries; F5 of docs/benchmarks.md)
        # shows how much of a figure is this shared machine's load rather than the route.
        control = asyncio.run(http_load([f"{server.base}/api/v1/me"], token=admin_token, concurrency=2, total=args.requests // 2))
        load_results = load_average()
        url = f"{server.base}/api/v1/surveys/{results.pk}/results"
        whole = asyncio.run(http_load([url], token=admin_token, concurrency=1, total=args.requests // 2))
        by_group = asyncio.run(http_load([f"{url}?group={group_id}"], token=admin_token, concurrency=1, total=args.requests // 2))
    finally:
        server.stop()
    s, w, g, c = submitted.summary(), whole.summary(), by_group.summary(), control.summary()
    floor = f"control `GET /me` p50 {c['client_p50']:.1f}, p99 {c['client_p99']:.1f} ms"
    audience = f"{args.audience:,}"
    rows = [
        f"| S1 | submit to an open survey ({audience} audience), {s['n']} people, 2 connections | p99 ≤ 30 ms | "
        f"client p50 {s['client_p50']:.1f}, p99 {s['client_p99']:.1f} ms; server p99 {s['server_p99']:.1f} ms; "
        f"{s['errors']} errors | {floor} | | "
        f"{verdict(s['client_p99'] <= 30 and not s['errors'])} | {load_submit} |",
        f"| S1 | results of {args.responses:,} responses ({queries} queries) | p99 ≤ 150 ms | "
        f"client p50 {w['client_p50']:.1f}, p99 {w['client_p99']:.1f} ms; "
        f"`?group=` p50 {g['client_p50']:.1f}, p99 {g['client_p99']:.1f} ms | {floor} | | "
        f"{verdict(w['client_p99'] <= 150 and not w['errors'])} | {load_results} |",
    ]
    body_text = "\n".join(
        [
            stamp(),
            f"Command: `{command_line()}` against its own database (feedapp_benchsurvey), bulk-seeded: "
            f"{audience} people in {GROUPS} groups, an open organisation-wide survey of five questions (submitted to by a "
            f"different person each request, a text answer included) and one holding {args.responses:,} anonymous responses "
            "(results read by the admin, whole survey and one group's breakdown with its complement check). "
            "Server: bench/api_bench.py's production configuration, 2 worker processes. Client: httpx from this process, "
            "the first requests of each connection not counted.",
            f"Python CPU per request, in process (median, load-independent): submit {cpu['submit']:.1f} ms, "
            f"results {cpu['results']:.1f} ms. The control (`GET /me`, F5 in the summary) says how loaded the machine was: "
            "a verdict taken at a load average far above 2 measures the queue for the CPU as much as the route.",
            "",
            "| id | what | target | measured | floor | ratio | verdict | load avg |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body_text)
    if not args.no_write:
        save_rows("survey", rows)
        write_section("Surveys (S1)", body_text)
        upsert_summary(rows)


if __name__ == "__main__":
    main()
