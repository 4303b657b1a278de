// Help at the counter: an administrator unlocks an account locked after
// failed log-ins, turns off a lost second factor, sets a new password,
// disables and enables an account and revokes a log-in certificate, through
// the JSON API and the HTML forms. Only for another account of the same
// municipality, only with users.admin, every action in the audit log.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sign as cryptoSign, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { useServer } from './lib/suite.mjs';
import { makeTestCerts } from './lib/certs.mjs';
import { A, B, sql } from './lib/server.mjs';
import { assertProblem, inputValue, items } from './lib/client.mjs';
import { Authenticator, parseOtpauth } from './lib/totp.mjs';

const MAX_FAILURES = 3;
const person = (login, extra = {}) => ({ lg: A.lg, login, password: `${login}-password-1`, kind: 'resident', roles: ['resident'], name: `支援 ${login}`, ...extra });
const LOCKED = person('help-locked');
const TOTP = person('help-totp');
const FORGOT = person('help-forgot');
const LEAVER = person('help-leaver', { kind: 'staff', roles: ['shimin_clerk'] });
const CARD = person('help-card');
const FORMS = person('help-forms');
const ADMIN2 = { lg: A.lg, login: 'admin-two', password: 'admin-two-password', kind: 'staff', roles: ['sysadmin'], name: '二人目 管理者' };

let certDir;

async function makeCerts(data) {
	const c = await makeTestCerts(data.dataDir);
	certDir = c.dir;
	return c.args;
}

const pem = (name) => readFileSync(path.join(certDir, `${name}.pem`), 'utf8');

/** Certificate log-in as a card would do it: sign the server's text. */
async function certLogin(c, name) {
	const ch = await c.post('/api/v1/auth/cert/challenge', { json: { lg_code: A.lg } });
	assert.equal(ch.status, 200, `${ch}`);
	const { challenge, sign } = ch.json();
	const key = createPrivateKey(readFileSync(path.join(certDir, `${name}.key`)));
	const signature = cryptoSign('sha256', Buffer.from(sign, 'utf8'), key).toString('base64');
	return await c.post('/api/v1/auth/cert/login', { json: { lg_code: A.lg, challenge, certificate: pem(name), signature } });
}

async function apiToken(srv, login) {
	const r = await srv.cli(['token', 'create', '--lg', A.lg, '--login', login]);
	const words = r.stdout.trim().split(/\s+/);
	return words[words.length - 1];
}

async function auditCount(srv, action, id, outcome = 'ok') {
	const n = await sql(srv, `SELECT COUNT(*) FROM audit_log WHERE action = '${action}' AND outcome = '${outcome}' AND subject = 'account:${id}'`);
	return Number(n.trim());
}

describe('help at the counter', () => {
	const ctx = useServer({
		users: [LOCKED, TOTP, FORGOT, LEAVER, CARD, FORMS, ADMIN2],
		prepare: makeCerts,
		args: ['--login-max-failures', String(MAX_FAILURES), '--login-lockout', '900', '--login-ip-max-failures', '100000'],
	});
	let admin; // JSON API session of the demo administrator
	let page; // HTML session of the same administrator
	const ids = {};

	before(async () => {
		admin = ctx.client();
		await admin.mustLogin(A.lg, A.admin);
		const list = items((await admin.get('/api/v1/admin/users')).json());
		for (const u of list) ids[u.login] = u.id;
		page = ctx.client();
		assert.equal((await page.formLogin(A.lg, A.admin.login, A.admin.password)).status, 303);
	});

	/** Fails the log-in of u until it is locked (429 with the right password). */
	async function lockOut(u) {
		const c = ctx.client();
		for (let i = 0; i < MAX_FAILURES; i++) assertProblem(await c.apiLogin(A.lg, u.login, `wrong-${i}-password`), 401);
		assertProblem(await c.apiLogin(A.lg, u.login, u.password), 429);
	}

	/** POSTs an action's HTML form (csrf of the account page unless given). */
	async function form(id, action, fields = {}) {
		const p = await page.page(`/admin/users/${id}`);
		assert.equal(p.status, 200, `${p}`);
		return await page.submit(`/admin/users/${id}/${action}`, { csrf: inputValue(p.text, 'csrf'), ...fields });
	}

	it('an account locked by failed log-ins is unlocked through the API', async () => {
		const id = ids[LOCKED.login];
		await lockOut(LOCKED);
		const before = await admin.get(`/api/v1/admin/users/${id}`);
		assert.equal(before.status, 200, `${before}`);
		const b = before.json();
		assert.equal(b.locked, true);
		assert.ok(b.locked_until_ms > Date.now(), `locked_until_ms ${b.locked_until_ms}`);
		assert.equal(b.failed_logins, MAX_FAILURES);
		assert.ok(Array.isArray(b.certificates));
		assert.ok(!/argon2|password_hash|totp_secret/.test(before.text), 'no secrets in the account detail');

		const r = await admin.post(`/api/v1/admin/users/${id}/unlock`, { json: {} });
		assert.equal(r.status, 200, `${r}`);
		assert.equal(r.json().locked, false);
		assert.equal(r.json().failed_logins, 0);
		assert.match(r.json().message, /ロックを解除しました/);
		await ctx.client().mustLogin(A.lg, LOCKED);
		assert.equal(await auditCount(ctx.srv, 'account.unlock', id), 1);
	});

	it('and through the HTML form, which shows the lock and the result', async () => {
		const id = ids[LOCKED.login];
		await lockOut(LOCKED);
		const list = await page.page('/admin/users');
		assert.match(list.text, new RegExp(`href="/admin/users/${id}"`), 'the list links to the account page');
		assert.match(list.text, /ロック中/);
		const p = await page.page(`/admin/users/${id}`);
		assert.equal(p.status, 200, `${p}`);
		assert.match(p.text, /ロック中/);
		assert.match(p.text, /まで/);
		const r = await page.submit(`/admin/users/${id}/unlock`, { csrf: inputValue(p.text, 'csrf') });
		assert.equal(r.status, 303, `${r}`);
		assert.equal(r.headers.get('location'), `/admin/users/${id}?done=unlock`);
		const after = await page.page(r.headers.get('location'));
		assert.match(after.text, /role="status"[^>]*>ロックを解除しました。/);
		assert.match(after.text, /ロックされていません/);
		await ctx.client().mustLogin(A.lg, LOCKED);
		// the person sees it in their own access history
		const c = ctx.client();
		await c.mustLogin(A.lg, LOCKED);
		const log = await c.get('/api/v1/me/access-log');
		assert.ok(items(log.json()).some((e) => e.action === 'account.unlock' && e.action_ja === 'ログインのロックの解除' && e.outcome === 'ok'), log.text.slice(0, 500));
	});

	it('a lost second factor is reset: the password alone logs in, and TOTP can be set up again', { timeout: 90_000 }, async () => {
		const id = ids[TOTP.login];
		const c = ctx.client();
		await c.mustLogin(A.lg, TOTP);
		const begin = await c.post('/api/v1/me/totp', { json: {} });
		assert.equal(begin.status, 200, `${begin}`);
		const auth = new Authenticator(parseOtpauth(begin.json().otpauth_uri));
		assert.equal((await c.post('/api/v1/me/totp/confirm', { json: { code: await auth.fresh() } })).status, 200);
		assertProblem(await ctx.client().apiLogin(A.lg, TOTP.login, TOTP.password), 401);
		assert.equal((await admin.get(`/api/v1/admin/users/${id}`)).json().totp_enabled, true);
		assert.match((await page.page(`/admin/users/${id}`)).text, /確認コード（2段階認証）<\/dt><dd><span class="status status-ok">有効/);

		const r = await admin.post(`/api/v1/admin/users/${id}/totp/reset`, { json: {} });
		assert.equal(r.status, 200, `${r}`);
		assert.equal(r.json().totp_enabled, false);
		assert.equal(r.json().totp_pending, false);
		const again = ctx.client();
		await again.mustLogin(A.lg, TOTP);
		// the person enrols again; the old secret is gone
		const b2 = await again.post('/api/v1/me/totp', { json: {} });
		assert.equal(b2.status, 200, `${b2}`);
		assert.notEqual(b2.json().secret, begin.json().secret);
		// a pending (unconfirmed) secret is dropped by a reset too
		assert.equal((await admin.get(`/api/v1/admin/users/${id}`)).json().totp_pending, true);
		assert.equal((await form(id, 'totp/reset')).status, 400, 'without the confirmation box');
		assert.equal((await admin.get(`/api/v1/admin/users/${id}`)).json().totp_pending, true);
		const ok = await form(id, 'totp/reset', { confirm: 'yes' });
		assert.equal(ok.status, 303, `${ok}`);
		assert.equal((await admin.get(`/api/v1/admin/users/${id}`)).json().totp_pending, false);
		assert.match((await page.page(ok.headers.get('location'))).text, /確認コード（2段階認証）の設定を解除しました/);
		assert.equal(await auditCount(ctx.srv, 'account.totp_reset', id), 2);
	});

	it('a new password follows the policy and revokes the sessions and API tokens of the account', async () => {
		const id = ids[FORGOT.login];
		const old = ctx.client();
		await old.mustLogin(A.lg, FORGOT);
		const tok = ctx.client({ token: await apiToken(ctx.srv, FORGOT.login) });
		assert.equal((await tok.get('/api/v1/me')).status, 200);
		await lockOut(FORGOT);

		const short = await admin.post(`/api/v1/admin/users/${id}/password`, { json: { password: 'short' } });
		assert.equal(typeof assertProblem(short, 400).errors.password, 'string');
		assertProblem(await admin.post(`/api/v1/admin/users/${id}/password`, { json: {} }), 400);
		assertProblem(await admin.post(`/api/v1/admin/users/${id}/password`, { json: { password: 12345678901 } }), 400);
		assert.equal((await old.get('/api/v1/me')).status, 200, 'a refused reset changes nothing');

		const r = await admin.post(`/api/v1/admin/users/${id}/password`, { json: { password: 'a-brand-new-password' } });
		assert.equal(r.status, 200, `${r}`);
		assert.equal(r.json().locked, false, 'a new password also ends the lock-out');
		assertProblem(await old.get('/api/v1/me'), 401);
		assertProblem(await tok.get('/api/v1/me'), 401);
		assertProblem(await ctx.client().apiLogin(A.lg, FORGOT.login, FORGOT.password), 401);
		await ctx.client().mustLogin(A.lg, { login: FORGOT.login, password: 'a-brand-new-password' });
		assert.equal(await auditCount(ctx.srv, 'account.password_reset', id), 1);
		const detail = await sql(ctx.srv, `SELECT COALESCE(detail, '') FROM audit_log WHERE action = 'account.password_reset'`);
		assert.ok(!detail.includes('a-brand-new-password'), 'the password is not in the audit log');

		// the HTML form: the policy's message beside the field, then success
		const bad = await form(id, 'password', { password: 'short', confirm: 'yes' });
		assert.equal(bad.status, 400, `${bad}`);
		assert.match(bad.text, /id="password"[^>]*aria-invalid="true"/);
		const s2 = ctx.client();
		await s2.mustLogin(A.lg, { login: FORGOT.login, password: 'a-brand-new-password' });
		const ok = await form(id, 'password', { password: 'the-third-password', confirm: 'yes' });
		assert.equal(ok.status, 303, `${ok}`);
		assertProblem(await s2.get('/api/v1/me'), 401);
		await ctx.client().mustLogin(A.lg, { login: FORGOT.login, password: 'the-third-password' });
	});

	it('a disabled account cannot log in and loses its sessions; enabling restores it', async () => {
		const id = ids[LEAVER.login];
		const s = ctx.client();
		await s.mustLogin(A.lg, LEAVER);
		const tok = ctx.client({ token: await apiToken(ctx.srv, LEAVER.login) });
		const r = await admin.post(`/api/v1/admin/users/${id}/disable`, { json: {} });
		assert.equal(r.status, 200, `${r}`);
		assert.equal(r.json().disabled, true);
		assertProblem(await s.get('/api/v1/me'), 401);
		assertProblem(await tok.get('/api/v1/me'), 401);
		const refused = await ctx.client().apiLogin(A.lg, LEAVER.login, LEAVER.password);
		assert.match(assertProblem(refused, 401).title, /利用停止/);

		const en = await admin.post(`/api/v1/admin/users/${id}/enable`, { json: {} });
		assert.equal(en.status, 200, `${en}`);
		assert.equal(en.json().disabled, false);
		await ctx.client().mustLogin(A.lg, LEAVER);
		assertProblem(await tok.get('/api/v1/me'), 401, 'a revoked token stays revoked');

		// the same with the HTML forms
		const s2 = ctx.client();
		await s2.mustLogin(A.lg, LEAVER);
		assert.equal((await form(id, 'disable')).status, 400, 'without the confirmation box');
		assert.equal((await s2.get('/api/v1/me')).status, 200);
		const off = await form(id, 'disable', { confirm: 'yes' });
		assert.equal(off.status, 303, `${off}`);
		assertProblem(await s2.get('/api/v1/me'), 401);
		const shown = await page.page(off.headers.get('location'));
		assert.match(shown.text, /アカウントの利用を停止しました/);
		assert.match(shown.text, /停止中/);
		assert.match(shown.text, /action="\/admin\/users\/\d+\/enable"/);
		const on = await form(id, 'enable');
		assert.equal(on.status, 303, `${on}`);
		await ctx.client().mustLogin(A.lg, LEAVER);
		assert.equal(await auditCount(ctx.srv, 'account.disable', id), 2);
		assert.equal(await auditCount(ctx.srv, 'account.enable', id), 2);
	});

	it('a registered certificate is revoked: it no longer logs in, its sessions end', async () => {
		const id = ids[CARD.login];
		const owner = ctx.client();
		await owner.mustLogin(A.lg, CARD);
		for (const name of ['leaf-ec', 'leaf-rsa']) {
			const reg = await owner.post('/api/v1/me/certificates', { json: { certificate: pem(name) } });
			assert.equal(reg.status, 201, `${reg}`);
		}
		const viaCard = ctx.client();
		assert.equal((await certLogin(viaCard, 'leaf-ec')).status, 200);
		assert.equal((await viaCard.me()).login, CARD.login);

		const certs = (await admin.get(`/api/v1/admin/users/${id}`)).json().certificates;
		assert.equal(certs.length, 2);
		for (const c of certs) for (const k of ['id', 'subject', 'issuer', 'serial', 'fingerprint', 'not_after_ms']) assert.ok(k in c, `certificate.${k}`);
		const ec = certs[0];
		// another account's certificate id is not found under this account
		assertProblem(await admin.request('DELETE', `/api/v1/admin/users/${ids[FORMS.login]}/certificates/${ec.id}`, { json: {} }), 404);
		const del = await admin.request('DELETE', `/api/v1/admin/users/${id}/certificates/${ec.id}`, { json: {} });
		assert.equal(del.status, 200, `${del}`);
		assert.equal(del.json().certificates.length, 1);
		assertProblem(await admin.request('DELETE', `/api/v1/admin/users/${id}/certificates/${ec.id}`, { json: {} }), 404);
		assertProblem(await certLogin(ctx.client(), 'leaf-ec'), 401);
		assertProblem(await viaCard.get('/api/v1/me'), 401, 'the certificate session ended');
		assert.equal((await owner.get('/api/v1/me')).status, 200, 'the password session goes on');
		const fp = await sql(ctx.srv, `SELECT detail FROM audit_log WHERE action = 'account.cert_revoke' AND subject = 'account:${id}' AND outcome = 'ok'`);
		assert.equal(fp.trim(), ec.fingerprint, 'the audit entry names the fingerprint');
		const again = await sql(ctx.srv, `SELECT COUNT(*) FROM audit_log WHERE action = 'account.cert_revoke' AND subject = 'account:${id}' AND outcome = 'not_found'`);
		assert.equal(Number(again.trim()), 1, 'the second, refused revocation is audited too');

		// the HTML page lists the other one with its own form
		const p = await page.page(`/admin/users/${id}`);
		const rsa = certs[1];
		assert.match(p.text, new RegExp(`action="/admin/users/${id}/certificates/${rsa.id}/revoke"`));
		const noBox = await page.submit(`/admin/users/${id}/certificates/${rsa.id}/revoke`, { csrf: inputValue(p.text, 'csrf') });
		assert.equal(noBox.status, 400, `${noBox}`);
		assert.match(noBox.text, new RegExp(`id="confirm-cert-${rsa.id}"[^>]*aria-invalid="true"`));
		const ok = await page.submit(`/admin/users/${id}/certificates/${rsa.id}/revoke`, { csrf: inputValue(p.text, 'csrf'), confirm: 'yes' });
		assert.equal(ok.status, 303, `${ok}`);
		assert.match((await page.page(ok.headers.get('location'))).text, /登録されている電子証明書はありません/);
		assertProblem(await certLogin(ctx.client(), 'leaf-rsa'), 401);
		assert.equal(await auditCount(ctx.srv, 'account.cert_revoke', id), 2);
	});

	it('nobody acts on their own account here: 403, audited as refused, and the page offers no forms', async () => {
		const self = ids[A.admin.login];
		const paths = [['POST', 'unlock'], ['POST', 'totp/reset'], ['POST', 'password'], ['POST', 'disable'], ['POST', 'enable'], ['DELETE', 'certificates/1']];
		for (const [m, p] of paths) {
			const r = await admin.request(m, `/api/v1/admin/users/${self}/${p}`, { json: { password: 'my-own-new-password' } });
			assert.match(assertProblem(r, 403).title, /ご自身/, `${m} ${p}`);
		}
		const refused = await sql(ctx.srv, `SELECT COUNT(*) FROM audit_log WHERE outcome = 'refused' AND subject = 'account:${self}' AND action LIKE 'account.%'`);
		assert.equal(Number(refused.trim()), paths.length);
		await ctx.client().mustLogin(A.lg, A.admin); // password unchanged, not disabled

		const own = await page.page(`/admin/users/${self}`);
		assert.equal(own.status, 200);
		assert.match(own.text, /ほかの管理者に依頼してください/);
		assert.doesNotMatch(own.text, /action="\/admin\/users\/\d+\/(unlock|password|disable)"/);
		const r = await page.submit(`/admin/users/${self}/unlock`, { csrf: inputValue(own.text, 'csrf') });
		assert.equal(r.status, 403, `${r}`);
		assert.match(r.text, /ご自身のアカウントには、この操作はできません/);

		// another administrator can help the first one
		const other = ctx.client();
		await other.mustLogin(A.lg, ADMIN2);
		assert.equal((await other.post(`/api/v1/admin/users/${self}/unlock`, { json: {} })).status, 200);
	});

	it('only users.admin, only the own municipality, only existing accounts, only with the CSRF token', async () => {
		const target = ids[FORMS.login];
		const clerk = ctx.client();
		await clerk.mustLogin(A.lg, A.clerk);
		for (const [m, p] of [['GET', ''], ['POST', '/unlock'], ['POST', '/totp/reset'], ['POST', '/password'], ['POST', '/disable'], ['POST', '/enable'], ['DELETE', '/certificates/1']])
			assertProblem(await clerk.request(m, `/api/v1/admin/users/${target}${p}`, m === 'GET' ? {} : { json: { password: 'clerk-sets-a-password' } }), 403);
		const cp = ctx.client();
		assert.equal((await cp.formLogin(A.lg, A.clerk.login, A.clerk.password)).status, 303);
		assert.equal((await cp.page(`/admin/users/${target}`)).status, 403);
		const staff = await cp.page('/staff');
		assert.equal((await cp.submit(`/admin/users/${target}/disable`, { csrf: inputValue(staff.text, 'csrf'), confirm: 'yes' })).status, 403);

		// 海南市's resident is not found from 和歌山市
		const kainan = ctx.client();
		await kainan.mustLogin(B.lg, B.admin);
		const bId = (await kainan.me()).account_id;
		const bRes = items((await kainan.get('/api/v1/admin/users')).json()).find((u) => u.login === B.resident.login).id;
		for (const [m, p] of [['GET', ''], ['POST', '/unlock'], ['POST', '/totp/reset'], ['POST', '/password'], ['POST', '/disable'], ['POST', '/enable'], ['DELETE', '/certificates/1']]) {
			const body = m === 'GET' ? {} : { json: { password: 'another-towns-password' } };
			assertProblem(await admin.request(m, `/api/v1/admin/users/${bRes}${p}`, body), 404);
			assertProblem(await admin.request(m, `/api/v1/admin/users/${bId}${p}`, body), 404);
		}
		assert.equal((await page.page(`/admin/users/${bRes}`)).status, 404);
		// each attempt on another town's account is in 和歌山市's audit log, as not found
		const tried = await sql(ctx.srv, `SELECT COUNT(*) FROM audit_log WHERE lg_code = '${A.lg}' AND subject = 'account:${bRes}' AND outcome = 'not_found'`);
		assert.equal(Number(tried.trim()), 6, 'unlock, TOTP reset, password, disable, enable and revoke attempts audited');
		await ctx.client().mustLogin(B.lg, B.resident);
		assertProblem(await admin.post('/api/v1/admin/users/987654321/unlock', { json: {} }), 404);
		assertProblem(await admin.get('/api/v1/admin/users/abc'), 404);

		// a form without the session's CSRF token changes nothing
		const s = ctx.client();
		await s.mustLogin(A.lg, FORMS);
		for (const csrf of [undefined, 'x'.repeat(43)]) {
			const r = await page.request('POST', `/admin/users/${target}/disable`, { accept: 'text/html', form: csrf ? { csrf, confirm: 'yes' } : { confirm: 'yes' } });
			assert.equal(r.status, 403, `${r}`);
		}
		assert.equal((await s.get('/api/v1/me')).status, 200, 'still signed in: nothing was disabled');
		assert.equal((await admin.get(`/api/v1/admin/users/${target}`)).json().disabled, false);
	});

	ctx.stopTest();
});
