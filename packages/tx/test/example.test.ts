import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const example = fileURLToPath(new URL('../../../examples/tx/travel-booking.ts', import.meta.url));

it('the travel booking example: a killed runner is recovered without a second charge; a failing vendor is compensated', {
  timeout: 120_000,
}, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', example], { timeout: 110_000 });
  expect(stdout).toContain('runner ended by SIGKILL; charges so far: 1');
  expect(stdout).toContain('recovered by this process: completed; charges: 1');
  expect(stdout).toContain('bookings: car booked, flight booked, hotel booked, insurance booked');
  expect(stdout).toContain('compensated: Error: car vendor: nothing available; charges: 1');
  expect(stdout).toContain('bookings: flight cancelled, hotel cancelled, insurance cancelled');
  // Reverse order of completion: flight was booked first, so it is cancelled last.
  expect(stdout.indexOf('step-compensated hotel')).toBeLessThan(stdout.indexOf('step-compensated flight'));
});
