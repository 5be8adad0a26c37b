"""Survey results: aggregates only, and none built from fewer people than the organisation's minimum.

A result set (the whole instance, or the responses of one group) below the minimum group
size answers `{suppressed: true}` with no numbers. A group's breakdown is also refused when
the rest of the instance (its complement) is non-empty and below the minimum: otherwise
"whole survey" minus "everyone but group A" would reveal group A. Text answers come in
random order (never the order they were stored in).
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import Group, Membership
from voice.models import QuestionKind, Survey, SurveyAnswer, SurveyInstance, SurveyResponse, SurveyResponseGroup
from voice.models.surveys import CHOICE_KINDS, SCALE_RANGES
from voice.services.surveys import audience_users, survey_group_ids

# At most this many text answers per question (a random sample when there are more).
MAX_TEXTS = 500


def _group_responses(group: Group, instances: list[SurveyInstance]) -> QuerySet[SurveyResponseGroup]:
    return SurveyResponseGroup.objects.filter(group_id=group.pk, instance__in=instances)


def _suppressed(*, total: int, in_group: int | None, minimum: int) -> bool:
    if in_group is None:
        return total < minimum
    complement = total - in_group
    return in_group < minimum or 0 < complement < minimum


def _instance_ref(instance: SurveyInstance, now) -> dict[str, Any]:
    return {
        "id": instance.pk,
        "number": instance.number,
        "opens_at": instance.opens_at,
        "closes_at": instance.closes_at,
        "closed": instance.closes_at <= now,
    }


def _audience_size(*, survey: Survey, instance: SurveyInstance, group: Group | None) -> int:
    if group is None and instance.audience_size is not None:
        return instance.audience_size
    if group is None:
        return audience_users(survey=survey).count()
    # From the group's memberships (thousands), not the organisation's people (100,000).
    members = Membership.objects.filter(group=group, user__is_active=True, user__organization_id=survey.organization_id)
    if group_ids := survey_group_ids(survey):
        members = members.filter(user_id__in=Membership.objects.filter(group_id__in=group_ids).values("user_id"))
    return members.count()


def _rate(count: int, size: int) -> float:
    return round(min(1.0, count / size), 4) if size else 0.0


def _scale_stats(kind: str, counts: dict[int, int]) -> dict[str, Any]:
    low, high = SCALE_RANGES[kind]
    answered = sum(counts.values())
    stats: dict[str, Any] = {
        "distribution": [
            {"value": value, "option_id": None, "text": None, "count": counts.get(value, 0)} for value in range(low, high + 1)
        ],
        "mean": round(sum(value * n for value, n in counts.items()) / answered, 2) if answered else None,
        "enps": None,
    }
    if kind == QuestionKind.SCALE_0_10 and answered:
        promoters = sum(n for value, n in counts.items() if value >= 9)
        detractors = sum(n for value, n in counts.items() if value <= 6)
        stats["enps"] = round(100 * (promoters - detractors) / answered, 1)
    return stats


def _answers(instances: list[SurveyInstance], group: Group | None) -> QuerySet[SurveyAnswer]:
    answers = SurveyAnswer.objects.filter(instance__in=instances)
    if group is not None:
        answers = answers.filter(response_id__in=_group_responses(group, instances).values("response_id"))
    return answers


def survey_results(*, survey: Survey, instance: SurveyInstance, group: Group | None, now=None) -> dict[str, Any]:
    """The aggregates of one instance (of one group's responses): a fixed number of queries."""
    now = now or timezone.now()
    minimum = survey.organization.survey_min_group_size
    total = SurveyResponse.objects.filter(instance=instance).count()
    in_group = None if group is None else _group_responses(group, [instance]).count()
    head = {
        "survey_id": survey.pk,
        "instance": _instance_ref(instance, now),
        "group_id": group.pk if group else None,
        "min_group_size": minimum,
    }
    if _suppressed(total=total, in_group=in_group, minimum=minimum):
        return {**head, "suppressed": True}
    count = total if in_group is None else in_group
    size = _audience_size(survey=survey, instance=instance, group=group)
    questions_of = list(survey.questions.all())
    answers = _answers([instance], group)
    tallies: dict[int, dict[Any, int]] = defaultdict(dict)
    counted = [q.pk for q in questions_of if q.kind != QuestionKind.TEXT]
    for row in answers.filter(question_id__in=counted).values("question_id", "value", "option_id").annotate(n=Count("*")).order_by():
        key = row["value"] if row["option_id"] is None else row["option_id"]
        tallies[row["question_id"]][key] = row["n"]
    # One row per answer, except a multiple choice (a row per option chosen): only those need a distinct count.
    answered = {question_id: sum(counts.values()) for question_id, counts in tallies.items()}
    multiple = [q.pk for q in questions_of if q.kind == QuestionKind.MULTIPLE_CHOICE]
    if multiple:
        distinct = answers.filter(question_id__in=multiple).values("question_id").annotate(n=Count("response_id", distinct=True))
        answered.update(distinct.order_by().values_list("question_id", "n"))
    texts: dict[int, list[str]] = defaultdict(list)
    text_questions = [q.pk for q in questions_of if q.kind == QuestionKind.TEXT]
    if text_questions:
        for question_id, text in answers.filter(question_id__in=text_questions).values_list("question_id", "text").order_by("?"):
            answered[question_id] = answered.get(question_id, 0) + 1
            if len(texts[question_id]) < MAX_TEXTS:
                texts[question_id].append(text)
    questions = []
    for question in questions_of:
        entry: dict[str, Any] = {
            "id": question.pk,
            "kind": question.kind,
            "text": question.text,
            "answer_count": answered.get(question.pk, 0),
            "distribution": [],
            "mean": None,
            "enps": None,
            "texts": [],
        }
        if question.kind in SCALE_RANGES:
            entry.update(_scale_stats(question.kind, tallies.get(question.pk, {})))
        elif question.kind in CHOICE_KINDS:
            counts = tallies.get(question.pk, {})
            entry["distribution"] = [
                {"value": None, "option_id": option.pk, "text": option.text, "count": counts.get(option.pk, 0)}
                for option in question.options.all()
            ]
        else:
            entry["texts"] = texts.get(question.pk, [])
            random.shuffle(entry["texts"])
        questions.append(entry)
    return {
        **head,
        "suppressed": False,
        "response_count": count,
        "audience_size": size,
        "response_rate": _rate(count, size),
        "questions": questions,
    }


def survey_trend(*, survey: Survey, group: Group | None, now=None) -> dict[str, Any]:
    """Per instance that has opened: response rate, and each scale question's mean and eNPS."""
    now = now or timezone.now()
    minimum = survey.organization.survey_min_group_size
    instances = list(SurveyInstance.objects.filter(survey=survey, opens_at__lte=now).order_by("number"))
    responses = SurveyResponse.objects.filter(instance__in=instances).values("instance_id").order_by()
    totals = dict(responses.annotate(n=Count("*")).values_list("instance_id", "n"))
    if group is None:
        counts = {instance_id: (total, None) for instance_id, total in totals.items()}
    else:
        in_group = dict(
            _group_responses(group, instances).values("instance_id").order_by().annotate(n=Count("*")).values_list("instance_id", "n")
        )
        counts = {instance_id: (total, in_group.get(instance_id, 0)) for instance_id, total in totals.items()}
    scale_questions = [q for q in survey.questions.all() if q.kind in SCALE_RANGES]
    answers = _answers(instances, group).filter(question_id__in=[q.pk for q in scale_questions])
    tallies: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for row in answers.values("instance_id", "question_id", "value").annotate(n=Count("*")).order_by():
        tallies[(row["instance_id"], row["question_id"])][row["value"]] = row["n"]
    live_size: int | None = None
    points = []
    for instance in instances:
        total, in_group = counts.get(instance.pk, (0, None if group is None else 0))
        point: dict[str, Any] = {
            "instance": _instance_ref(instance, now),
            "suppressed": _suppressed(total=total, in_group=in_group, minimum=minimum),
        }
        if not point["suppressed"]:
            count = total if in_group is None else in_group
            if group is None and instance.audience_size is not None:
                size = instance.audience_size
            else:
                if live_size is None:
                    live_size = _audience_size(survey=survey, instance=instance, group=group)
                size = live_size
            point.update(
                response_count=count,
                response_rate=_rate(count, size),
                questions=[
                    {
                        "id": q.pk,
                        "text": q.text,
                        **{k: v for k, v in _scale_stats(q.kind, tallies.get((instance.pk, q.pk), {})).items() if k != "distribution"},
                    }
                    for q in scale_questions
                ],
            )
        points.append(point)
    return {
        "survey_id": survey.pk,
        "group_id": group.pk if group else None,
        "min_group_size": minimum,
        "every": survey.every or None,
        "instances": points,
    }


def _csv_safe(text: str) -> str:
    # A question like "=HYPERLINK(...)" must stay text when the file is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(results: dict[str, Any]) -> str:
    """The aggregates as one table: a row per answer value or option (text answers are not aggregates: left out)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["instance", "group_id", "response_count", "response_rate", "question_id", "question", "kind", "answer", "count", "mean", "enps"]
    )
    instance, group_id = results["instance"]["number"], results["group_id"] or ""
    if results["suppressed"]:
        writer.writerow([instance, group_id, "suppressed", "", "", "", "", "", "", "", ""])
        return out.getvalue()
    for question in results["questions"]:
        for bucket in question["distribution"]:
            answer = bucket["value"] if bucket["option_id"] is None else _csv_safe(bucket["text"])
            writer.writerow(
                [
                    instance,
                    group_id,
                    results["response_count"],
                    results["response_rate"],
                    question["id"],
                    _csv_safe(question["text"]),
                    question["kind"],
                    answer,
                    bucket["count"],
                    "" if question["mean"] is None else question["mean"],
                    "" if question["enps"] is None else question["enps"],
                ]
            )
    return out.getvalue()
