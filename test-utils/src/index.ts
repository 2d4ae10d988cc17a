export { freshAll, freshEach, type Ref } from './fresh.js';
export { type Availability, type Gate, type GateOptions, openGate, ServiceUnavailableError } from './gate.js';
export {
  type AmqpGate,
  amqp,
  type Disposable,
  type FreshDatabase,
  type FreshPrefix,
  type MqttGate,
  type MysqlGate,
  mqtt,
  mysql,
  type NatsGate,
  nats,
  type PostgresGate,
  postgres,
  type RedisGate,
  redis,
} from './services.js';
export { isCi, type ServiceSettings, serviceSettings, uniqueName, withDatabase } from './settings.js';
export { type ThrowawayTls, throwawayTls } from './tls.js';
