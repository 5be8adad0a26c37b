"""A lived-in feed for seed_demo: a few hundred posts over two months, in Dutch and English.

Also three goals with progress, a five-step customer journey and a mandatory read.
History rows are bulk-inserted rather than created through the services: the services
would emit an event (outbox row, push) per post, and nobody should get 300 notifications
for history. Goals and key moments do go through their services (a handful of events),
so their feed posts and cards are exactly what the app will see. Each part is
idempotent on its own: what exists is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.demo import DemoContext
from accounts.models import Membership, User
from feed.models import (
    Acknowledgement,
    Comment,
    CommentMention,
    Goal,
    GoalUpdate,
    Post,
    PostGroup,
    PostKind,
    PostSeen,
    Reaction,
    ReactionType,
)
from feed.services import goals

POST_COUNT = 320

LOCATION_POSTS_NL = [
    "De nieuwe zomercollectie ligt vanaf vandaag in de schappen. Wie helpt morgen met ompakken?",
    "Top gedaan vandaag! Record aantal klanten geholpen bij de kassa 🎉",
    "Let op: de koeling in gang 4 wordt donderdag gerepareerd, graag producten verplaatsen.",
    "Wie kan zaterdag een dienst overnemen? Ik moet naar een bruiloft 💍",
    "De nieuwe pinautomaten werken super, klanten zijn blij.",
    "Vergeet niet: vrijdag teamlunch om 12:30 in de kantine 🥪",
    "Mooie reactie van een klant vandaag over onze service. Dank jullie wel!",
    "Het magazijn is weer helemaal opgeruimd, chapeau aan het avondteam 👏",
    "Heeft iemand de sleutel van het fietsenhok gezien?",
    "Kerstverlichting gaat volgende week op, wie wil helpen versieren?",
]
LOCATION_POSTS_EN = [
    "New shelf labels are in. Let's get them up before the weekend rush.",
    "Great teamwork today on the delivery, thank you all!",
    "Reminder: the staff room fridge gets cleaned on Friday.",
    "A customer left a lovely review mentioning our fresh section 🍎",
    "Anyone up for swapping my Sunday shift?",
    "The self-checkout update went live, let me know if you see issues.",
    "Thanks for covering for me yesterday, much appreciated.",
    "Tip: the new scanner app works offline too.",
]
ANNOUNCEMENTS = [
    ("nl", "Vanaf 1 december geldt een nieuwe kassaprocedure voor retouren. Lees de instructie en bevestig dat je hem gezien hebt."),
    ("en", "Our winter opening hours start next week: weekdays 8:00–21:00, Sundays 10:00–18:00. Please acknowledge."),
    ("nl", "Brandoefening op dinsdag om 10:00. Ken je de verzamelplaats? Bevestig even dat je dit gelezen hebt."),
    ("en", "Welcome to our new colleagues in Rotterdam! Say hi when you see them."),
    ("nl", "De personeelsenquête staat open tot het einde van de maand. Jouw mening telt!"),
    ("en", "Quarterly results: customer satisfaction is up 6 points. Thank you, everyone."),
]
COMMENTS = [
    "Goed bezig!",
    "Ik kan helpen 🙋",
    "Thanks for sharing!",
    "Super, dank je wel",
    "Count me in.",
    "Wat een mooi resultaat",
    "Noted 👍",
    "Ik neem het over.",
    "Great job team!",
    "Zie ik morgen, tot dan.",
]


GOALS = [
    {
        "title": "Klanttevredenheid naar 8,5",
        "why": "Tevreden klanten komen terug en vertellen het door.",
        "how_to_help": "Begroet iedere klant binnen tien seconden en vraag of je kunt helpen.",
        "target_value": Decimal("8.5"),
        "unit": "NPS-cijfer",
        "progress": [("7.6", "Eerste meting van het kwartaal."), ("7.9", "Utrecht scoort een 8,2!"), ("8.1", "Nog even doorzetten.")],
    },
    {
        "title": "Zero waste in de versafdeling",
        "why": "Minder weggooien is beter voor het milieu en voor de marge.",
        "how_to_help": "Prijs producten die bijna over datum zijn tijdig af en meld overschotten aan de voedselbank.",
        "target_value": Decimal("100"),
        "unit": "% minder derving",
        "progress": [("20", "Goede start in Rotterdam."), ("45", "Halverwege!")],
    },
    {
        "title": "Every colleague trained on the new checkout",
        "why": "A smooth checkout is the last impression a customer takes home.",
        "how_to_help": "Book your 30-minute session with your store manager.",
        "target_value": Decimal("40"),
        "unit": "colleagues",
        "progress": [("12", "First sessions done."), ("40", "Everyone is trained, thank you all!")],
    },
]
KEY_MOMENTS = [
    ("Binnenkomen", "De klant stapt de winkel in.", "Maak oogcontact en groet binnen tien seconden. Je mag het gesprek beginnen."),
    (
        "Zoeken en adviseren",
        "De klant zoekt een product of twijfelt.",
        "Loop mee naar het schap in plaats van te wijzen. Geef eerlijk advies.",
    ),
    (
        "Afrekenen",
        "De klant staat bij de kassa.",
        "Noem het totaalbedrag, bied een bon aan, en houd de rij kort: roep een collega bij meer dan drie wachtenden.",
    ),
    ("Retour of klacht", "Iets is niet goed gegaan.", "Luister eerst, bied dan een oplossing. Tot 50 euro mag je zelf beslissen."),
    ("Afscheid", "De klant verlaat de winkel.", "Bedank de klant en wens een fijne dag."),
]


def seed(context: DemoContext) -> None:
    _backdate_staff(context)
    _seed_history(context)
    _seed_goals_and_journey(context)
    _seed_mandatory_read(context)
    _seed_poll(context)


def _backdate_staff(context: DemoContext) -> None:
    """The history reaches 60 days back and the staff were there all along: joined (and in their
    groups) before it starts, so every post's reach counts them as its audience."""
    history_start = timezone.now() - timedelta(days=61)
    User.objects.filter(organization=context.organization, date_joined__gt=history_start).update(date_joined=history_start)
    Membership.objects.filter(group__organization=context.organization, created_at__gt=history_start).update(created_at=history_start)


def _seed_history(context: DemoContext) -> None:
    organization = context.organization
    if Post.objects.filter(organization=organization, kind__in=[PostKind.POST, PostKind.ANNOUNCEMENT]).exists():
        return
    rng = random.Random(3)
    now = timezone.now()
    people = context.everyone
    groups = context.locations + context.teams
    members_by_group: dict[int, list] = {group.pk: [] for group in groups}
    for membership in Membership.objects.filter(group__in=groups).select_related("user"):
        members_by_group[membership.group_id].append(membership.user)

    posts: list[Post] = []
    audiences: list[list] = []
    for index in range(POST_COUNT):
        published_at = now - timedelta(minutes=rng.randint(5, 60 * 24 * 60))
        if index % 20 == 0:
            _language, body = ANNOUNCEMENTS[(index // 20) % len(ANNOUNCEMENTS)]
            author = rng.choice(context.leaders)
            post = Post(
                organization=organization,
                author=author,
                kind=PostKind.ANNOUNCEMENT,
                body=body,
                org_wide=True,
                requires_acknowledgement="bevestig" in body.lower() or "acknowledge" in body.lower(),
                created_at=published_at,
                published_at=published_at,
                updated_at=published_at,
            )
            audience: list = []
        else:
            group = rng.choice(groups)
            members = members_by_group[group.pk] or people
            author = rng.choice(members)
            body = rng.choice(LOCATION_POSTS_NL if rng.random() < 0.65 else LOCATION_POSTS_EN)
            post = Post(
                organization=organization,
                author=author,
                kind=PostKind.POST,
                body=body,
                org_wide=False,
                created_at=published_at,
                published_at=published_at,
                updated_at=published_at,
            )
            audience = [group]
        posts.append(post)
        audiences.append(audience)
    Post.objects.bulk_create(posts)

    post_groups, comments, reactions, seen = [], [], [], []
    for post, audience in zip(posts, audiences, strict=True):
        post_groups += [PostGroup(post=post, group=group) for group in audience]
        readers = people if post.org_wide else (members_by_group[audience[0].pk] or people)
        for reader in rng.sample(readers, k=min(len(readers), rng.randint(0, 8))):
            reactions.append(Reaction(post=post, user=reader, type=rng.choice(ReactionType.values)))
        for offset in range(rng.randint(0, 4)):
            commenter = rng.choice(readers)
            comments.append(
                Comment(
                    post=post, author=commenter, body=rng.choice(COMMENTS), created_at=post.published_at + timedelta(minutes=5 + offset * 7)
                )
            )
        seen += [
            PostSeen(post=post, user=reader, seen_at=post.published_at + timedelta(minutes=30))
            for reader in readers[: len(readers) * 3 // 4]
        ]
    PostGroup.objects.bulk_create(post_groups)
    Reaction.objects.bulk_create(reactions, ignore_conflicts=True)
    Comment.objects.bulk_create(comments)
    PostSeen.objects.bulk_create(seen, ignore_conflicts=True)

    # A conversation with a mention, so the app shows one resolved.
    first_post = posts[1]
    mentioned = context.employees[0]
    mention = Comment.objects.create(
        post=first_post,
        author=context.leaders[0],
        body=f"@[user:{mentioned.pk}] kun jij hier morgen naar kijken?",
        created_at=first_post.published_at + timedelta(hours=1),
    )
    CommentMention.objects.create(comment=mention, user=mentioned)

    # Two pinned announcements, the newest acknowledged by about two thirds of the organisation.
    announcements = sorted((post for post in posts if post.requires_acknowledgement), key=lambda post: post.published_at, reverse=True)
    for pinned_at_offset, post in enumerate(announcements[:2]):
        Post.objects.filter(pk=post.pk).update(pinned=True, pinned_at=now - timedelta(minutes=pinned_at_offset))
    acknowledgements = []
    for post in announcements[:3]:
        for reader in people[: len(people) * 2 // 3]:
            acknowledgements.append(Acknowledgement(post=post, user=reader, acknowledged_at=post.published_at + timedelta(hours=2)))
    Acknowledgement.objects.bulk_create(acknowledgements, ignore_conflicts=True)


def _seed_goals_and_journey(context: DemoContext) -> None:
    """Three goals with a progress history and a five-step customer journey, through the services."""
    if Goal.objects.filter(organization=context.organization).exists():
        return
    leader = context.leaders[0]
    now = timezone.now()
    for goal_index, spec in enumerate(GOALS):
        group_ids = [context.locations[1].pk] if goal_index == 1 else None
        goal = goals.goal_create(
            actor=leader,
            title=spec["title"],
            why=spec["why"],
            how_to_help=spec["how_to_help"],
            target_value=spec["target_value"],
            unit=spec["unit"],
            due_date=(now + timedelta(days=90)).date(),
            group_ids=group_ids,
        )
        history = spec["progress"]
        for step, (value, note) in enumerate(history):
            update = goals.goal_progress_add(actor=leader, goal=goal, note=note, current_value=Decimal(value))
            # Spread the history over the past weeks, oldest first.
            moment = now - timedelta(days=7 * (len(history) - step), hours=goal_index)
            GoalUpdate.objects.filter(pk=update.pk).update(created_at=moment)
            Post.objects.filter(pk=update.post_id).update(created_at=moment, published_at=moment, updated_at=moment)
    for title, description, expected in KEY_MOMENTS:
        goals.key_moment_create(actor=leader, title=title, description=description, expected_behaviour=expected)


def _seed_mandatory_read(context: DemoContext) -> None:
    """An announcement with a deadline in two days, acknowledged by about half the organisation."""
    organization = context.organization
    if Post.objects.filter(organization=organization, acknowledgement_deadline__isnull=False).exists():
        return
    now = timezone.now()
    published_at = now - timedelta(hours=20)
    post = Post.objects.create(
        organization=organization,
        author=context.leaders[0],
        kind=PostKind.ANNOUNCEMENT,
        body="Nieuwe hygiëneregels in de versafdeling vanaf maandag. Lees ze vóór de deadline en bevestig. / "
        "New hygiene rules in the fresh section from Monday: read and acknowledge before the deadline.",
        org_wide=True,
        requires_acknowledgement=True,
        acknowledgement_deadline=now + timedelta(days=2),
        created_at=published_at,
        published_at=published_at,
        updated_at=published_at,
    )
    readers = context.everyone[1::2]
    Acknowledgement.objects.bulk_create(
        [
            Acknowledgement(post=post, user=reader, acknowledged_at=published_at + timedelta(hours=1 + index % 12))
            for index, reader in enumerate(readers)
        ]
    )
    PostSeen.objects.bulk_create(
        [
            PostSeen(post=post, user=reader, seen_at=published_at + timedelta(minutes=30))
            for reader in context.everyone[::1][: len(context.everyone) * 4 // 5]
        ]
    )


def _seed_poll(context: DemoContext) -> None:
    """An open org-wide poll (results after voting) that about two thirds have answered (issue #21)."""
    from feed.poll_models import Poll
    from feed.services import polls, post_create

    if Poll.objects.filter(post__organization=context.organization).exists():
        return
    post = post_create(
        author=context.leaders[0],
        body="Welke avond past het best voor de teamborrel? / Which evening suits the team drinks best?",
        poll={
            "options": ["Donderdag / Thursday", "Vrijdag / Friday", "Zaterdag / Saturday"],
            "results": "after_vote",
            "closes_at": timezone.now() + timedelta(days=3),
        },
    )
    options = list(post.poll.options.order_by("position").values_list("pk", flat=True))
    for index, person in enumerate(context.everyone[1:]):
        if index % 3 != 2:
            polls.poll_vote(user=person, post_id=post.pk, option_ids=[options[index % 5 % 3]])
