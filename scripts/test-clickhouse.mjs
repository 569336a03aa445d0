#!/usr/bin/env node
// test-clickhouse.mjs - run interop tests with loupe on a private ClickHouse.
//
//   node scripts/test-clickhouse.mjs [--shards 2] tests/interop/a.test.mjs ...
//
// DESIGN. Starts ClickHouse with tests/interop/lib/clickhouse.mjs (one
// server, or with --shards 2 a two-shard cluster `loupe`), sets
// LOUPE_TEST_CLICKHOUSE_URL (the URLs, comma-separated) and, for a
// cluster, LOUPE_TEST_CLICKHOUSE_CLUSTER=loupe, and runs
// `node --test --test-concurrency=1 --test-reporter=spec FILES` with them:
// tests/interop/lib/server.mjs then starts loupe with --storage clickhouse
// (each startLoupe on a database of its own). ClickHouse is stopped at the
// end, also when the suite fails or this script gets SIGINT/SIGTERM/SIGHUP
// (the suite is ended first). Exits with the suite's status (1 when it
// ended by a signal, 2 on a usage error).
import { spawn } from 'node:child_process';
import { startClickHouse, clusterShardCount, CLICKHOUSE_CLUSTER } from '../tests/interop/lib/clickhouse.mjs';

function usage(msg) {
  process.stderr.write(`test-clickhouse: ${msg}\nusage: node scripts/test-clickhouse.mjs [--shards N] FILE...\n`);
  process.exit(2);
}

let shards = 1;
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--shards') {
    shards = Number(argv[++i]);
    if (!Number.isInteger(shards) || shards < 1 || shards > 8) usage('--shards takes 1 to 8');
  } else if (argv[i].startsWith('--shards=')) {
    shards = Number(argv[i].slice(9));
    if (!Number.isInteger(shards) || shards < 1 || shards > 8) usage('--shards takes 1 to 8');
  } else if (argv[i].startsWith('-')) {
    usage(`unknown option ${argv[i]}`);
  } else {
    files.push(argv[i]);
  }
}
if (files.length === 0) usage('no test files');

const ch = await startClickHouse({ shards });
let suite = null;
let stopping = false;

async function finish(status) {
  if (stopping) return;
  stopping = true;
  try {
    await ch.stop();
  } catch (err) {
    process.stderr.write(`test-clickhouse: stopping ClickHouse: ${err.message}\n`);
    if (status === 0) status = 1;
  }
  process.exit(status);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`test-clickhouse: ${sig}, ending the suite\n`);
    if (suite && suite.exitCode === null && suite.signalCode === null) suite.kill('SIGTERM');
    else finish(1);
  });
}

try {
  if (shards > 1) {
    const n = await clusterShardCount(ch);
    if (n !== shards) throw new Error(`cluster ${CLICKHOUSE_CLUSTER} has ${n} shards, not ${shards}`);
  }
} catch (err) {
  process.stderr.write(`test-clickhouse: ${err.message}\n`);
  await finish(1);
}

const env = { ...process.env, LOUPE_TEST_CLICKHOUSE_URL: ch.urls.join(',') };
if (shards > 1) env.LOUPE_TEST_CLICKHOUSE_CLUSTER = CLICKHOUSE_CLUSTER;
else delete env.LOUPE_TEST_CLICKHOUSE_CLUSTER;
process.stdout.write(`test-clickhouse: ClickHouse ${ch.urls.join(', ')}` +
  `${shards > 1 ? ` (cluster ${CLICKHOUSE_CLUSTER})` : ''}, started in ${ch.startMs} ms\n`);

suite = spawn(process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { env, stdio: 'inherit' });
suite.on('error', (err) => {
  process.stderr.write(`test-clickhouse: ${err.message}\n`);
  finish(1);
});
suite.on('exit', (code, signal) => {
  if (signal) process.stderr.write(`test-clickhouse: the suite ended by ${signal}\n`);
  finish(code ?? 1);
});
