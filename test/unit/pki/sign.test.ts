import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { loadAsn1, subjectPublicKeyBytes } from '../../../src/pki/asn1.js';
import { keyMatches, missingAltNames, readCertificate, signedBy, validityProblem } from '../../../src/pki/inspect.js';
import { KeyPool, describeKey, generateKey, privateKeyPem, publicKeyPem, spkiDer } from '../../../src/pki/keys.js';
import { decodePemBlocks, encodePem } from '../../../src/pki/pem.js';
import type { CertPlan } from '../../../src/pki/plan.js';
import { issueCertificate, randomSerial } from '../../../src/pki/sign.js';
import { keyUsageOf } from '../../../src/pki/table.js';

const START = new Date('2026-03-01T12:00:00.750Z');
const caPlan: CertPlan = {
  name: 'ca',
  commonName: 'kubernetes',
  organization: [],
  isCA: true,
  keyUsage: keyUsageOf(true),
  extKeyUsage: [],
  dnsNames: ['kubernetes'],
  ips: [],
  validityMs: 87600 * 3_600_000,
};
const leafPlan: CertPlan = {
  name: 'etcd-server',
  commonName: 'node_1 é',
  organization: ['kubeadm:cluster-admins'],
  isCA: false,
  keyUsage: keyUsageOf(false),
  extKeyUsage: ['serverAuth', 'clientAuth'],
  dnsNames: ['localhost', 'node-1'],
  ips: ['192.0.2.10', '127.0.0.1', '::1', 'fd00::10'],
  validityMs: 8760 * 3_600_000,
};

async function caAndLeaf() {
  const [caKey, leafKey] = await Promise.all([generateKey('RSA-2048'), generateKey('RSA-2048')]);
  const ca = await issueCertificate({
    plan: caPlan,
    validity: { notBefore: new Date(START.getTime() - 300_000), notAfter: new Date(START.getTime() + caPlan.validityMs) },
    publicKey: caKey.publicKey,
    signer: { selfSigned: caKey.privateKey },
  });
  const leaf = await issueCertificate({
    plan: leafPlan,
    validity: { notBefore: new Date(START.getTime() - 300_000), notAfter: new Date(Date.UTC(2051, 0, 2, 3, 4, 5)) },
    publicKey: leafKey.publicKey,
    signer: { caCertDer: ca.der, caKey: caKey.privateKey },
    serial: 0x80n,
  });
  return { caKey, leafKey, ca, leaf };
}

test('issued certificates verify natively: chain, signature, key pair, host and IP matching', async () => {
  const { caKey, leafKey, ca, leaf } = await caAndLeaf();
  const caX = new X509Certificate(ca.pem);
  const leafX = new X509Certificate(leaf.pem);
  assert.ok(caX.verify(caKey.publicKey), 'the CA is self-signed');
  assert.ok(caX.ca);
  assert.ok(leafX.checkIssued(caX));
  assert.ok(leafX.verify(caKey.publicKey));
  assert.ok(!leafX.verify(leafKey.publicKey));
  assert.ok(leafX.checkPrivateKey(leafKey.privateKey));
  assert.equal(leafX.checkHost('node-1'), 'node-1');
  assert.equal(leafX.checkIP('::1'), '::1');
  assert.equal(leafX.checkIP('fd00:0::10'), 'fd00:0::10');
  assert.deepEqual(leafX.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(leafX.serialNumber, '80');
  // a serial with its top bit set is a positive DER INTEGER: 02 02 00 80
  assert.ok(leaf.der.includes(Buffer.from([0x02, 0x02, 0x00, 0x80])));
});

test('Go x509 layout: subject O then CN, extension order, SKID/AKID, key usage bits, times', async () => {
  const { ca, leaf, leafKey } = await caAndLeaf();
  const caInfo = await readCertificate(ca.pem);
  const info = await readCertificate(leaf.pem);
  const a = await loadAsn1();

  assert.deepEqual(caInfo.subject, { commonName: 'kubernetes', organization: [] });
  assert.deepEqual(info.subject, { commonName: 'node_1 é', organization: ['kubeadm:cluster-admins'] });
  assert.deepEqual(info.issuer, { commonName: 'kubernetes', organization: [] });
  assert.match(new X509Certificate(leaf.pem).subject, /^O=kubeadm:cluster-admins\nCN=node_1 é$/);

  assert.deepEqual(caInfo.extensionOrder, ['2.5.29.15', '2.5.29.19', '2.5.29.14', '2.5.29.17']);
  assert.deepEqual(info.extensionOrder, ['2.5.29.15', '2.5.29.37', '2.5.29.19', '2.5.29.35', '2.5.29.17']);
  assert.deepEqual(caInfo.keyUsage, ['digitalSignature', 'keyEncipherment', 'keyCertSign']);
  assert.deepEqual(info.keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.ok(info.keyUsageCritical);
  assert.equal(caInfo.isCA, true);
  assert.equal(info.isCA, false);

  const expectedSkid = createHash('sha256').update(subjectPublicKeyBytes(a, spkiDer(caInfo.publicKey))).digest().subarray(0, 20);
  assert.deepEqual(caInfo.subjectKeyId, expectedSkid);
  assert.equal(caInfo.authorityKeyId, undefined, 'no AKID on a self-signed CA');
  assert.equal(info.subjectKeyId, undefined, 'no SKID on a leaf');
  assert.deepEqual(info.authorityKeyId, expectedSkid);

  assert.deepEqual(info.dnsNames, ['localhost', 'node-1']);
  assert.deepEqual(info.ips, ['192.0.2.10', '127.0.0.1', '::1', 'fd00::10']);
  assert.deepEqual(info.extKeyUsage, ['serverAuth', 'clientAuth']);
  assert.equal(info.notBefore.toISOString(), '2026-03-01T11:55:00.000Z', 'whole seconds');
  assert.equal(info.notAfter.toISOString(), '2051-01-02T03:04:05.000Z', 'GeneralizedTime from 2050 on');
  assert.equal(info.signatureAlgorithm, '1.2.840.113549.1.1.11');
  assert.equal(info.serial, 0x80n);

  assert.ok(signedBy(info, caInfo));
  assert.ok(!signedBy(caInfo, info));
  assert.ok(keyMatches(info, leafKey.privateKey));
  assert.deepEqual(missingAltNames(info, ['node-1', 'other'], ['::1', '10.0.0.1']), { dnsNames: ['other'], ips: ['10.0.0.1'] });
  assert.equal(validityProblem(info, START), undefined);
  assert.equal(validityProblem(info, new Date('2052-01-01')), 'expired');
  assert.equal(validityProblem(info, new Date('2020-01-01')), 'not-yet-valid');
});

test('openssl-compatible PEM: 64-column lines and "\\n" endings; key PEM types', async () => {
  const { ca, caKey } = await caAndLeaf();
  assert.match(ca.pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  assert.match(privateKeyPem(caKey.privateKey), /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.match(publicKeyPem(caKey.publicKey), /^-----BEGIN PUBLIC KEY-----\n/);
  const blocks = decodePemBlocks(`junk\n${ca.pem}${encodePem('FOO', Buffer.from('bar'))}`);
  assert.deepEqual(blocks.map((b) => b.type), ['CERTIFICATE', 'FOO']);
  assert.deepEqual(blocks[0]?.der, ca.der);
});

test('a CA with an ECDSA key (external tooling) can sign and be read', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = await issueCertificate({
    plan: caPlan,
    validity: { notBefore: START, notAfter: new Date(START.getTime() + 3_600_000) },
    publicKey,
    signer: { selfSigned: privateKey },
  });
  const info = await readCertificate(ca.pem);
  assert.equal(info.signatureAlgorithm, '1.2.840.10045.4.3.2');
  assert.ok(new X509Certificate(ca.pem).verify(publicKey));
  assert.equal(describeKey(createPrivateKey(privateKeyPem(privateKey))), 'ECDSA-P256');
});

test('serials are uniform in [1, 2^63−1)', () => {
  const max = (1n << 63n) - 1n;
  let high = false;
  for (let i = 0; i < 2000; i++) {
    const s = randomSerial();
    assert.ok(s >= 1n && s < max, String(s));
    if (s > 1n << 62n) high = true;
  }
  assert.ok(high, 'the upper half of the range is reached');
});

test('a certificate needs a CN and leaves an extended key usage', async () => {
  const k = await generateKey('RSA-2048');
  const v = { notBefore: START, notAfter: new Date(START.getTime() + 1000) };
  await assert.rejects(
    issueCertificate({ plan: { ...leafPlan, extKeyUsage: [] }, validity: v, publicKey: k.publicKey, signer: { selfSigned: k.privateKey } }),
    /must specify at least one ExtKeyUsage/,
  );
  await assert.rejects(
    issueCertificate({ plan: { ...leafPlan, commonName: '' }, validity: v, publicKey: k.publicKey, signer: { selfSigned: k.privateKey } }),
    /must specify a CommonName/,
  );
});

test('key types follow encryptionAlgorithm: RSA 2048/3072/4096, ECDSA P-256/P-384 (SEC1 "EC PRIVATE KEY")', async () => {
  for (const alg of ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'] as const) {
    const k = await generateKey(alg);
    assert.equal(describeKey(k.privateKey), alg);
    assert.match(privateKeyPem(k.privateKey), alg.startsWith('RSA') ? /^-----BEGIN RSA PRIVATE KEY-----/ : /^-----BEGIN EC PRIVATE KEY-----/);
  }
});

test('an ECDSA CA signs with ECDSA (P-256: ecdsa-with-SHA256, P-384: ecdsa-with-SHA384); the chain verifies with openssl semantics', async () => {
  for (const [alg, sigOid] of [['ECDSA-P256', '2a8648ce3d040302'], ['ECDSA-P384', '2a8648ce3d040303']] as const) {
    const [caKey, leafKey] = await Promise.all([generateKey(alg), generateKey(alg)]);
    const ca = await issueCertificate({
      plan: caPlan,
      validity: { notBefore: new Date(START.getTime() - 300_000), notAfter: new Date(START.getTime() + caPlan.validityMs) },
      publicKey: caKey.publicKey,
      signer: { selfSigned: caKey.privateKey },
    });
    const leaf = await issueCertificate({
      plan: leafPlan,
      validity: { notBefore: new Date(START.getTime() - 300_000), notAfter: new Date(START.getTime() + leafPlan.validityMs) },
      publicKey: leafKey.publicKey,
      signer: { caCertDer: ca.der, caKey: caKey.privateKey },
    });
    const caX = new X509Certificate(ca.pem);
    const leafX = new X509Certificate(leaf.pem);
    assert.ok(caX.verify(caKey.publicKey), `${alg}: the CA is self-signed`);
    assert.ok(leafX.verify(caKey.publicKey), `${alg}: the leaf is signed by the CA`);
    assert.ok(leafX.checkPrivateKey(leafKey.privateKey));
    // the signatureAlgorithm of the outer certificate: the OID, with no parameters (RFC 5758)
    assert.ok(leaf.der.toString('hex').includes(`300a0608${sigOid}`), `${alg}: ${sigOid} without NULL parameters`);
  }
});

test('KeyPool hands out each prestarted key once and generates on demand otherwise', async () => {
  const pool = new KeyPool('RSA-2048');
  pool.prestart(['a', 'b', 'a']);
  const [a, b, c] = await Promise.all([pool.take('a'), pool.take('b'), pool.take('c')]);
  const pems = new Set([a, b, c].map((k) => publicKeyPem(k.publicKey)));
  assert.equal(pems.size, 3);
  const again = await pool.take('a');
  assert.ok(!pems.has(publicKeyPem(again.publicKey)), 'a taken key is not handed out twice');
});
