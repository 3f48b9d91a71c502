'use strict';
// The official dicoogle-client 5.1.0 drives tessera-server end to end, as the Dicoogle web app
// does: index two sample folders, poll the tasks, search, searchDIM, dump, export to CSV and
// download it, list providers, unindex, close the tasks. Expected answers come from the sample
// corpus's MANIFEST.tsv, never typed in.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const dicoogleClient = require('dicoogle-client');
const { startServer } = require('./tessera_server');

const samplesDir = fs.realpathSync(process.env.TESSERA_SAMPLES_DIR || path.resolve(__dirname, '../../../../shared/dicom-samples'));

function loadManifest() {
  const lines = fs.readFileSync(path.join(samplesDir, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  return lines.slice(1).map((line) => {
    const values = line.split('\t');
    assert.equal(values.length, header.length, `bad manifest line: ${line}`);
    return Object.fromEntries(header.map((name, i) => [name, values[i]]));
  });
}

const manifest = loadManifest();
// Two folders of the corpus, each holding only core instances (plus the DICOMDIR and a
// non-storable fragment, which indexing skips).
const folders = ['dicomdir', 'charsets'];
const rowsOf = (folder) => manifest.filter((r) => r.group === 'core' && r.file.startsWith(`${folder}/`));
const indexed = folders.flatMap(rowsOf);
const uriOf = (relative) => `file:${samplesDir}/${relative}`;
const fileOf = (uri) => {
  const prefix = `${samplesDir}/`;
  const p = decodeURIComponent(uri.replace(/^file:(\/\/)?/, ''));
  return p.startsWith(prefix) ? p.slice(prefix.length) : `<not a sample> ${uri}`;
};
const sortedFiles = (rows) => rows.map((r) => r.file).sort();
const answeredFiles = (body) => body.results.map((r) => fileOf(r.uri)).sort();
const byFile = new Map(manifest.map((r) => [r.file, r]));

let server;
let client;
const taskUids = [];

before(async () => {
  const serverXml = `<config><plugins><plugin name="file"><setting key="roots">${samplesDir}</setting></plugin></plugins></config>\n`;
  server = await startServer([], { serverXml });
  client = dicoogleClient(server.url);
  await client.login('dicoogle', 'dicoogle');
});

after(async () => {
  if (server) await server.stop();
});

async function waitForTasks(uris) {
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const { tasks, count } = await client.tasks.list();
    assert.ok(Array.isArray(tasks));
    const mine = uris.map((uri) => tasks.filter((t) => t.taskName.endsWith(` ${uri}`) && !taskUids.includes(t.taskUid)));
    for (const found of mine) {
      for (const t of found) {
        assert.ok(t.taskProgress <= 1, `progress ${t.taskProgress}`);
        assert.equal(t.canceled, undefined);
      }
    }
    if (mine.every((found) => found.length === 1 && found[0].complete === true)) {
      assert.equal(typeof count, 'number');
      return mine.map((found) => found[0]);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`index tasks for ${uris} did not complete:\n${server.log()}`);
}

test('index(uris) starts one task per URI; tasks.list() shows them complete with counts', async () => {
  const uris = folders.map(uriOf);
  await client.index(uris);
  const done = await waitForTasks(uris);
  folders.forEach((folder, i) => {
    const task = done[i];
    assert.equal(task.nIndexed, rowsOf(folder).length, `${folder}: ${JSON.stringify(task)}`);
    assert.equal(task.nErrors, 0);
    assert.equal(task.taskProgress, 1);
    assert.equal(typeof task.elapsedTime, 'number');
    assert.match(task.taskTimeCreated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    taskUids.push(task.taskUid);
  });
  const { count } = await client.tasks.list();
  assert.equal(count, 0);

  // Indexing a folder again through a named plugin replaces its documents: no duplicates.
  await client.index(uriOf('dicomdir'), 'xapian');
  const [again] = await waitForTasks([uriOf('dicomdir')]);
  assert.equal(again.nIndexed, rowsOf('dicomdir').length);
  taskUids.push(again.taskUid);
  const all = await client.search('*:*');
  assert.equal(all.numResults, indexed.length);
  assert.deepEqual(answeredFiles(all), sortedFiles(indexed));
});

test('search: field query, free text, chosen fields, provider and paging', async () => {
  const archibald = indexed.filter((r) => r.PatientID === '77654033');
  assert.equal(archibald.length, 7);
  const body = await client.search('PatientID:77654033');
  assert.equal(body.numResults, archibald.length);
  assert.deepEqual(answeredFiles(body), sortedFiles(archibald));
  assert.equal(typeof body.elapsedTime, 'number');
  for (const result of body.results) {
    const row = byFile.get(fileOf(result.uri));
    assert.equal(result.fields.PatientName, row.PatientName);
    assert.equal(result.fields.SOPInstanceUID, row.SOPInstanceUID);
    assert.equal(result.fields.StudyDate, row.StudyDate);
    assert.equal(result.fields.Modality, row.modality);
  }

  // A bare word: the client sends keyword=false; free text over all values.
  assert.deepEqual(answeredFiles(await client.search('archibald')), sortedFiles(archibald));
  // Non-Latin free text.
  const russian = await client.search('Люкceмбypг');
  assert.deepEqual(answeredFiles(russian), ['charsets/chrRuss_ISO_IR_144.dcm']);

  const chosen = await client.search('PatientID:77654033', { field: ['SOPInstanceUID', 'PatientName'] });
  assert.equal(chosen.results.length, archibald.length);
  for (const result of chosen.results) {
    assert.equal(result.fields.PatientName, 'Doe^Archibald');
    assert.equal(result.fields.Modality, undefined);
  }

  const viaProvider = await client.search('PatientName:doe', { provider: 'xapian' });
  const does = indexed.filter((r) => /^Doe\^/.test(r.PatientName));
  assert.deepEqual(answeredFiles(viaProvider), sortedFiles(does));
  await assert.rejects(client.search('*:*', { provider: 'nonexistent' }), (err) => err.status === 400);
  await assert.rejects(client.search('PatientName:(doe'), (err) => err.status === 400);

  const whole = await client.search('*:*');
  const order = whole.results.map((r) => r.uri);
  const paged = [];
  for (let offset = 0; offset < order.length; offset += 10) {
    const page = await client.search('*:*', { psize: 10, offset });
    assert.equal(page.numResults, indexed.length);
    assert.equal(page.results.length, Math.min(10, order.length - offset));
    paged.push(...page.results.map((r) => r.uri));
  }
  assert.deepEqual(paged, order);
});

test('searchDIM with depth and paging on patients', async () => {
  const does = indexed.filter((r) => /^Doe\^/.test(r.PatientName));
  const studiesOf = (id) => new Set(does.filter((r) => r.PatientID === id).map((r) => r.StudyInstanceUID));

  const study = await client.searchDIM('PatientName:doe', { depth: 'study' });
  assert.equal(study.numResults, 2);
  assert.deepEqual(study.results.map((p) => p.id).sort(), ['77654033', '98890234']);
  for (const patient of study.results) {
    assert.equal(patient.nStudies, studiesOf(patient.id).size);
    assert.deepEqual(new Set(patient.studies.map((s) => s.studyInstanceUID)), studiesOf(patient.id));
    for (const s of patient.studies) assert.equal(s.series, undefined);
  }

  const image = await client.searchDIM('PatientName:doe', { depth: 'image' });
  const images = image.results.flatMap((p) => p.studies.flatMap((s) => s.series.flatMap((se) => se.images)));
  assert.deepEqual(images.map((i) => fileOf(i.uri)).sort(), sortedFiles(does));
  for (const img of images) {
    const row = byFile.get(fileOf(img.uri));
    assert.equal(img.sopInstanceUID, row.SOPInstanceUID);
    assert.equal(img.filename, path.basename(row.file));
  }
  for (const patient of image.results) {
    for (const s of patient.studies) {
      for (const se of s.series) {
        assert.equal(typeof se.serieNumber, 'number');
        for (const img of se.images) assert.equal(byFile.get(fileOf(img.uri)).SeriesInstanceUID, se.serieInstanceUID);
      }
    }
  }

  const none = await client.searchDIM('PatientName:doe', { depth: 'none' });
  assert.equal(none.numResults, 2);
  assert.equal(none.results, undefined);

  const patient = await client.searchDIM('PatientName:doe', { depth: 'patient' });
  for (const p of patient.results) assert.equal(p.studies, undefined);
  const second = await client.searchDIM('PatientName:doe', { depth: 'patient', psize: 1, offset: 1 });
  assert.equal(second.numResults, 2);
  assert.equal(second.results.length, 1);
  assert.equal(second.results[0].id, patient.results[1].id);
});

test('dump returns every attribute of one instance, non-Latin names included', async () => {
  for (const file of ['charsets/chrX1_ISO_IR_192.dcm', 'charsets/chrI2_ISO2022_IR149.dcm', 'dicomdir/77654033/CT2/17106']) {
    const row = byFile.get(file);
    const body = await client.dump(row.SOPInstanceUID);
    assert.equal(fileOf(body.results.uri), file);
    const { fields } = body.results;
    assert.equal(fields.PatientName, row.PatientName);
    assert.equal(fields.PatientID, row.PatientID);
    assert.equal(fields.StudyInstanceUID, row.StudyInstanceUID);
    assert.equal(fields.SeriesInstanceUID, row.SeriesInstanceUID);
    assert.equal(fields.SOPClassUID, row.sop_class_uid);
    assert.equal(fields.StudyDate ?? '', row.StudyDate);
    assert.ok(Object.keys(fields).length > 20, 'every attribute, not the default list');
  }
  assert.equal((await client.dump(byFile.get('charsets/chrX1_ISO_IR_192.dcm').SOPInstanceUID)).results.fields.PatientName,
    'Wang^XiaoDong=王^小東=');
  assert.equal((await client.dump(byFile.get('dicomdir/77654033/CT2/17106').SOPInstanceUID, 'xapian')).results.fields.PatientName,
    'Doe^Archibald');
});

test('issueExport, then GET /exportFile?UID= with the token gives the CSV', async () => {
  const archibald = indexed.filter((r) => r.PatientID === '77654033');
  const expected = archibald.map((r) => `"${r.SOPInstanceUID}";"${r.PatientName}";${r.AccessionNumber ? `"${r.AccessionNumber}";` : ';'}`).sort();

  for (const options of [{}, { provider: 'xapian' }]) {
    const uid = await client.issueExport('PatientID:77654033', ['SOPInstanceUID', 'PatientName', 'AccessionNumber'], options);
    assert.equal(typeof uid, 'string');
    const response = await fetch(`${server.url}/exportFile?UID=${encodeURIComponent(uid)}`, {
      headers: { Authorization: client.getToken() },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/csv/);
    const lines = (await response.text()).split(/\r?\n/).filter((l) => l.length > 0);
    assert.equal(lines[0], '"SOPInstanceUID";"PatientName";"AccessionNumber";');
    assert.deepEqual(lines.slice(1).sort(), expected);
  }
  const anonymous = await fetch(`${server.url}/exportFile?UID=0f8fad5b-d9cb-469f-a165-70867728950e`);
  assert.equal(anonymous.status, 401);
});

test('getProviders lists xapian for query and index, file for storage', async () => {
  assert.ok((await client.getProviders()).includes('xapian'));
  assert.ok((await client.getQueryProviders()).includes('xapian'));
  assert.ok((await client.getIndexProviders()).includes('xapian'));
  assert.ok((await client.getStorageProviders()).includes('file'));
});

test('unindex one URI and several URIs (form body), then tasks.close', async () => {
  const [first, second, third] = rowsOf('dicomdir').filter((r) => r.PatientID === '98890234');
  await client.unindex(uriOf(first.file));
  assert.equal((await client.search(`SOPInstanceUID:${first.SOPInstanceUID}`)).numResults, 0);
  await client.unindex([uriOf(second.file), uriOf(third.file)]);
  for (const row of [second, third]) assert.equal((await client.search(`SOPInstanceUID:${row.SOPInstanceUID}`)).numResults, 0);
  const peter = await client.search('PatientID:98890234');
  const remaining = indexed.filter((r) => r.PatientID === '98890234' && ![first, second, third].includes(r));
  assert.deepEqual(answeredFiles(peter), sortedFiles(remaining));
  const all = await client.search('*:*');
  assert.equal(all.numResults, indexed.length - 3);

  for (const uid of taskUids) await client.tasks.close(uid);
  const { tasks, count } = await client.tasks.list();
  assert.deepEqual(tasks.filter((t) => taskUids.includes(t.taskUid)), []);
  assert.equal(count, 0);
});
