import type { ApiHandler } from './handler.js';

/**
 * Holds every request to `h` until `ready` resolves, then handles it (and every later request
 * directly). A Kafka broker opens its client listeners only after its initial catch-up with the
 * metadata log; a raftka broker listens earlier, because its peers' Raft and registration traffic
 * shares the port, so its client APIs wait instead of answering from an empty or stale image
 * (no brokers, UNKNOWN_TOPIC_OR_PARTITION for existing topics).
 */
export function heldUntil(h: ApiHandler, ready: Promise<void>): ApiHandler {
  let open = false;
  void ready.then(() => { open = true; });
  return {
    ...h,
    handle(request, ctx) {
      return open ? h.handle(request, ctx) : ready.then(() => h.handle(request, ctx));
    },
  };
}
