// Certificate log-in, modelled on the My Number card's user certificate: a
// resident registers an X.509 certificate from a trusted CA, then logs in by
// signing a one-time challenge. Expired, revoked and untrusted certificates,
// wrong keys and replayed challenges are refused.
//
// The CA and certificates are made at test time by build/mkcerts (from
// tests/support/mkcerts.c, OpenSSL): `mkcerts DIR` writes ca.pem, crl.pem and
// for each of leaf-rsa, leaf-ec, expired, revoked, other-ca, other-leaf a
// NAME.pem certificate and NAME.key private key (other-leaf is issued by
// other-ca, which the server does not trust; revoked is listed in crl.pem).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { sign as cryptoSign, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { useServer } from './lib/suite.mjs';
import { A, B, MADO_BIN, ROOT, run } from './lib/server.mjs';
import { assertProblem, assertSecurityHeaders } from './lib/client.mjs';

const MKCERTS = process.env.MADO_MKCERTS ||
	[path.join(path.dirname(MADO_BIN), 'mkcerts'), path.join(ROOT, 'build/mkcerts')].find((p) => existsSync(p)) ||
	path.join(ROOT, 'build/mkcerts');
const NAMES = ['leaf-rsa', 'leaf-ec', 'expired', 'revoked', 'other-leaf'];

let certDir;
const pem = (name) => readFileSync(path.join(certDir, `${name}.pem`), 'utf8');
const key = (name) => createPrivateKey(readFileSync(path.join(certDir, `${name}.key`)));

/**
 * Signs as a card would: the text the server asked to be signed (its "sign"
 * field, which binds the challenge to the service and the municipality; the
 * challenge itself when there is none), as UTF-8 bytes, with SHA-256: RSA
 * PKCS#1 v1.5 or ECDSA (DER); base64.
 */
function signText(text, keyName) {
	return cryptoSign('sha256', Buffer.from(text, 'utf8'), key(keyName)).toString('base64');
}

async function makeCerts(data) {
	certDir = path.join(data.dataDir, 'test-certs');
	mkdirSync(certDir, { recursive: true });
	if (!existsSync(MKCERTS)) throw new Error(`${MKCERTS} not found: build the mkcerts target (tests/support/mkcerts.c)`);
	const r = await run(MKCERTS, [certDir]);
	if (r.code !== 0) throw new Error(`mkcerts failed: ${r.stderr}`);
	const missing = ['ca.pem', 'crl.pem', ...NAMES.flatMap((n) => [`${n}.pem`, `${n}.key`])].filter((f) => !existsSync(path.join(certDir, f)));
	if (missing.length) throw new Error(`mkcerts did not write: ${missing.join(', ')}`);
	return ['--trusted-ca', path.join(certDir, 'ca.pem'), '--crl', path.join(certDir, 'crl.pem')];
}

describe('certificate log-in', () => {
	const ctx = useServer({ prepare: makeCerts });

	/** A new challenge: {challenge, sign} (sign: the text to sign). */
	async function challenge(c, lg = A.lg) {
		const r = await c.post('/api/v1/auth/cert/challenge', { json: { lg_code: lg } });
		assert.equal(r.status, 200, `${r}`);
		const j = r.json();
		assert.match(j.challenge, /^[A-Za-z0-9_-]{22,}$/, 'base64url challenge of at least 128 bits');
		assert.equal(j.expires_in, 300);
		if ('sign' in j) {
			assert.equal(typeof j.sign, 'string');
			assert.ok(j.sign.includes(j.challenge), 'the text to sign contains the challenge');
		}
		return { challenge: j.challenge, sign: j.sign ?? j.challenge };
	}

	async function certLogin(c, certName, keyName = certName, { lg = A.lg, ch } = {}) {
		const chal = ch ?? (await challenge(c, lg));
		return await c.post('/api/v1/auth/cert/login', {
			json: { lg_code: lg, challenge: chal.challenge, certificate: pem(certName), signature: signText(chal.sign, keyName) },
		});
	}

	it('the certificate log-in page is served', async () => {
		const r = await ctx.client().page('/login/cert');
		assert.equal(r.status, 200, `${r}`);
		assertSecurityHeaders(r);
		assert.match(r.text, /<html[^>]*lang="ja"/);
		assert.match(r.text, /証明書/);
	});

	it('each challenge is new', async () => {
		const c = ctx.client();
		const a = await challenge(c);
		const b = await challenge(c);
		assert.notEqual(a.challenge, b.challenge);
	});

	it('an unregistered certificate cannot log in', async () => {
		assertProblem(await certLogin(ctx.client(), 'leaf-rsa'), 401);
	});

	it('registering needs a signed-in resident and a trusted, valid certificate', async () => {
		assertProblem(await ctx.client().post('/api/v1/me/certificates', { json: { certificate: pem('leaf-rsa') } }), 401);
		const c = ctx.client();
		await c.mustLogin(A.lg, A.resident);
		for (const bad of ['expired', 'other-leaf']) {
			const r = await c.post('/api/v1/me/certificates', { json: { certificate: pem(bad) } });
			assert.ok(r.status === 400 || r.status === 422 || r.status === 403, `registering ${bad}: ${r}`);
			assertProblem(r, r.status);
		}
		for (const garbage of ['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
			const r = await c.post('/api/v1/me/certificates', { json: { certificate: garbage } });
			assert.ok(r.status === 400 || r.status === 422, `registering garbage: ${r}`);
		}
		assertProblem(await c.post('/api/v1/me/certificates', { json: {} }), 400);
	});

	it('a registered RSA certificate logs in by signing the challenge', async () => {
		const owner = ctx.client();
		await owner.mustLogin(A.lg, A.resident);
		const reg = await owner.post('/api/v1/me/certificates', { json: { certificate: pem('leaf-rsa') } });
		assert.ok(reg.status === 201 || reg.status === 200, `${reg}`);

		const c = ctx.client();
		const r = await certLogin(c, 'leaf-rsa');
		assert.equal(r.status, 200, `${r}`);
		assert.ok(c.cookies.has('mado_session'), 'session cookie');
		const me = await c.me();
		assert.equal(me.login, A.resident.login);
		assert.equal(me.lg_code, A.lg);
	});

	it('a registered ECDSA P-256 certificate logs in too', async () => {
		const owner = ctx.client();
		await owner.mustLogin(A.lg, A.resident);
		const reg = await owner.post('/api/v1/me/certificates', { json: { certificate: pem('leaf-ec') } });
		assert.ok(reg.status === 201 || reg.status === 200, `${reg}`);
		const c = ctx.client();
		assert.equal((await certLogin(c, 'leaf-ec')).status, 200);
		assert.equal((await c.me()).login, A.resident.login);
	});

	it('a challenge cannot be replayed, swapped or signed by another key', async () => {
		const c = ctx.client();
		const ch = await challenge(c);
		const body = { lg_code: A.lg, challenge: ch.challenge, certificate: pem('leaf-rsa'), signature: signText(ch.sign, 'leaf-rsa') };
		assert.equal((await c.post('/api/v1/auth/cert/login', { json: body })).status, 200);
		assertProblem(await ctx.client().post('/api/v1/auth/cert/login', { json: body }), 401);

		// Signed for one challenge, presented with another.
		const ch1 = await challenge(c);
		const ch2 = await challenge(c);
		assertProblem(await c.post('/api/v1/auth/cert/login', {
			json: { lg_code: A.lg, challenge: ch2.challenge, certificate: pem('leaf-rsa'), signature: signText(ch1.sign, 'leaf-rsa') },
		}), 401);
		// The bare challenge signed instead of the text asked for (when they differ).
		const ch4 = await challenge(c);
		if (ch4.sign !== ch4.challenge) {
			assertProblem(await c.post('/api/v1/auth/cert/login', {
				json: { lg_code: A.lg, challenge: ch4.challenge, certificate: pem('leaf-rsa'), signature: signText(ch4.challenge, 'leaf-rsa') },
			}), 401);
		}
		// The EC key does not sign for the RSA certificate.
		assertProblem(await certLogin(c, 'leaf-rsa', 'leaf-ec'), 401);
		// A challenge the server never issued.
		const fake = 'A'.repeat(43);
		assertProblem(await certLogin(c, 'leaf-rsa', 'leaf-rsa', { ch: { challenge: fake, sign: ch1.sign.replace(ch1.challenge, fake) } }), 401);
		// A challenge of 海南市 does not log in to 和歌山市.
		const chB = await challenge(c, B.lg);
		assertProblem(await c.post('/api/v1/auth/cert/login', {
			json: { lg_code: A.lg, challenge: chB.challenge, certificate: pem('leaf-rsa'), signature: signText(chB.sign, 'leaf-rsa') },
		}), 401);
		// Nor is the resident's certificate an account in 海南市.
		assertProblem(await certLogin(c, 'leaf-rsa', 'leaf-rsa', { lg: B.lg }), 401);
		// Garbage signature.
		const ch3 = await challenge(c);
		const g = await c.post('/api/v1/auth/cert/login', { json: { lg_code: A.lg, challenge: ch3.challenge, certificate: pem('leaf-rsa'), signature: '!!notbase64!!' } });
		assert.ok(g.status === 400 || g.status === 401, `${g}`);
	});

	it('expired, revoked and untrusted certificates cannot log in', async () => {
		const owner = ctx.client();
		await owner.mustLogin(A.lg, A.resident);
		// Revocation must be checked at log-in even if registration let it through.
		await owner.post('/api/v1/me/certificates', { json: { certificate: pem('revoked') } });
		for (const name of ['expired', 'revoked', 'other-leaf']) {
			const r = await certLogin(ctx.client(), name);
			assertProblem(r, 401);
		}
	});

	ctx.stopTest();
});
