"""Recognition for seed_demo: company values, kudos, three award categories (one decided by a leader),
last month closed and announced, this month open with nominations.

Written through the services, so the kudos and award posts, results and audit records are
exactly what the app itself produces. Last month's nominations are inserted directly (its
round is already past, which the service rightly refuses) and then closed by the real close.
Idempotent: an organisation that already has company values is left alone.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.demo import DemoContext
from recognition.models import AwardCategory, CompanyValue, DecisionMethod, Nomination
from recognition.months import month_bounds, month_of, previous_month
from recognition.services import (
    award_category_create,
    award_round_close,
    award_round_ensure,
    award_round_pick_winner,
    kudos_give,
    nomination_create,
    value_create,
)

VALUES = [
    ("Service met een glimlach", "Elke klant gaat blij de deur uit.", "😊"),
    ("Samen sterk", "We springen voor elkaar in.", "💪"),
    ("Eigenaarschap", "Zien wat er moet gebeuren en het doen.", "🔑"),
    ("Altijd vers", "Kwaliteit die je ziet en proeft.", "🍎"),
]
CATEGORIES = [
    ("Collega van de maand", "Wie maakte het verschil voor het team?", "🏆", DecisionMethod.MOST_NOMINATIONS, False),
    ("Klantheld", "Het mooiste klantmoment van de maand.", "🦸", DecisionMethod.MOST_NOMINATIONS, True),
    ("Keuze van de leiding", "De filiaalleiding kiest uit de voordrachten.", "⭐", DecisionMethod.LEADER_PICK, False),
]
KUDOS = [
    "Dank je voor het overnemen van mijn dienst zaterdag!",
    "Thanks for helping that customer find the gluten-free shelf, she was so happy.",
    "Wat een strak opgeruimd magazijn, top gedaan!",
    "You handled the queue at the till like a pro during the rush.",
    "Bedankt voor het inwerken van de nieuwe collega's.",
    "Great idea to put the umbrellas near the entrance today ☔",
]
REASONS = [
    "Sprong drie keer in voor zieke collega's en bleef altijd vrolijk.",
    "Helped an elderly customer carry her shopping to the bus stop in the rain.",
    "Heeft de nieuwe kassa-procedure aan het hele team uitgelegd.",
    "Turned a complaint into a compliment with patience and a smile.",
]


def seed(context: DemoContext) -> None:
    organization = context.organization
    if CompanyValue.objects.filter(organization=organization).exists():
        return
    admin, people = context.admin, context.employees
    values = [
        value_create(actor=admin, name=name, description=description, emoji=emoji, position=index)
        for index, (name, description, emoji) in enumerate(VALUES)
    ]
    for index, message in enumerate(KUDOS):
        giver, recipient = people[index], people[(index * 3 + 1) % len(people)]
        kudos_give(giver=giver, recipient_ids=[recipient.pk], message=message, value_id=values[index % len(values)].pk)

    now = timezone.now()
    this_month = month_of(now, organization.timezone)
    last_month = previous_month(this_month)
    for name, description, icon, method, confidential in CATEGORIES:
        category = award_category_create(
            actor=admin, name=name, description=description, icon=icon, method=method, confidential=confidential
        )
        _last_month_announced(context, category, last_month)
        current = category.rounds.get(month=this_month)
        for index, reason in enumerate(REASONS[:3]):
            nomination_create(nominator=people[index + 10], round=current, nominee_id=people[index + 20].pk, reason=reason)


def _last_month_announced(context: DemoContext, category: AwardCategory, month: dt.date) -> None:
    round = award_round_ensure(category=category, month=month)
    people = context.employees
    opens_at, _closes_at = month_bounds(month, category.organization.timezone)
    for index, reason in enumerate(REASONS):
        nominee = people[2 + (index % 2)]
        nomination = Nomination.objects.create(round=round, nominator=people[5 + index], nominee=nominee, reason=reason)
        Nomination.objects.filter(pk=nomination.pk).update(created_at=opens_at + dt.timedelta(days=3 + index))
    award_round_close(round_id=round.pk, actor=context.admin)
    if category.method == DecisionMethod.LEADER_PICK:
        award_round_pick_winner(actor=context.leaders[0], round_id=round.pk, nominee_id=people[3].pk)
