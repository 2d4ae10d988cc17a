export { connectEventsBroker, type EventsBroker, parseEventsUrl } from './broker.js';
export { enableLifecycleEvents } from './enable.js';
export { DEFAULT_LIFECYCLE_TOPIC, LIFECYCLE_TABLE, type LifecyclePayload, lifecycleEvents } from './lifecycle.js';
export { type LifecycleRelay, startLifecycleRelay } from './relay.js';
export { type LifecycleWriterOptions, lifecycleWriter, type TransitionsWriter } from './writer.js';
