'use strict';
// dicoogle-client 5.1.0 and the plugin endpoints: getPlugins (dim/default flags),
// getProviders/getQueryProviders/getIndexProviders/getStorageProviders, and enable/disable through
// the client's raw request() (5.1.0 has no method for it), saved across a restart; search with
// repeated and unknown providers.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const dicoogleClient = require('dicoogle-client');
const { startServer } = require('./tessera_server');

const pluginDir = process.env.TESSERA_TEST_PLUGIN_DIR;
const goodPlugin = pluginDir ? path.join(pluginDir, 'good') : null;
const servers = [];

after(async () => {
  for (const server of servers) await server.stop();
});

async function start(extraArgs, options = {}) {
  const server = await startServer(extraArgs, options);
  servers.push(server);
  const client = dicoogleClient(server.url);  // the module keeps one client: re-point it
  await client.login('dicoogle', 'dicoogle');
  return { server, client };
}

const entry = (plugins, type, name) => plugins.find((p) => p.type === type && p.name === name);

test('getPlugins and getProviders show the providers with their flags', { skip: !goodPlugin }, async () => {
  const { client } = await start(['--plugin-dir', goodPlugin], {
    serverXml: '<config><archive><dim-providers><dim-provider>xapian</dim-provider></dim-providers>' +
      '<default-storages><default-storage>file</default-storage></default-storages></archive></config>\n',
  });
  const body = await client.getPlugins();
  assert.ok(Array.isArray(body.plugins) && Array.isArray(body.sets) && Array.isArray(body.dead));
  assert.equal(entry(body.plugins, 'query', 'xapian').dim, true);
  assert.equal(entry(body.plugins, 'query', 'test-memory').dim, false);
  assert.equal(entry(body.plugins, 'index', 'test-memory').dim, false);
  assert.equal(entry(body.plugins, 'storage', 'file').default, true);
  assert.equal(entry(body.plugins, 'storage', 'file').scheme, 'file');
  assert.equal(entry(body.plugins, 'storage', 'test-memory').default, false);
  assert.deepEqual((await client.getQueryProviders()).sort(), ['test-memory', 'xapian']);
  assert.deepEqual((await client.getIndexProviders()).sort(), ['test-memory', 'xapian']);
  assert.deepEqual((await client.getStorageProviders()).sort(), ['file', 'test-memory']);
  assert.deepEqual((await client.getProviders()).sort(), ['test-memory', 'xapian']);
  await assert.rejects(client.getProviders('nonsense'), (err) => err.status === 400);

  // Search: a non-DIM provider alone is refused, an unknown one too, with Dicoogle's messages.
  await assert.rejects(client.search('*:*', { provider: 'test-memory' }),
    (err) => err.status === 400 && /No valid DIM providers supplied/.test(err.response.text));
  await assert.rejects(client.search('*:*', { provider: ['xapian', 'lucene'] }),
    (err) => err.status === 400 && /lucene is not a valid query provider/.test(err.response.text));
  const ok = await client.search('*:*', { provider: ['XAPIAN', 'test-memory'] });
  assert.equal(ok.numResults, 0);
});

test('disable and enable through request(), kept across a restart', { skip: !goodPlugin }, async () => {
  const first = await start(['--plugin-dir', goodPlugin]);
  const disabled = await first.client.request('POST', ['plugins', 'query', 'test-memory', 'disable']);
  assert.equal(disabled.status, 200);
  assert.equal(disabled.text, '');
  assert.deepEqual(await first.client.getQueryProviders(), ['xapian']);
  let plugins = (await first.client.getPlugins()).plugins;
  assert.equal(entry(plugins, 'query', 'test-memory').enabled, false);
  assert.equal(plugins[0].enabled, false, 'disabled plugins are listed first');
  await assert.rejects(first.client.request('POST', ['plugins', 'query', 'nobody', 'disable']),
    (err) => err.status === 400 && JSON.parse(err.response.text).error === 'No query plugin named nobody');
  await assert.rejects(first.client.request('POST', ['plugins', 'query', 'xapian', 'explode']),
    (err) => err.status === 400);

  // Restart on the same configuration: still disabled. The data directory is copied because
  // stop() removes it.
  const xml = fs.readFileSync(path.join(first.server.dataDir, 'server.xml'), 'utf8');
  assert.match(xml, /query:test-memory/);
  const second = await start(['--plugin-dir', goodPlugin], { serverXml: xml });
  assert.deepEqual(await second.client.getQueryProviders(), ['xapian']);
  await second.client.request('POST', ['plugins', 'query', 'test-memory', 'enable']);
  assert.deepEqual((await second.client.getQueryProviders()).sort(), ['test-memory', 'xapian']);
  plugins = (await second.client.getPlugins()).plugins;
  assert.equal(entry(plugins, 'query', 'test-memory').enabled, true);
});
