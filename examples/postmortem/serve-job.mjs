// Serves job.json the way the orchestrator's API does (GET /api/jobs/requests/{id}), for trying
// `myrmex postmortem new --from-job` without a running orchestrator:  node serve-job.mjs 4480
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const job = JSON.parse(readFileSync(new URL('./job.json', import.meta.url), 'utf8'));
const port = Number(process.argv[2] ?? 4480);

createServer((req, res) => {
  const found = req.method === 'GET' && req.url === `/api/jobs/requests/${encodeURIComponent(job.id)}`;
  res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(found ? job : { error: `no job at ${req.url}` }));
}).listen(port, '127.0.0.1', () => console.log(`serving job ${job.id} on http://127.0.0.1:${port}`));
