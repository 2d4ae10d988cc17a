export * from '../api/index.js';
export { readTlsFiles, type TlsMaterial } from '../api/tls.js';
export * from '../observability/index.js';
export { type DemoJob, type DemoOptions, type DemoRun, runDemo } from './demo.js';
export { createLogger, humanDestination, LOG_FORMATS, type LogFormat, type LoggerOptions } from './logger.js';
export { DEFAULT_HOST, DEFAULT_PORT, type RunningServer, type ServeOptions, serve } from './serve.js';
export { type StatusEndpoint, startStatusEndpoint } from './status-endpoint.js';
