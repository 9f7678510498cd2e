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
console.log(`Library: ${dataDir}`);

const shutdown = async () => {
  await server.close();
  await backend.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
