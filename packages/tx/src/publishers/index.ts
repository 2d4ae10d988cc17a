export { type Destination, decodeEvent, type EventEnvelope, encodeEvent, type Publisher, type PublishOutcome } from './publisher.js';
