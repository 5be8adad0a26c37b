import datetime as dt

import factory

from recognition.models import AwardCategory, AwardRound, CompanyValue, DecisionMethod, Kudos, KudosRecipient, Nomination
from recognition.months import month_bounds
from tests.factories import OrganizationFactory, UserFactory


class CompanyValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyValue

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Value {n}")
    emoji = "⭐"


class KudosFactory(factory.django.DjangoModelFactory):
    """Kudos straight into the database (no service, no event); pass recipients=[...]."""

    class Meta:
        model = Kudos
        skip_postgeneration_save = True

    organization = factory.SelfAttribute("giver.organization")
    giver = factory.SubFactory(UserFactory)
    message = "Thanks for stepping in at the till!"

    @factory.post_generation
    def recipients(self, create, extracted, **kwargs):
        for person in extracted or []:
            KudosRecipient.objects.create(kudos=self, recipient=person, giver=self.giver)


class AwardCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwardCategory

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Colleague of the month {n}")
    method = DecisionMethod.MOST_NOMINATIONS
    max_nominations_per_nominator = 3


class AwardRoundFactory(factory.django.DjangoModelFactory):
    """A round of `month` (default: the current month in the organisation's zone)."""

    class Meta:
        model = AwardRound

    category = factory.SubFactory(AwardCategoryFactory)
    organization = factory.SelfAttribute("category.organization")
    month = factory.LazyFunction(lambda: dt.date.today().replace(day=1))
    opens_at = factory.LazyAttribute(lambda o: month_bounds(o.month, o.category.organization.timezone)[0])
    closes_at = factory.LazyAttribute(lambda o: month_bounds(o.month, o.category.organization.timezone)[1])


class NominationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nomination

    round = factory.SubFactory(AwardRoundFactory)
    nominator = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..round.organization"))
    nominee = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..round.organization"))
    reason = "Always helps customers find what they need, even at closing time."
