#!/usr/bin/env node
// Sends one payment through createIdempotentFetch: one Idempotency-Key for the logical call,
// reused on every retry (network errors, 409, 429, 5xx), with capped backoff and full jitter.
//
//   node examples/idempotency/pay.mjs --url http://127.0.0.1:3000 [--amount 1250] [--currency EUR]
import { parseArgs } from 'node:util';
import { callReport, createIdempotentFetch } from '@myrmex/idempotency/client';

const { values } = parseArgs({
  options: { url: { type: 'string' }, amount: { type: 'string', default: '1250' }, currency: { type: 'string', default: 'EUR' } },
});
if (!values.url) {
  process.stderr.write('pay: --url is required, e.g. --url http://127.0.0.1:3000\n');
  process.exit(2);
}
const amount = Number(values.amount);
if (!Number.isSafeInteger(amount) || amount <= 0) {
  process.stderr.write(`pay: --amount must be a positive integer, got ${values.amount}\n`);
  process.exit(2);
}

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
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ amount, currency: values.currency }),
});
const report = callReport(response);
process.stdout.write(`${response.status} after ${report?.attempts} attempt(s) with key ${report?.key}: ${await response.text()}\n`);
