'use strict';
// dicoogle-client 5.1.0 and the indexer settings: getIndexerSettings() whole and per field (the
// client reads single values as text, and asks for `thumbnailSize`, not `thumbnail/size`),
// setIndexerSettings(field, value) (a partial POST, `thumbnail` renamed `saveThumbnail`) and
// setIndexerSettings(object) with what getIndexerSettings() returned; then the watch folder
// switched on through the client indexes a file copied in.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dicoogleClient = require('dicoogle-client');
const { startServer } = require('./tessera_server');

const samplesDir = fs.realpathSync(process.env.TESSERA_SAMPLES_DIR || path.resolve(__dirname, '../../../../shared/dicom-samples'));
const served = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-js-watch-')));
const servers = [];

after(async () => {
  for (const server of servers) await server.stop();
  fs.rmSync(served, { recursive: true, force: true });
});

test('indexer settings and the watch folder through dicoogle-client', async () => {
  const server = await startServer([], {
    serverXml: `<config><plugins><plugin name="file"><setting key="roots">${served}</setting></plugin></plugins></config>\n`,
  });
  servers.push(server);
  const client = dicoogleClient(server.url);
  await client.login('dicoogle', 'dicoogle');

  assert.deepEqual(await client.getIndexerSettings(),
    { path: '', zip: false, effort: 100, thumbnail: false, thumbnailSize: 64, watcher: false });
  assert.equal(await client.getIndexerSettings('path'), '');
  assert.equal(await client.getIndexerSettings('effort'), 100);
  assert.equal(await client.getIndexerSettings('thumbnailSize'), 64);
  assert.equal(await client.getIndexerSettings('thumbnail'), false);
  assert.equal(await client.getIndexerSettings('watcher'), false);
  assert.equal(await client.getIndexerSettings('zip'), false);

  const watched = path.join(served, 'incoming');
  fs.mkdirSync(watched);
  await client.setIndexerSettings('effort', 55);
  await client.setIndexerSettings('thumbnail', true);
  await client.setIndexerSettings('thumbnailSize', 96);
  await client.setIndexerSettings('path', watched);
  const now = await client.getIndexerSettings();
  assert.deepEqual(now, { path: watched, zip: false, effort: 55, thumbnail: true, thumbnailSize: 96, watcher: false });
  assert.equal(await client.getIndexerSettings('path'), watched);  // a path, read as text

  // Back with one field changed: the client sends everything, saveThumbnail computed.
  await client.setIndexerSettings({ ...now, thumbnail: false, watcher: true });
  assert.deepEqual(await client.getIndexerSettings(),
    { path: watched, zip: false, effort: 55, thumbnail: false, thumbnailSize: 96, watcher: true });

  // A bad value is refused with the error as JSON.
  await assert.rejects(client.setIndexerSettings('effort', 500), (err) => err.status === 400);

  // The watcher is on: a copied file becomes searchable.
  fs.copyFileSync(path.join(samplesDir, 'images', 'CT_small.dcm'), path.join(watched, 'ct.dcm'));
  const deadline = Date.now() + 20000;
  let found = 0;
  while (Date.now() < deadline) {
    found = (await client.search('SOPInstanceUID:1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322')).numResults;
    if (found === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(found, 1);
});
