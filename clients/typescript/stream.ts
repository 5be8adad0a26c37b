// The WebSocket stream (/ws/v1/stream), written against the types json-schema-to-typescript
// generates from its AsyncAPI document (frames.d.ts, see check.sh and frames.mjs). It is
// type-checked with `tsc --strict` in CI and never run: if a frame's `data` changes in a way
// that breaks an app (a field renamed, removed or retyped), this file stops compiling.
//
// What it shows an app developer: `Frame` is a union discriminated by `type`; a `switch` on
// it gives each case its own `data` (a post card, which is itself a union on `kind`, a
// comment, kudos, an inbox item); types the app does not handle fall through to `default` and
// are ignored, as docs/realtime.md asks (new ones will be added).

import type { Frame, PostCard, Ping, Pong } from "./frames";

/** What the app keeps on screen between frames. */
export interface StreamState {
  /** Event ids already applied: a frame can arrive twice. */
  applied: Set<string>;
  posts: Map<number, PostCard>;
  comments: Map<number, { postId: number; author: string; body: string; mentions: string[] }>;
  badge: number;
  banners: string[];
  /** Posts whose poll moved while its counts are hidden from the frame but not from me: refetch. */
  refetch: Set<number>;
}

export function newStreamState(): StreamState {
  return { applied: new Set(), posts: new Map(), comments: new Map(), badge: 0, banners: [], refetch: new Set() };
}

/** A feed line for a new post: its kind decides which payload the card carries. */
function postBanner(card: PostCard): string {
  switch (card.kind) {
    case "post":
    case "announcement":
      return `${card.author.name}: ${card.body}`;
    case "kudos":
      return `${card.kudos.giver.name} thanked ${card.kudos.recipients.map((person) => person.name).join(", ")}`;
    case "award":
      return `${card.award.category.name}: ${card.award.winners.map((winner) => winner.name).join(", ")}`;
    case "goal_update":
      return `${card.goal.title}: ${card.goal.update.current_value} ${card.goal.unit}`;
    case "key_moment":
      return `${card.key_moment.position}. ${card.key_moment.title}`;
    case "you_said_we_did":
      return `You said, we did: ${card.signal.title}`;
  }
}

/** Apply one event frame to the screen; returns false for a frame it ignores. */
export function applyFrame(state: StreamState, frame: Frame): boolean {
  if (state.applied.has(frame.id)) return false;
  state.applied.add(frame.id);
  switch (frame.type) {
    case "post.created": {
      state.posts.set(frame.data.id, frame.data);
      state.banners.push(postBanner(frame.data));
      return true;
    }
    case "post.deleted":
      return state.posts.delete(frame.data.id);
    case "comment.created": {
      const { id, post_id, author, body, mentions } = frame.data;
      state.comments.set(id, { postId: post_id, author: author.name, body, mentions: mentions.map((person) => person.name) });
      const post = state.posts.get(post_id);
      if (post !== undefined) post.comment_count += 1;
      return true;
    }
    case "comment.deleted":
      return state.comments.delete(frame.data.id);
    case "reaction.updated": {
      const post = state.posts.get(frame.data.post_id);
      if (post === undefined) return false;
      post.reaction_counts = frame.data.reaction_counts;
      return true;
    }
    case "poll.updated": {
      // At most one frame per post per second; counts only when everyone may see them.
      const post = state.posts.get(frame.data.post_id);
      if (post === undefined || post.poll === null) return false;
      if (frame.data.poll.results_visible || !post.poll.results_visible) {
        post.poll = { ...frame.data.poll, my_votes: post.poll.my_votes };
      } else {
        // I see counts (I voted under after_vote) that the frame may not carry: refetch GET /posts/{id}.
        state.refetch.add(post.id);
      }
      return true;
    }
    case "kudos.created": {
      const { giver, recipients, value, message, post_id } = frame.data;
      const thanked = recipients.map((person) => person.name).join(", ");
      state.banners.push(`${giver.name} → ${thanked}${value === null ? "" : ` ${value.emoji}`}: ${message} (post ${post_id})`);
      return true;
    }
    case "notification.created": {
      const { notification, unread_count } = frame.data;
      state.badge = unread_count;
      if (!notification.read) state.banners.push(`${notification.reason}: ${notification.type} at ${notification.created_at}`);
      return true;
    }
    case "moderation.decided":
      state.banners.push(`Moderation: ${frame.data.action} (${frame.data.target_type} ${frame.data.target_id})`);
      return true;
    default:
      // Types this app does not show, and types added after it was built.
      return false;
  }
}

/** Open the stream with the token as subprotocol, apply frames, ping every 25 s (docs/realtime.md). */
export function openStream(host: string, token: string, state: StreamState, onChange: () => void): WebSocket {
  const socket = new WebSocket(`wss://${host}/ws/v1/stream`, ["bearer", token]);
  let lastPong = Date.now();
  const ping: Ping = { type: "ping" };
  const timer = setInterval(() => {
    if (Date.now() - lastPong > 35_000) socket.close(1000);
    else socket.send(JSON.stringify(ping));
  }, 25_000);
  socket.addEventListener("message", (event: MessageEvent<string>) => {
    const message = JSON.parse(event.data) as Frame | Pong;
    if (message.type === "pong") {
      lastPong = Date.now();
      return;
    }
    if (applyFrame(state, message)) onChange();
  });
  socket.addEventListener("close", () => clearInterval(timer));
  return socket;
}
