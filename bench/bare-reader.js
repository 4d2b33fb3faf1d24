// The bare reader: the floor under any Node controller's "cache synced". One streamed list (WatchList:
// a watch with sendInitialEvents=true whose initial ADDED events end with a bookmark annotated
// k8s.io/initial-events-end) of the pods of one namespace, over one HTTP/2 connection by undici (the
// operator's HTTP client), every line JSON-decoded, nothing stored, nothing else. It prints
// `initial-events-end <events>` when the bookmark arrives, closes the stream and idles until SIGTERM, so
// that the harness can still read its /proc figures and heap. Plain JavaScript, so that Node's type
// stripper is not loaded.
//
//   node bench/bare-reader.js --server https://127.0.0.1:6443 --token-file <path> --ca-file <path>
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import { parseArgs, TextDecoder } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    'token-file': { type: 'string' },
    'ca-file': { type: 'string' },
    namespace: { type: 'string', default: 'default' },
  },
});
if (!values.server || !values['token-file'] || !values['ca-file'])
  throw new Error('--server, --token-file and --ca-file are required');

const agent = new Agent({ allowH2: true, connect: { ca: readFileSync(values['ca-file'], 'utf8') } });
const query = 'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';
const response = await request(`${values.server}/api/v1/namespaces/${values.namespace}/pods?${query}`, {
  dispatcher: agent,
  headers: {
    authorization: `Bearer ${readFileSync(values['token-file'], 'utf8').trim()}`,
    accept: 'application/json',
    'user-agent': 'pod-sync-bench-bare-reader',
  },
});
if (response.statusCode !== 200)
  throw new Error(`watch-list: HTTP ${response.statusCode}: ${await response.body.text()}`);

const decoder = new TextDecoder();
let rest = '';
let events = 0;
let done = false;
for await (const chunk of response.body) {
  const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    if (!line) continue;
    const event = JSON.parse(line);
    events++;
    if (
      event.type === 'BOOKMARK' &&
      event.object?.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true'
    ) {
      done = true;
      break;
    }
  }
  if (done) break;
}
if (!done) throw new Error(`the stream ended after ${events} events, before the initial-events-end bookmark`);
process.stdout.write(`initial-events-end ${events}\n`);
await agent.destroy();

const idle = setInterval(() => undefined, 60_000);
process.once('SIGTERM', () => {
  clearInterval(idle);
});
