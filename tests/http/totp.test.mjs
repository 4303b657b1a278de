// TOTP second factor (RFC 6238): a resident enables it, and from then on a
// log-in needs the current code, by the API and by the HTML form. The codes
// are computed here with node's crypto, like an authenticator app would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A } from './lib/server.mjs';
import { assertProblem } from './lib/client.mjs';
import { Authenticator, hotp, parseOtpauth, totp, totpStep } from './lib/totp.mjs';

const USER = { lg: A.lg, login: 'totp-user', password: 'totp-user-password', kind: 'resident', roles: ['resident'], name: '二段 認証子' };

describe('the test TOTP implementation', () => {
	it('matches the RFC 6238 SHA-1 vectors', () => {
		const key = Buffer.from('12345678901234567890');
		for (const [t, code] of [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
			[1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']])
			assert.equal(hotp(key, totpStep(t), { digits: 8 }), code, `T=${t}`);
	});
});

describe('TOTP second factor', () => {
	const ctx = useServer({ tenantB: false, users: [USER] });
	let otp;
	let auth;

	it('a resident enables TOTP and confirms it with a code', { timeout: 90_000 }, async () => {
		const c = ctx.client();
		await c.mustLogin(A.lg, USER);
		const r = await c.post('/api/v1/me/totp', { json: {} });
		assert.ok(r.status === 200 || r.status === 201, `${r}`);
		const j = r.json();
		assert.match(j.secret, /^[A-Z2-7]+=*$/, 'base32 secret');
		assert.ok(j.secret.replace(/=+$/, '').length >= 26, 'secret of at least 128 bits');
		otp = parseOtpauth(j.otpauth_uri);
		auth = new Authenticator(otp);
		assert.equal(otp.secret, j.secret);
		assert.match(otp.label, /totp-user/);

		// Not active before it is confirmed: log-in without a code still works.
		await ctx.client().mustLogin(A.lg, USER);

		const bad = await c.post('/api/v1/me/totp/confirm', { json: { code: auth.wrong() } });
		assert.ok(bad.status >= 400 && bad.status < 500, `wrong confirm code: ${bad}`);
		const ok = await c.post('/api/v1/me/totp/confirm', { json: { code: await auth.fresh() } });
		assert.ok(ok.status >= 200 && ok.status < 300, `${ok}`);
		// The secret is not shown again once confirmed.
		const again = await c.get('/api/v1/me');
		assert.ok(!again.text.includes(j.secret), 'secret in /api/v1/me');
	});

	it('then the API log-in needs the current code', { timeout: 90_000 }, async () => {
		assert.ok(otp, 'TOTP was not enabled');
		const none = await ctx.client().apiLogin(A.lg, USER.login, USER.password);
		assertProblem(none, 401);
		const wrong = await ctx.client().apiLogin(A.lg, USER.login, USER.password, { totp: auth.wrong() });
		assertProblem(wrong, 401);
		assert.ok(!wrong.setCookies.some((s) => /^mado_session=[^;]+;/.test(s) && !/max-age=0/i.test(s)), 'session without a right code');
		// A right code with a wrong password (the code is not marked as used here).
		const badPw = await ctx.client().apiLogin(A.lg, USER.login, 'not-the-password', { totp: totp(otp.secret, Date.now() / 1000, otp) });
		assertProblem(badPw, 401);
		const c = ctx.client();
		const r = await c.apiLogin(A.lg, USER.login, USER.password, { totp: await auth.fresh() });
		assert.equal(r.status, 200, `${r}`);
		assert.equal((await c.me()).login, USER.login);
	});

	it('and the HTML form needs it too', { timeout: 90_000 }, async () => {
		assert.ok(otp, 'TOTP was not enabled');
		const c = ctx.client();
		const none = await c.formLogin(A.lg, USER.login, USER.password);
		assert.equal(none.status, 401, `${none}`);
		assert.match(none.text, /name="totp"/);
		const ok = await c.formLogin(A.lg, USER.login, USER.password, { totp: await auth.fresh() });
		assert.equal(ok.status, 303, `${ok}`);
		assert.equal(ok.headers.get('location'), '/me');
	});

	ctx.stopTest();
});
