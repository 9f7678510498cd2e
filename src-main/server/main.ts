// `node out/src-main/server/main.js [--data-dir DIR] [--port N]`: web mode, the app in a browser.
import { parseArgs } from 'node:util';
import { createBackend } from '../api/backend.js';
import { defaultDataDir } from '../common/data-dir.js';
import { startWebServer } from './web-server.js';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, port: { type: 'string', default: '0' } },
});
const dataDir = values['data-dir'] ?? defaultDataDir();
const backend = createBackend({ dataDir });
const server = await startWebServer(backend, { port: Number(values.port) });
console.log(`SingleInsert Studio (web mode) is running. Open this address in your browser:\n${server.url}`);
console.log(
  "The address holds this run's access token, and the page takes it out of the address bar once it has it: " +
    'a new tab or a bookmark without it cannot reach the app. To get back in, open the address above again, ' +
    'or stop this (Ctrl+C) and run `npm run start:web` for a new one.',
);
console.log(`Library: ${dataDir}`);

const shutdown = async () => {
  await server.close();
  await backend.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
