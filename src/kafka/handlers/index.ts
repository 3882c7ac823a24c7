import type { ApiHandler } from './handler.js';
import type { HandlerDeps } from './deps.js';
import { apiVersionsHandler } from './api-versions.js';
import { metadataHandler } from './metadata.js';
import { createTopicsHandler } from './create-topics.js';
import { produceHandler } from './produce.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { initProducerIdHandler } from './init-producer-id.js';

/** Every API the broker serves, by api key. ApiVersions advertises exactly these. */
export function createHandlers(deps: HandlerDeps): Map<number, ApiHandler> {
  const handlers = new Map<number, ApiHandler>();
  const add = (h: ApiHandler): void => { handlers.set(h.apiKey, h); };
  add(apiVersionsHandler(() => handlers.values()));
  add(metadataHandler(deps));
  add(createTopicsHandler(deps));
  add(produceHandler(deps));
  add(fetchHandler(deps));
  add(listOffsetsHandler(deps));
  if (deps.allocateProducerId !== undefined) add(initProducerIdHandler(deps));
  return handlers;
}
