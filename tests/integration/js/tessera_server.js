'use strict';
// Starts the real tessera-server binary on a free port in a fresh temp directory and reports its
// base URL; stop() ends it and removes the directory. Shared by the client tests.
// options.serverXml: the text of a server.xml written into the data directory before start
// (e.g. to give the file storage plugin extra roots).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

async function startServer(extraArgs = [], options = {}) {
  const binary = process.env.TESSERA_SERVER_BINARY;
  if (!binary) throw new Error('TESSERA_SERVER_BINARY is not set (run through ctest)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-js-'));
  if (typeof options.serverXml === 'string') fs.writeFileSync(path.join(dataDir, 'server.xml'), options.serverXml);
  const child = spawn(binary, ['--data-dir', dataDir, '--http-port', '0', '--storage-port', '0', '--query-port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const port = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}\n${stderr}`)), 30000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /tessera-server listening http=[^ ]*:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { startServer };
