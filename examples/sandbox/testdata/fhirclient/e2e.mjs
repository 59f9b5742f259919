// End-to-end check of the sandbox as a JavaScript tester meets it, with the
// fhir-kit-client FHIR library: read, search, follow links across pages,
// follow pointers to regional records (directly and through the Spine
// Secure Proxy) with identity tokens built here, produce a pointer and
// follow its Location, update and delete it, and the errors.
//
//   SANDBOX_URL=http://127.0.0.1:8700 node e2e.mjs
//
// It prints one line per check and exits 1 at the first failure.
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { Client } from 'fhir-kit-client';

const B = process.env.SANDBOX_URL;
if (!B) {
  console.error('SANDBOX_URL is not set');
  process.exit(2);
}
const NHS = '9490000019';
const CONSUMER_ODS = 'Y90001';
const SSP_INTERACTION = 'urn:nhs:names:services:nrl:DocumentReference.content.read';

let checks = 0;
async function check(name, fn) {
  try {
    await fn();
    checks++;
    console.log(`ok ${checks} ${name}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.stack || err}`);
    process.exit(1);
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const json64 = (obj) => b64url(JSON.stringify(obj));
const rid = () => ({ 'x-request-id': randomUUID() });
const header = (res, name) => Client.httpFor(res).response.headers.get(name);

// expectError runs a call that must fail and checks the answer's status,
// that it is an OperationOutcome, and its Spine error code.
async function expectError(call, status, code) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected HTTP ${status} ${code}, the call succeeded`);
  assert.ok(err.response, `expected an HTTP answer, got ${err}`);
  assert.equal(err.response.status, status, JSON.stringify(err.response.data));
  assert.equal(err.response.data.resourceType, 'OperationOutcome');
  const codes = err.response.data.issue.flatMap((i) => (i.details?.coding ?? []).map((c) => c.code));
  assert.ok(codes.includes(code), `codes ${codes} lack ${code}`);
}

// --- An access token the way an application gets one: its own key,
// registered with the sandbox, signing a client assertion (RS512).
let accessToken;
await check('register a key and get an access token with a signed client assertion', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'js-key-1', use: 'sig', alg: 'RS512' };
  let res = await fetch(`${B}/sandbox/keys?api_key=js-app`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [jwk] }),
  });
  const regText = await res.text();
  assert.equal(res.status, 201, regText);
  const reg = JSON.parse(regText);
  assert.equal(reg.token_url, `${B}/oauth2/token`);
  const now = Math.floor(Date.now() / 1000);
  const signing = `${json64({ alg: 'RS512', typ: 'JWT', kid: 'js-key-1' })}.${json64({
    iss: 'js-app', sub: 'js-app', aud: reg.token_url, jti: randomUUID(), exp: now + 240,
  })}`;
  const signature = createSign('RSA-SHA512').update(signing).sign(privateKey);
  res = await fetch(reg.token_url, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${signing}.${b64url(signature)}`,
    }),
  });
  const tokText = await res.text();
  assert.equal(res.status, 200, tokText);
  accessToken = JSON.parse(tokText).access_token;
  assert.ok(accessToken);
});

// --- PDS
const pds = new Client({ baseUrl: `${B}/personal-demographics/FHIR/R4` });
pds.bearerToken = accessToken;

await check('PDS CapabilityStatement', async () => {
  const cs = await pds.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.ok(cs.rest[0].resource.some((r) => r.type === 'Patient'));
});

let etag;
await check('PDS read', async () => {
  const p = await pds.read({ resourceType: 'Patient', id: NHS, options: { headers: rid() } });
  assert.equal(p.resourceType, 'Patient');
  assert.equal(p.id, NHS);
  etag = header(p, 'etag');
  assert.match(etag, /^W\/"\d+"$/);
});

await check('PDS search, and its fullUrls resolve', async () => {
  const b = await pds.search({ resourceType: 'Patient', searchParams: { family: 'Hartley', birthdate: 'eq1984-03-14' }, options: { headers: rid() } });
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'searchset');
  assert.ok(b.entry.length >= 1);
  const full = b.entry[0].fullUrl;
  assert.ok(full.startsWith(`${B}/personal-demographics/FHIR/R4/Patient/`), full);
  const p = await pds.request(full, { options: { headers: rid() } });
  assert.equal(p.resourceType, 'Patient');
});

await check('PDS related people, with ETag, fullUrls resolve', async () => {
  const b = await pds.request(`Patient/${NHS}/RelatedPerson`, { options: { headers: rid() } });
  assert.equal(b.resourceType, 'Bundle');
  assert.ok(header(b, 'etag'));
  for (const e of b.entry) {
    const rp = await pds.request(e.fullUrl, { options: { headers: rid() } });
    assert.equal(rp.resourceType, 'RelatedPerson');
  }
});

await check('PDS update: PATCH {"patches":[...]} with If-Match', async () => {
  const p = await pds.request(`Patient/${NHS}`, {
    method: 'PATCH',
    body: { patches: [{ op: 'replace', path: '/gender', value: 'female' }] },
    options: { headers: { ...rid(), 'content-type': 'application/json-patch+json', 'if-match': etag } },
  });
  assert.equal(p.resourceType, 'Patient');
  assert.notEqual(header(p, 'etag'), etag, 'the version moved on');
});

await check('PDS errors', async () => {
  await expectError(() => pds.read({ resourceType: 'Patient', id: '9000000000', options: { headers: rid() } }), 400, 'INVALID_RESOURCE_ID');
  await expectError(() => pds.read({ resourceType: 'Patient', id: '9490000094', options: { headers: rid() } }), 404, 'RESOURCE_NOT_FOUND');
  await expectError(() => pds.read({ resourceType: 'Patient', id: NHS }), 400, 'MISSING_VALUE');
  const anon = new Client({ baseUrl: pds.baseUrl });
  await expectError(() => anon.read({ resourceType: 'Patient', id: NHS, options: { headers: rid() } }), 401, 'ACCESS_DENIED');
  await expectError(() => pds.request(`Patient/${NHS}`, {
    method: 'PATCH', body: { patches: [{ op: 'replace', path: '/gender', value: 'male' }] },
    options: { headers: { ...rid(), 'content-type': 'application/json-patch+json', 'if-match': etag } },
  }), 409, 'RESOURCE_VERSION_MISMATCH');
});

await check('PDS too many matches is a 200 OperationOutcome', async () => {
  const oo = await pds.search({ resourceType: 'Patient', searchParams: { family: 'Hartley', birthdate: 'eq1984-03-14', '_max-results': '1' }, options: { headers: rid() } });
  assert.equal(Client.httpFor(oo).response.status, 200);
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue[0].details.coding[0].code, 'TOO_MANY_MATCHES');
});

// --- NRL consumer
const nrl = new Client({ baseUrl: `${B}/record-locator/consumer/FHIR/R4`, customHeaders: { 'nhsd-end-user-organisation-ods': CONSUMER_ODS } });
nrl.bearerToken = accessToken;
const subject = `https://fhir.nhs.uk/Id/nhs-number|${NHS}`;
let pointers;
await check('NRL CapabilityStatement', async () => {
  const cs = await nrl.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
});

await check('NRL search, and its self link repeats it', async () => {
  const b = await nrl.search({ resourceType: 'DocumentReference', searchParams: { 'subject:identifier': subject }, options: { headers: rid() } });
  assert.equal(b.type, 'searchset');
  assert.equal(b.total, 5);
  pointers = b.entry.map((e) => e.resource);
  const self = b.link.find((l) => l.relation === 'self').url;
  assert.ok(self.startsWith(`${B}/record-locator/consumer/FHIR/R4/DocumentReference?`), self);
  const again = await nrl.request(self, { options: { headers: rid() } });
  assert.equal(again.total, 5);
});

await check('NRL POST _search with a JSON body', async () => {
  const b = await nrl.request('DocumentReference/_search', {
    method: 'POST', body: { 'subject:identifier': subject }, options: { headers: { ...rid(), 'content-type': 'application/json' } },
  });
  assert.equal(b.total, 5);
});

await check('NRL errors', async () => {
  await expectError(() => nrl.search({ resourceType: 'DocumentReference', searchParams: { 'subject:identifier': subject, type: 'http://snomed.info/sct|1' }, options: { headers: rid() } }), 400, 'INVALID_CODE_SYSTEM');
  await expectError(() => nrl.search({ resourceType: 'DocumentReference', searchParams: { 'subject:identifier': subject } }), 400, 'MISSING_OR_INVALID_HEADER');
});

// --- Following pointers to the regional records
const urlOf = (id) => pointers.find((p) => p.id === id).content[0].attachment.url;
const asidOf = (id) => pointers.find((p) => p.id === id).context.related.find((r) => r.identifier.system === 'https://fhir.nhs.uk/Id/nhsSpineASID').identifier.value;

// identityClaims are GP Connect-style identity claims for aud, as a tester
// builds them.
function identityClaims(aud) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://js-tester.example/app', sub: '555000000101', aud, iat: now, exp: now + 300, jti: randomUUID(),
    reason_for_request: 'directcare', requested_scope: 'patient/*.read', purpose_of_use: 'TREAT',
    requesting_device: { resourceType: 'Device', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhsSpineASID', value: '200000000001' }], model: 'JS tester', version: '1' },
    requesting_organization: { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: CONSUMER_ODS }] },
    requesting_practitioner: { resourceType: 'Practitioner', id: '555000000101', identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: '555000000101' }, { system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: '555000000102' }], name: [{ family: 'Tester', given: ['Jo'] }] },
  };
}

// unsigned builds an identity token as the unsigned region (Fenland
// Coast, RFC) takes it.
function unsigned(aud) {
  return `${json64({ alg: 'none', typ: 'JWT' })}.${json64(identityClaims(aud))}.`;
}

// identityKey signs the tester's own identity tokens, once registered.
const identityKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

// signedRS256 builds an identity token signed with the tester's own key.
function signedRS256(aud, privateKey) {
  const signing = `${json64({ alg: 'RS256', typ: 'JWT' })}.${json64(identityClaims(aud))}`;
  return `${signing}.${b64url(createSign('RSA-SHA256').update(signing).sign(privateKey))}`;
}

await check('a structured record, directly with an identity token signed here, following next links across pages', async () => {
  const url = urlOf('RNR-000002');
  assert.ok(url.startsWith(`${B}/shcr/RNR/fhir/records/`), url);
  const res = await fetch(`${B}/sandbox/identity-keys?custodian=RNR`, { method: 'POST', body: identityKey.publicKey.export({ type: 'spki', format: 'pem' }) });
  const regText = await res.text();
  assert.equal(res.status, 201, regText);
  const [region] = JSON.parse(regText).trusted_by;
  assert.equal(region.audience, `${B}/shcr/RNR/fhir`);
  assert.equal(region.alg, 'RS256');
  const shcr = new Client({ baseUrl: region.audience, customHeaders: { [region.header.toLowerCase()]: signedRS256(region.audience, identityKey.privateKey) } });
  shcr.bearerToken = accessToken;
  let page = await shcr.request(url);
  let pages = 1;
  const entries = [...page.entry];
  for (;;) {
    const next = await shcr.nextPage({ bundle: page });
    if (!next) break;
    pages++;
    entries.push(...next.entry);
    page = next;
  }
  assert.ok(pages > 1, 'the record spans pages');
  assert.equal(entries.length, 7);
  for (const e of entries) assert.match(e.fullUrl, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(entries[0].resource.resourceType, 'Composition');
});

await check('a document through the Spine Secure Proxy with an identity token built here', async () => {
  const ssp = urlOf('RFC-000004');
  assert.ok(ssp.startsWith('ssp://'), ssp);
  const target = `https://${ssp.slice('ssp://'.length)}`;
  const res = await fetch(`${B}/ssp/${encodeURIComponent(target)}`, {
    headers: {
      'ssp-traceid': randomUUID(), 'ssp-from': '200000000001', 'ssp-to': asidOf('RFC-000004'), 'ssp-interactionid': SSP_INTERACTION,
      authorization: `Bearer ${unsigned(`${B}/shcr/RFC/fhir`)}`,
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.equal(Buffer.from(await res.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
});

await check('a signed region through the Spine Secure Proxy with an identity token signed here', async () => {
  const ssp = urlOf('RNR-000001');
  assert.ok(ssp.startsWith('ssp://'), ssp);
  const res = await fetch(`${B}/ssp/https://${ssp.slice('ssp://'.length)}`, {
    headers: {
      'ssp-traceid': randomUUID(), 'ssp-from': '200000000001', 'ssp-to': asidOf('RNR-000001'), 'ssp-interactionid': SSP_INTERACTION,
      authorization: `Bearer ${signedRS256(`${B}/shcr/RNR/fhir`, identityKey.privateKey)}`,
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/pdf');
});

await check('a document directly with an identity token built here', async () => {
  const res = await fetch(`${B}/shcr/RFC/fhir/records/RFC-000008`, { headers: { authorization: `Bearer ${unsigned(`${B}/shcr/RFC/fhir`)}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
});

await check('regional and proxy errors', async () => {
  const rfc = new Client({ baseUrl: `${B}/shcr/RFC/fhir` });
  rfc.bearerToken = unsigned('https://elsewhere.example/fhir');
  await expectError(() => rfc.request('records/RFC-000008'), 403, 'ACCESS_DENIED');
  rfc.bearerToken = unsigned(`${B}/shcr/RFC/fhir`);
  await expectError(() => rfc.request('records/RFC-999999'), 404, 'NO_RECORD_FOUND');
  const proxy = new Client({ baseUrl: `${B}/ssp`, customHeaders: { 'ssp-traceid': randomUUID(), 'ssp-from': '200000000001', 'ssp-to': '900000000101', 'ssp-interactionid': SSP_INTERACTION } });
  proxy.bearerToken = unsigned(`${B}/shcr/RFC/fhir`);
  await expectError(() => proxy.request(`${B}/ssp/${encodeURIComponent(`${B}/shcr/RFC/fhir/records/RFC-000004`)}`), 403, 'ACCESS_DENIED');
});

// --- NRL producer: create, follow Location, update, delete
const producer = new Client({ baseUrl: `${B}/record-locator/producer/FHIR/R4`, customHeaders: { 'nhsd-end-user-organisation-ods': 'RNR' } });
producer.bearerToken = accessToken;
await check('producer create, follow Location, update, delete', async () => {
  const template = structuredClone(pointers.find((p) => p.id === 'RNR-000005'));
  delete template.id;
  delete template.meta;
  template.content[0].attachment.url = `${B}/shcr/RNR/fhir/records/RNR-js-1`;
  template.relatesTo = undefined;
  const created = await producer.create({ resourceType: 'DocumentReference', body: template, options: { headers: rid() } });
  assert.equal(Client.httpFor(created).response.status, 201);
  assert.equal(created.resourceType, 'OperationOutcome');
  const loc = header(created, 'location');
  assert.ok(loc.startsWith(`${B}/record-locator/producer/FHIR/R4/DocumentReference/`), loc);
  const doc = await producer.request(loc, { options: { headers: rid() } });
  assert.equal(doc.resourceType, 'DocumentReference');
  doc.content[0].attachment.url = `${B}/shcr/RNR/fhir/records/RNR-js-2`;
  const updated = await producer.update({ resourceType: 'DocumentReference', id: doc.id, body: doc, options: { headers: rid() } });
  assert.equal(updated.resourceType, 'OperationOutcome');
  const again = await producer.read({ resourceType: 'DocumentReference', id: doc.id, options: { headers: rid() } });
  assert.equal(again.content[0].attachment.url, `${B}/shcr/RNR/fhir/records/RNR-js-2`);
  await producer.delete({ resourceType: 'DocumentReference', id: doc.id, options: { headers: rid() } });
  await expectError(() => producer.read({ resourceType: 'DocumentReference', id: doc.id, options: { headers: rid() } }), 404, 'NO_RECORD_FOUND');
});

await check('producer errors', async () => {
  const other = new Client({ baseUrl: producer.baseUrl, customHeaders: { 'nhsd-end-user-organisation-ods': 'RWV' } });
  other.bearerToken = accessToken;
  const p = structuredClone(pointers.find((x) => x.id === 'RNR-000005'));
  delete p.id;
  await expectError(() => other.create({ resourceType: 'DocumentReference', body: p, options: { headers: rid() } }), 400, 'BAD_REQUEST');
});

console.log(`PASS ${checks} checks`);
