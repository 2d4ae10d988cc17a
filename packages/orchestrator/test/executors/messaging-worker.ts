/**
 * An external MESSAGING worker in its own process: consumes requests from the JetStream stream of
 * argv[3] on the NATS server argv[2] and replies on each request's replyTo. Prints `ready` once its
 * consumer exists. Task type `fail` replies exit code 3; others echo $WHO as an output.
 */
import { AckPolicy, connect } from 'nats';
import { streamNameFor } from '../../src/executors/messaging.js';

const [servers, subject] = process.argv.slice(2) as [string, string];
const nc = await connect({ servers });
const manager = await nc.jetstreamManager();
const stream = streamNameFor(subject);
await manager.streams.add({ name: stream, subjects: [subject] }).catch(() => undefined);
await manager.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
const consumer = await nc.jetstream().consumers.get(stream, 'worker');
process.stdout.write('ready\n');
const messages = await consumer.consume();
for await (const message of messages) {
  const request = JSON.parse(message.string()) as {
    taskType: string;
    environment: Record<string, string>;
    replyTo: string;
    attempt: number;
  };
  const reply =
    request.taskType === 'fail'
      ? { exitCode: 3, logs: ['could not do it'] }
      : {
          exitCode: 0,
          outputs: { Greeting: `hello ${request.environment.WHO}` },
          logs: [`worked on ${request.taskType} attempt ${request.attempt}`],
        };
  nc.publish(request.replyTo, JSON.stringify(reply));
  message.ack();
}
