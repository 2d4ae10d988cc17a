export { parseExposition, type Sample, sumSamples } from './exposition.js';
export { type Check, type Readiness, type ReadinessOptions, readiness } from './health.js';
export { instrumentStore, type StoreObserver } from './instrument-store.js';
export { METRIC_NAMES, type MetricsOptions, OrchestratorMetrics, type QueueSource } from './metrics.js';
export { type ObservabilityRouteOptions, observabilityRoutes } from './routes.js';
export { enterTraceparent, JobTracing, type JobTracingOptions, submittedTraceId, tracingEnabled } from './tracing.js';
export { logTransitions } from './transition-log.js';
