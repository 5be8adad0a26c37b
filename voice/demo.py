"""Voice for seed_demo: a dozen signals across key moments and locations, supported from several
locations, one resolved with a "you said, we did" post, one overdue (its owner reminded, the admins told).

Written through the services, so owners, counts, timelines, posts and events are what the app
produces. Idempotent: an organisation that already has signals is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.demo import DemoContext
from feed.models import KeyMoment
from voice import survey_demo
from voice.models import Signal
from voice.services import signals as voice
from voice.services import signals_promise, signals_workflow

# (kind, title, body, key moment index or None, anonymous, visibility)
SIGNALS = [
    ("friction", "Klanten vragen om retour zonder bon", "Bijna elke dag: we mogen het niet, ze worden boos.", 3, False, "organization"),
    ("friction", "Kassa 3 valt 's ochtends uit", "De eerste twintig minuten moeten klanten omlopen.", 2, False, "organization"),
    ("idea", "Paraplu's bij de ingang als het regent", "Verkoopt goed en klanten blijven droog.", 0, False, "organization"),
    ("friction", "Geen tijd om klanten naar het schap te brengen", "Met twee man op de vloer lukt meelopen niet.", 1, True, "organization"),
    ("idea", "Wachtrij-bel bij de kassa", "Een bel zodat een collega ziet dat het druk is.", 2, False, "organization"),
    ("friction", "Rooster komt te laat", "We horen pas op vrijdag of we maandag werken.", None, True, "leaders"),
    ("idea", "Proeverij op zaterdag", "Nieuwe producten laten proeven verkoopt beter dan een folder.", 1, False, "organization"),
    ("friction", "Bonnenprinter loopt vast", "Papier loopt steeds vast bij de zelfscan.", 2, False, "organization"),
    ("friction", "Klanten vinden de glutenvrije producten niet", "Ze staan verspreid over drie schappen.", 1, False, "organization"),
    ("idea", "Afscheidsgroet op de bon", "Een korte bedankt-tekst onderaan de kassabon.", 4, False, "organization"),
    ("friction", "Koelcel-deur sluit niet goed", "Vooral na de ochtendlevering blijft hij openstaan.", None, False, "leaders"),
    ("idea", "Vaste plek voor afhaalbestellingen", "Nu zoeken we elke keer waar de bestelling staat.", 2, False, "organization"),
]
RESOLUTION = "Vanaf nu mag iedereen een retour tot 50 euro zonder bon afhandelen, met een handtekening van de klant."


def seed(context: DemoContext) -> None:
    """Each part seeds its own demo content, idempotently: surveys (voice/survey_demo.py), then signals."""
    survey_demo.seed(context)
    seed_signals(context)


def seed_signals(context: DemoContext) -> None:
    organization = context.organization
    if Signal.objects.filter(organization=organization).exists():
        return
    key_moments = list(KeyMoment.objects.filter(organization=organization).order_by("position", "id"))
    people, locations = context.employees, context.locations
    signals = []
    for index, (kind, title, body, moment, anonymous, visibility) in enumerate(SIGNALS):
        author = people[index % len(people)]
        signals.append(
            voice.signal_create(
                author=author,
                kind=kind,
                title=title,
                body=body,
                key_moment_id=key_moments[moment].pk if moment is not None and moment < len(key_moments) else None,
                group_id=locations[index % len(people) % len(locations)].pk,
                visibility=visibility,
                anonymous=anonymous,
            )
        )
    # Support from several locations: the first signals are the most recognised.
    for index, signal in enumerate(signals[:8]):
        for supporter in people[index + 1 : index + 1 + (12 - index)]:
            if supporter.pk != signal.author_id and signal.visibility == "organization":
                where = supporter.memberships.filter(group__in=locations).values_list("group_id", flat=True).first()
                voice.signal_support(user=supporter, signal=signal, group_id=where, note="Bij ons ook.")
    leader = context.leaders[0]
    resolved = signals[0]
    signals_workflow.signal_set_status(actor=context.admin, signal=resolved, status="in_progress", message="We bespreken het met de regio.")
    signals_workflow.signal_set_status(actor=context.admin, signal=resolved, status="resolved", message=RESOLUTION, announce=True)
    signals_workflow.signal_set_status(
        actor=context.admin, signal=signals[2], status="acknowledged", message="Goed idee, we kijken ernaar."
    )
    signals_workflow.signal_assign(actor=context.admin, signal=signals[4], owner_id=leader.pk)
    # One overdue: raised long ago and never answered; the promise task reminds and escalates it.
    overdue = signals[1]
    Signal.objects.filter(pk=overdue.pk).update(created_at=timezone.now() - timedelta(hours=organization.voice_first_response_hours * 3))
    signals_promise.signals_promise_process()
