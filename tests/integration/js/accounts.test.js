'use strict';
// The official dicoogle-client 5.1.0 against tessera-server: version, login, session restore,
// logout and user management, exactly as the Dicoogle web app and scripts call them.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const dicoogleClient = require('dicoogle-client');
const { startServer } = require('./tessera_server');

let server;
let client;

before(async () => {
  server = await startServer();
  client = dicoogleClient(server.url);
});

after(async () => {
  if (server) await server.stop();
});

test('getVersion answers a Dicoogle 3 version', async () => {
  const body = await client.getVersion();
  assert.match(body.version, /^3\./);
});

test('login with a wrong password is rejected with 401', async () => {
  await assert.rejects(client.login('dicoogle', 'wrong'), (err) => err.status === 401);
  assert.equal(client.isAuthenticated(), false);
});

test('login, restoreSession and logout', async () => {
  const body = await client.login('dicoogle', 'dicoogle');
  assert.equal(body.user, 'dicoogle');
  assert.equal(body.admin, true);
  assert.ok(Array.isArray(body.roles));
  assert.equal(typeof body.token, 'string');
  assert.equal(client.isAuthenticated(), true);
  assert.equal(client.getUsername(), 'dicoogle');

  const token = client.getToken();
  client.reset();
  assert.equal(client.isAuthenticated(), false);
  const restored = await client.restoreSession(token);
  assert.equal(restored.user, 'dicoogle');
  assert.equal(client.getToken(), token);

  await client.logout();
  assert.equal(client.isAuthenticated(), false);
  // The server really revoked it: restoring the old token now fails.
  await assert.rejects(client.restoreSession(token), (err) => err.status === 401);
});

test('users: add, list, log in as the new user, remove', async () => {
  await client.login('dicoogle', 'dicoogle');
  assert.equal(await client.users.add('grace', 'hopper-1906', false), true);
  assert.equal(await client.users.add('grace', 'again', false), false);
  const users = await client.users.list();
  assert.deepEqual(users.map((u) => u.username).sort(), ['dicoogle', 'grace']);

  // A non-admin cannot list users (we close Dicoogle's open admin API).
  const adminToken = client.getToken();
  const grace = await client.login('grace', 'hopper-1906');
  assert.equal(grace.admin, false);
  await assert.rejects(client.users.list(), (err) => err.status === 403);

  await client.restoreSession(adminToken);
  assert.equal(await client.users.remove('grace'), true);
  assert.equal(await client.users.remove('grace'), false);
  // The last admin stays.
  assert.equal(await client.users.remove('dicoogle'), false);
  assert.deepEqual((await client.users.list()).map((u) => u.username), ['dicoogle']);
});

test('a request without a session is refused with 401', async () => {
  client.reset();
  await assert.rejects(client.users.list(), (err) => err.status === 401);
});
