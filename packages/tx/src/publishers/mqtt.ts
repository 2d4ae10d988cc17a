import type { MqttClient } from 'mqtt';
import { type Destination, type EventEnvelope, encodeEvent, type Publisher, type PublishOutcome } from './publisher.js';

export interface MqttPublisherOptions {
  /** An mqtt.js client the caller owns (MQTT 5 carries the event id as a user property; 3.1.1 works without it). */
  readonly client: MqttClient;
  /** Topic per event; default `<prefix><topic>` with dots as slashes. */
  readonly topic?: Destination;
  readonly prefix?: string;
}

/**
 * MQTT at QoS 1: `publish` resolves on the broker's PUBACK. QoS 1 is at least once by definition
 * (a resend after a lost PUBACK is a duplicate), so consumers deduplicate with the inbox.
 */
export function mqttPublisher(options: MqttPublisherOptions): Publisher {
  if (!options || typeof options.client?.publishAsync !== 'function') {
    throw new TypeError('mqttPublisher(options): options.client must be an mqtt.js client (mqtt.connectAsync())');
  }
  const prefix = options.prefix ?? '';
  const topic: Destination = options.topic ?? ((event) => `${prefix}${event.topic}`.replaceAll('.', '/'));
  const v5 = options.client.options.protocolVersion === 5;
  return {
    name: 'mqtt',
    async publish(event: EventEnvelope): Promise<PublishOutcome> {
      if (!options.client.connected) throw new Error('mqttPublisher: the client is not connected');
      await options.client.publishAsync(topic(event), encodeEvent(event), {
        qos: 1,
        ...(v5 ? { properties: { userProperties: { 'myrmex-event-id': event.id }, contentType: 'application/json' } } : {}),
      });
      return { duplicate: false };
    },
    async close() {},
  };
}
