#!/usr/bin/env node
// Sends one payment through createIdempotentFetch: one Idempotency-Key for the logical call,
// reused on every retry (network errors, 409, 429, 5xx), with capped backoff and full jitter.
//
//   node examples/idempotency/pay.mjs --url http://127.0.0.1:3000 [--amount 1250] [--currency EUR] [--key K]
//
// --key reuses a key of your own (to replay a payment from another shell); by default each run
// is a new logical payment with a new key.
import { parseArgs } from 'node:util';
import { callReport, createIdempotentFetch } from '@myrmex/idempotency/client';

function fail(message) {
  process.stderr.write(`pay: ${message}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      amount: { type: 'string', default: '1250' },
      currency: { type: 'string', default: 'EUR' },
      key: { type: 'string' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (!values.url) fail('--url is required, e.g. --url http://127.0.0.1:3000');
const amount = Number(values.amount);
if (!/^\d+$/.test(values.amount) || amount <= 0) fail(`--amount must be a positive integer, got ${values.amount}`);

const pay = createIdempotentFetch({
  maxAttempts: 6,
  totalTimeoutMs: 20_000,
  onAttempt: (report) =>
    process.stderr.write(
      `attempt ${report.attempt} key ${report.key}: ${report.status ?? String(report.error)}` +
        (report.delayMs === undefined ? '\n' : `, retrying in ${report.delayMs} ms\n`),
    ),
});
const response = await pay(new URL('/payments', values.url), {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(values.key ? { 'idempotency-key': values.key } : {}) },
  body: JSON.stringify({ amount, currency: values.currency }),
});
const report = callReport(response);
process.stdout.write(`${response.status} after ${report?.attempts} attempt(s) with key ${report?.key}: ${await response.text()}\n`);
