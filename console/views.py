"""The console's pages: reach, engagement, recognition (voice and surveys join as their apps land).

Each page builds its charts from the selectors the API uses (feed.selectors.insights,
feed.selectors.post_reach, recognition.reports), scoped by `insight_scope`: an admin reads the
organisation, a leader their own groups; another group's page is a 404, an employee gets 403.
`?csv=<chart id>` answers that chart's numbers as CSV.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from console import snapshots
from console.charts import Chart
from console.forms import ConsoleLoginForm
from feed.selectors import insights as feed_insights
from server.api.exceptions import NotAllowed, NotFound, ValidationFailed

CHART_GROUPS = 30  # bars a chart of groups draws; its table lists them all


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _day(value: dt.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = ConsoleLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("console:reach")


class ConsoleLogoutView(auth_views.LogoutView):
    next_page = "console:login"


def console_home(request):
    return redirect("console:reach")


class ConsolePage(LoginRequiredMixin, TemplateView):
    """A page of charts for a leader or admin; `charts()` builds them for the scope."""

    login_url = "console:login"
    section = ""
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            group_id = int(request.GET["group"]) if request.GET.get("group") else None
        except ValueError:
            raise Http404 from None
        try:
            self.scope = feed_insights.insight_scope(user=request.user, group_id=group_id)
        except NotAllowed:
            raise PermissionDenied from None
        except NotFound:
            raise Http404 from None
        self.group_id = group_id
        return super().dispatch(request, *args, **kwargs)

    def charts(self) -> tuple[list[Chart], dict[str, Any]]:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        if self.section in snapshots.PAGES and not request.GET.get("csv"):
            snapshots.viewed(page=self.section, user=request.user, group_id=self.group_id)
        charts, extra = self.charts()
        wanted = request.GET.get("csv")
        if wanted:
            chart = next((c for c in charts if c.id == wanted), None)
            if chart is None:
                raise Http404
            response = HttpResponse(chart.csv(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{chart.id}.csv"'
            return response
        context = self.get_context_data(charts=charts, **extra)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            section=self.section,
            title=self.title,
            scope=self.scope,
            groups=feed_insights.insight_scope(user=user).groups,
            group_id=self.group_id,
            is_admin=user.is_org_admin,
        )
        return context


class ReachPage(ConsolePage):
    template_name = "console/reach.html"
    section = "reach"

    def charts(self):
        self.title = _("Reach")
        user = self.request.user
        kept = snapshots.numbers(page="reach", user=user, scope=self.scope, group_id=self.group_id)
        reach = kept["reach"]
        empty = _("No announcements in the last 90 days. Post one from the app, and see here who it reached.")
        summary = Chart(
            id="reach-summary",
            title=_("Seen and acknowledged per announcement (last 90 days)"),
            kind="bar",
            labels=[_excerpt(row["post"].body) for row in reach],
            series=[
                {"label": _("seen %"), "data": [_pct(row["seen_count"], row["audience_count"]) for row in reach]},
                {"label": _("acknowledged %"), "data": [_pct(row["acknowledged_count"], row["audience_count"]) for row in reach]},
            ],
            columns=[_("Announcement"), _("Published"), _("Audience"), _("Seen"), _("Acknowledged")],
            rows=[
                [
                    _excerpt(row["post"].body),
                    _day(timezone.localtime(row["post"].published_at).date()),
                    row["audience_count"],
                    row["seen_count"],
                    row["acknowledged_count"] if row["post"].requires_acknowledgement else "–",
                ]
                for row in reach
            ],
            links=[f"?post={row['post'].pk}" + (f"&group={self.group_id}" if self.group_id else "") for row in reach],
            empty=empty,
            percent=True,
        )
        mandatory = [row for row in reach if row["post"].requires_acknowledgement]
        timeline = kept["timeline"]
        days = feed_insights.TIMELINE_DAYS
        over_time = Chart(
            id="reach-over-time",
            title=_("Acknowledged over the first two weeks (share of the audience, a line per announcement)"),
            kind="line",
            labels=[_("day %(n)d") % {"n": day} for day in range(days)],
            series=[
                {"label": _excerpt(row["post"].body), "data": [_pct(n, row["audience_count"]) for n in timeline.get(row["post"].pk, [])]}
                for row in mandatory
            ],
            columns=[_("Announcement"), *[_("day %(n)d") % {"n": day} for day in range(days)]],
            rows=[[_excerpt(row["post"].body), *timeline.get(row["post"].pk, [])] for row in mandatory],
            empty=_("No announcement to acknowledge in the last 90 days."),
            percent=True,
        )
        selected = self._selected(reach)
        by_group = Chart(
            id="reach-groups",
            title=_("Per group: %(post)s") % {"post": _excerpt(selected["post"].body)} if selected else _("Per group"),
            kind="bar",
            labels=[line["group"]["name"] for line in selected["by_group"]] if selected else [],
            series=[
                {"label": _("seen %"), "data": [_pct(line["seen_count"], line["audience_count"]) for line in selected["by_group"]]},
                {
                    "label": _("acknowledged %"),
                    "data": [_pct(line["acknowledged_count"], line["audience_count"]) for line in selected["by_group"]],
                },
            ]
            if selected
            else [],
            columns=[_("Group"), _("Audience"), _("Seen"), _("Acknowledged")],
            rows=[
                [line["group"]["name"], line["audience_count"], line["seen_count"], line["acknowledged_count"]]
                for line in selected["by_group"]
            ]
            if selected
            else [],
            empty=empty if not selected else _("This announcement went to the whole organisation and nobody in it belongs to a group yet."),
            percent=True,
        )
        not_acknowledged, not_acknowledged_count = [], 0
        if selected and selected["post"].requires_acknowledgement:
            missing = kept["not_acknowledged"].get(selected["post"].pk, {"count": 0, "names": []})
            not_acknowledged_count, not_acknowledged = missing["count"], missing["names"]
        return [summary, over_time, by_group], {
            "selected": selected,
            "not_acknowledged": not_acknowledged,
            "not_acknowledged_count": not_acknowledged_count,
        }

    def _selected(self, reach: list[dict[str, Any]]) -> dict[str, Any] | None:
        wanted = self.request.GET.get("post")
        if not wanted:
            return reach[0] if reach else None
        for row in reach:
            if str(row["post"].pk) == wanted:
                return row
        raise Http404


class EngagementPage(ConsolePage):
    template_name = "console/page.html"
    section = "engagement"

    def charts(self):
        self.title = _("Engagement")
        user = self.request.user
        kept = snapshots.numbers(page="engagement", user=user, scope=self.scope, group_id=self.group_id)
        numbers = kept["engagement"]
        active = Chart(
            id="active-weekly",
            title=_("Active people per week (opened the feed and saw a post), of %(n)d") % {"n": numbers["people_count"]},
            kind="line",
            labels=[_day(row["week"]) for row in numbers["active_per_week"]],
            series=[{"label": _("active people"), "data": [row["people"] for row in numbers["active_per_week"]]}],
            columns=[_("Week of"), _("Active people"), _("Share of people")],
            rows=[[_day(row["week"]), row["people"], _pct(row["people"], numbers["people_count"])] for row in numbers["active_per_week"]],
            empty=_("Nobody has opened the feed in the last 12 weeks. Invite your people from the admin site."),
        )
        groups = numbers["per_group"]
        activity = Chart(
            id="activity-groups",
            title=_("Posts, comments and reactions per group (last 12 weeks)"),
            kind="bar",
            labels=[row["group"].name for row in groups],
            series=[
                {"label": _("posts"), "data": [row["posts"] for row in groups]},
                {"label": _("comments"), "data": [row["comments"] for row in groups]},
                {"label": _("reactions"), "data": [row["reactions"] for row in groups]},
            ],
            columns=[_("Group"), _("Posts"), _("Comments"), _("Reactions")],
            rows=[[row["group"].name, row["posts"], row["comments"], row["reactions"]] for row in groups],
            empty=_("No groups yet. Create teams and locations in the admin site."),
            stacked=True,
        )
        rates = kept["read_rate"]
        read_rate = Chart(
            id="read-rate",
            title=_("Read rate of announcements to acknowledge, per group (last 90 days)"),
            kind="bar",
            labels=[row["group"]["name"] for row in rates],
            series=[{"label": _("acknowledged %"), "data": [_pct(row["acknowledged_count"], row["audience_count"]) for row in rates]}],
            columns=[_("Group"), _("Audience"), _("Acknowledged"), _("Rate %")],
            rows=[
                [
                    row["group"]["name"],
                    row["audience_count"],
                    row["acknowledged_count"],
                    _pct(row["acknowledged_count"], row["audience_count"]),
                ]
                for row in rates
            ],
            empty=_("No announcement to acknowledge in the last 90 days."),
            percent=True,
        )
        return [active, activity, read_rate], {}


class RecognitionPage(ConsolePage):
    template_name = "console/recognition.html"
    section = "recognition"

    def charts(self):
        self.title = _("Recognition")
        user = self.request.user
        kept = snapshots.numbers(page="recognition", user=user, scope=self.scope, group_id=self.group_id)
        weekly = kept["weekly"]
        weeks = sorted({row["week"] for row in weekly})
        values = sorted({row["value"] or "" for row in weekly})
        counts = {(row["week"], row["value"] or ""): row["count"] for row in weekly}
        kudos_weekly = Chart(
            id="kudos-weekly",
            title=_("Kudos per week by value (last 12 weeks)"),
            kind="bar",
            labels=[_day(week) for week in weeks],
            series=[{"label": value or _("no value"), "data": [counts.get((week, value), 0) for week in weeks]} for value in values],
            columns=[_("Week of"), _("Value"), _("Kudos")],
            rows=[[_day(row["week"]), row["value"] or _("no value"), row["count"]] for row in weekly],
            empty=_("No kudos in the last 12 weeks. Thank a colleague from the app to start."),
            stacked=True,
        )
        insight = kept["insight"]
        totals: dict[int, list] = {}
        for row in insight["per_group"]:
            entry = totals.setdefault(row["group"].pk, [row["group"].name, 0, 0])
            entry[1] += row["kudos_count"]
            entry[2] += row["nomination_count"]
        # One row per group (the month by month detail is GET /recognition/insights); the chart
        # draws the most thanked 30, the table under it lists every group.
        by_kudos = sorted(totals.values(), key=lambda entry: (-entry[1], entry[0]))
        kudos_groups = Chart(
            id="kudos-groups",
            title=_("Kudos received per group (last 6 months)"),
            kind="bar",
            labels=[entry[0] for entry in by_kudos[:CHART_GROUPS]],
            series=[{"label": _("kudos"), "data": [entry[1] for entry in by_kudos[:CHART_GROUPS]]}],
            columns=[_("Group"), _("Kudos"), _("Nominations")],
            rows=by_kudos,
            empty=_("Nobody in these groups received kudos in the last 6 months."),
        )
        return [kudos_weekly, kudos_groups], {
            "not_recognised": insight["not_recognised"],
            "not_recognised_count": insight["not_recognised_count"],
            "rounds": kept["rounds"],
        }


def _excerpt(text: str, length: int = 48) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


class VoicePage(ConsolePage):
    """Signals in numbers (voice.selectors.signals_insights, the numbers of GET /signals/insights)."""

    template_name = "console/voice.html"
    section = "voice"

    def charts(self):
        from voice.selectors.signals_insights import signal_insights

        self.title = _("Voice")
        numbers = signal_insights(user=self.request.user, group_id=self.group_id)
        empty = _("No signals yet. Staff raise frictions and ideas from the app; they show here by key moment and location.")

        def by(rows, chart_id, title, label_none):
            names = [row["name"] or label_none for row in rows]
            return Chart(
                id=chart_id,
                title=title,
                kind="bar",
                labels=names,
                series=[
                    {"label": _("open"), "data": [row["open"] for row in rows]},
                    {"label": _("resolved"), "data": [row["resolved"] for row in rows]},
                ],
                columns=[_("Name"), _("Open"), _("Resolved"), _("Support")],
                rows=[[name, row["open"], row["resolved"], row["support"]] for name, row in zip(names, rows, strict=True)],
                empty=empty,
            )

        key_moments = by(numbers["by_key_moment"], "voice-key-moments", _("Open and resolved signals per key moment"), _("no key moment"))
        groups = by(numbers["by_group"], "voice-groups", _("Open and resolved signals per location"), _("no location"))
        promise = numbers["promise_hours"]
        median = numbers["median_hours_to_first_response"]
        response = Chart(
            id="voice-response",
            title=_("Time to first response against the promise (hours)"),
            kind="bar",
            labels=[_("median to first response"), _("promise")],
            series=[{"label": _("hours"), "data": [median, promise]}],
            columns=[_("Measure"), _("Value")],
            rows=[
                [_("median hours to first response"), median],
                [_("promise (hours)"), promise],
                [_("median days to resolution"), numbers["median_days_to_resolution"]],
                [_("share answered within the promise %"), _rate_pct(numbers["share_answered_within_promise"])],
                [_("signals"), numbers["total"]],
            ],
            empty=empty if not numbers["total"] else "",
        )
        return [key_moments, groups, response], {
            "oldest_unanswered": numbers["oldest_unanswered"],
            "most_supported_open": numbers["most_supported_open"],
        }


class SignalPage(ConsolePage):
    """One signal as its viewer may see it (voice.signal_cards: an anonymous author stays hidden)."""

    template_name = "console/signal.html"
    section = "voice"

    def charts(self):
        from voice.selectors.signals import access_signal
        from voice.signal_cards import signal_card

        try:
            signal = access_signal(user=self.request.user, signal_id=self.kwargs["signal_id"])
        except NotFound:
            raise Http404 from None
        card = signal_card(signal=signal, viewer=self.request.user)
        self.title = card["title"]
        return [], {"card": card}


class SurveysPage(ConsolePage):
    """Survey results over time (voice.survey_results.survey_trend, the numbers of GET /surveys/{id}/trend)."""

    template_name = "console/surveys.html"
    section = "surveys"

    def charts(self):
        from voice.survey_results import survey_trend
        from voice.survey_selectors import results_group, survey_list

        self.title = _("Surveys")
        user = self.request.user
        readable = []
        for survey in survey_list(user=user)[:50]:
            try:
                group = results_group(user=user, survey=survey, group_id=self.group_id)
            except (NotAllowed, ValidationFailed):
                continue
            readable.append((survey, group))
        wanted = self.request.GET.get("survey")
        chosen = next((pair for pair in readable if str(pair[0].pk) == wanted), None) if wanted else (readable[0] if readable else None)
        if wanted and chosen is None:
            raise Http404
        hint = "" if readable or user.is_org_admin else _("Choose one of your groups above to see its survey results.")
        if chosen is None:
            return [], {"surveys": [], "chosen": None, "hint": hint}
        survey, group = chosen
        trend = survey_trend(survey=survey, group=group)
        points = trend["instances"]
        labels = [_day(_as_date(point["instance"]["opens_at"])) for point in points]
        rate = Chart(
            id="survey-rate",
            title=_("Response rate per round (%%): %(title)s") % {"title": survey.title},
            kind="line",
            labels=labels,
            series=[{"label": _("response rate %"), "data": [None if p["suppressed"] else _rate_pct(p["response_rate"]) for p in points]}],
            columns=[_("Round"), _("Responses"), _("Response rate %")],
            rows=[
                [
                    label,
                    _("suppressed") if p["suppressed"] else p["response_count"],
                    _("suppressed") if p["suppressed"] else _rate_pct(p["response_rate"]),
                ]
                for label, p in zip(labels, points, strict=True)
            ],
            empty=_("This survey has not opened yet."),
            percent=True,
        )
        questions = {}
        for point in points:
            for question in point.get("questions", []):
                questions.setdefault(question["id"], question["text"])
        scores = Chart(
            id="survey-scores",
            title=_("eNPS and scale means per round"),
            kind="line",
            labels=labels,
            series=[
                {
                    "label": text,
                    "data": [None if p["suppressed"] else _score(p, qid) for p in points],
                }
                for qid, text in questions.items()
            ],
            columns=[_("Round"), _("Question"), _("eNPS"), _("Mean")],
            rows=[
                [label, q["text"], q.get("enps"), q.get("mean")] if not p["suppressed"] else [label, _("suppressed"), None, None]
                for label, p in zip(labels, points, strict=True)
                for q in (p.get("questions") or [{"text": ""}])
            ],
            empty=_("This survey has no scale questions."),
        )
        return [rate, scores], {
            "surveys": [pair[0] for pair in readable],
            "chosen": survey,
            "hint": hint,
            "min_group_size": trend["min_group_size"],
        }


def _rate_pct(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 1)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _score(point: dict[str, Any], question_id: int) -> float | None:
    """eNPS for a 0-10 question, else the mean."""
    for question in point.get("questions", []):
        if question["id"] == question_id:
            return question["enps"] if question.get("enps") is not None else question.get("mean")
    return None


class RemindNowView(ConsolePage):
    """`Remind now` from the reach page (htmx): feed's post_remind_now, the rules of POST /posts/{id}/remind."""

    http_method_names = ["post"]

    def post(self, request, post_id: int):
        from django.utils.html import format_html

        from feed.selectors import access_post
        from feed.services.remind_now import post_remind_now
        from server.api.exceptions import ApplicationError

        try:
            post = access_post(user=request.user, post_id=post_id)
            reminded = post_remind_now(actor=request.user, post=post)
        except NotFound:
            raise Http404 from None
        except ApplicationError as error:
            return HttpResponse(format_html('<p class="error" role="status">{}</p>', error.message))
        message = _("Reminded %(n)d people. The next reminder is possible from %(time)s.") % {
            "n": reminded.reminded_count,
            "time": formats.time_format(timezone.localtime(reminded.next_remind_at), "TIME_FORMAT"),
        }
        return HttpResponse(format_html('<p class="ok" role="status">{}</p>', message))
