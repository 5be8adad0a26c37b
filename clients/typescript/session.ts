// A phone's first session, written against the types openapi-typescript generates from
// /api/v1/schema/ with its default options (schema.d.ts, see check.sh). It is type-checked
// with `tsc --strict` in CI and never run: if a documented request body or a response shape
// changes in a way that breaks an app, this file stops compiling.
//
// What it shows an app developer: request bodies need only what the server needs (no
// defaults to repeat), every list pages with `next_cursor`, a card's payload and a
// notification's data are unions narrowed by `kind` and `type`, nullable references are
// `T | null`, and error fields are typed.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type PostCard = Schemas["PostCard"];
type Notification = Schemas["Notification"];
type FieldErrors = Schemas["FieldErrors"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly fields: FieldErrors,
  ) {
    super(code);
  }
}

function ok<T>(result: { data?: T; error?: Schemas["Error"]; response: Response }): T {
  if (result.data === undefined) {
    const detail = result.error?.error;
    throw new ApiError(result.response.status, detail?.code ?? "unknown", detail?.fields ?? {});
  }
  return result.data;
}

/** The messages about one field, wherever they sit in the error's `fields`. */
export function messagesFor(fields: FieldErrors, name: string): string[] {
  const entry = fields[name];
  if (entry === undefined) return [];
  if (Array.isArray(entry)) return entry.flatMap((item) => (typeof item === "string" ? [item] : Object.keys(item)));
  return Object.values(entry).flatMap((nested) => (Array.isArray(nested) ? nested.filter((m): m is string => typeof m === "string") : []));
}

/** What a card shows under its body: the card's kind decides which payload is there. */
export function cardLine(card: PostCard): string {
  switch (card.kind) {
    case "post":
    case "announcement":
      return card.requires_acknowledgement && !card.acknowledged_by_me ? "Please acknowledge" : card.body;
    case "kudos": {
      const { giver, recipients, value, image } = card.kudos;
      const thanked = recipients.map((person) => person.name).join(", ");
      const photo = image === null ? "" : ` [${image.status === "ready" && image.variants !== null ? image.variants.thumbnail : "…"}]`;
      return `${giver.name} → ${thanked}${value === null ? "" : ` (${value.emoji} ${value.name})`}${photo}`;
    }
    case "award":
      return `${card.award.category.name} ${card.award.month}: ${card.award.winners.map((winner) => winner.name).join(", ")}`;
    case "goal_update": {
      const { goal } = card;
      const progress = goal.progress === null ? "" : ` ${Math.round(goal.progress * 100)}%`;
      return `${goal.title}: ${goal.update.current_value} ${goal.unit}${progress}`;
    }
    case "key_moment":
      return `${card.key_moment.position}. ${card.key_moment.title}: ${card.key_moment.expected_behaviour}`;
    case "you_said_we_did":
      return `You said: ${card.signal.title}. We did: ${card.signal.message} (${card.signal.support_count} colleagues, ${card.signal.group_count} locations)`;
  }
}

/** An inbox line: the notification's type decides the shape of its data. */
export function notificationLine(notification: Notification): string {
  switch (notification.type) {
    case "post.created":
      return `${notification.data.author.name}: ${notification.data.body}`;
    case "post.updated": {
      const { reminder, escalation } = notification.data;
      if (escalation !== undefined) return `${escalation.not_acknowledged_count} have not acknowledged`;
      return reminder === undefined ? notification.data.body : `Acknowledge before ${reminder.deadline}`;
    }
    case "comment.created":
      return `${notification.data.author.name} ${notification.data.parent_id === null ? "commented" : "replied"}: ${notification.data.body}`;
    case "comment.updated":
      return `${notification.data.author.name} mentioned you: ${notification.data.body}`;
    case "kudos.created":
      return `${notification.data.giver.name} thanked you: ${notification.data.message}`;
    case "award.announced":
      // Two shapes: the announcement (with `winners`), or a nominee's own count.
      return "winners" in notification.data
        ? `${notification.data.category.name}: ${notification.data.winners.map((winner) => winner.name).join(", ")}`
        : `Nominated ${notification.data.nomination_count} times for ${notification.data.category.name}`;
    case "report.created":
      return `Reported (${notification.data.reason}): ${notification.data.excerpt}`;
    case "report.resolved":
      return `Your report: ${notification.data.action}`;
    case "moderation.decided":
      return notification.data.muted_until === undefined ? `Moderation: ${notification.data.action}` : `Muted until ${notification.data.muted_until}`;
    case "survey.opened":
      return `New survey: ${notification.data.title} (until ${notification.data.closes_at})`;
    case "survey.reminder":
      return `Not answered yet: ${notification.data.title}`;
    case "survey.closed":
      return `Results ready: ${notification.data.title}`;
    case "signal.created":
      // An anonymous signal names nobody: `author` is null.
      return `New signal: ${notification.data.title}${notification.data.author === null ? "" : ` (${notification.data.author.name})`}`;
    case "signal.supported":
      return `${notification.data.title}: ${notification.data.support_count} colleagues at ${notification.data.group_count} locations`;
    case "signal.status_changed":
      return `${notification.data.title} is ${notification.data.status}: ${notification.data.message}`;
    case "signal.reminder":
    case "signal.escalated":
      return `Waiting for an answer since ${notification.data.due_at}: ${notification.data.title}`;
  }
}

export async function firstSession(baseUrl: string, email: string, password: string): Promise<string[]> {
  const anonymous = createClient<paths>({ baseUrl });
  // device_name is optional: the server defaults it.
  const login = ok(await anonymous.POST("/api/v1/auth/login", { body: { email, password } }));
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${login.token}` } });
  const lines: string[] = [];

  const me = ok(await api.GET("/api/v1/me"));
  const language: "en" | "nl" = me.language;
  const myTeam = me.groups.find((group) => group.kind === "team" && group.role === "member");
  lines.push(`${me.name} (${me.organization.name}, ${language})`);

  // Two pages of the feed: the second asks for the first page's next_cursor.
  const first = ok(await api.GET("/api/v1/feed", { params: { query: { page_size: 20 } } }));
  const pages = [first];
  if (first.next_cursor !== null) {
    pages.push(ok(await api.GET("/api/v1/feed", { params: { query: { page_size: 20, cursor: first.next_cursor } } })));
  }
  for (const card of pages.flatMap((page) => page.results)) {
    lines.push(cardLine(card));
  }

  // A post in my team; kind and requires_acknowledgement are left to their defaults.
  const post = ok(
    await api.POST("/api/v1/posts", {
      body: { body: "Wie ruilt zaterdag?", group_ids: myTeam === undefined ? [] : [myTeam.id] },
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    }),
  );
  const comment = ok(
    await api.POST("/api/v1/posts/{post_id}/comments", { params: { path: { post_id: post.id } }, body: { body: "Ik kan!" } }),
  );
  lines.push(`${comment.author.name}: ${comment.body}`);
  const reacted = ok(await api.PUT("/api/v1/posts/{post_id}/reaction", { params: { path: { post_id: post.id } }, body: { type: "clap" } }));
  lines.push(`${reacted.reaction_counts.clap} claps, mine: ${reacted.my_reaction ?? "none"}`);

  // A poll: results shown once I have voted; counts are absent while hidden (docs/feed.md, Polls).
  const withPoll = ok(
    await api.POST("/api/v1/posts", {
      body: { body: "Lunch?", group_ids: myTeam === undefined ? [] : [myTeam.id], poll: { options: ["Pizza", "Soep"], results: "after_vote" } },
    }),
  );
  if (withPoll.poll !== null) {
    const voted = ok(
      await api.PUT("/api/v1/posts/{post_id}/poll/vote", {
        params: { path: { post_id: withPoll.id } },
        body: { option_ids: [withPoll.poll.options[0].id] },
      }),
    );
    const poll = voted.poll;
    if (poll !== null && poll.total_votes !== null) {
      lines.push(...poll.options.map((option) => `${option.text}: ${option.votes ?? "?"} of ${poll.total_votes}`));
    }
  }

  // Kudos: only recipients and message are required.
  const colleagues = ok(await api.GET("/api/v1/users", { params: { query: { page_size: 5 } } }));
  const colleague = colleagues.results.find((person) => person.id !== me.id);
  if (colleague !== undefined) {
    const kudos = ok(await api.POST("/api/v1/kudos", { body: { recipient_ids: [colleague.id], message: "Dank je!" } }));
    lines.push(`Kudos ${kudos.id} to ${kudos.recipients.map((person) => person.name).join(", ")}, value ${kudos.value?.name ?? "none"}`);
  }

  // The inbox, then mark what was shown read.
  const inbox = ok(await api.GET("/api/v1/notifications", { params: { query: { page_size: 50 } } }));
  lines.push(...inbox.results.map(notificationLine));
  const unread = inbox.results.filter((notification) => !notification.read).map((notification) => notification.id);
  if (unread.length > 0) {
    const { count } = ok(await api.POST("/api/v1/notifications/read", { body: { ids: unread } }));
    lines.push(`${count} unread left`);
  }

  // A failed request: the error's fields are typed, nested or not.
  const refused = await api.POST("/api/v1/posts", { body: { body: "" } });
  if (refused.error !== undefined) {
    lines.push(...messagesFor(refused.error.error.fields, "body"));
  }
  return lines;
}
