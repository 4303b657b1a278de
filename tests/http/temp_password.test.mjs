// A password an administrator sets is temporary: after a reset at the counter
// (POST /api/v1/admin/users/:id/password or the form) and for an account the
// administrator creates with a password, the person can do nothing but change
// it on /me/password, look at GET /api/v1/me and log out. Every other page
// redirects to /me/password, every other API route is 403. Accounts made by
// the operator's CLI are not temporary (unless --temporary-password); the CLI
// makes no API token for a temporary one.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sign as cryptoSign, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { useServer } from './lib/suite.mjs';
import { makeTestCerts } from './lib/certs.mjs';
import { A, sql } from './lib/server.mjs';
import { assertProblem, inputValue, items } from './lib/client.mjs';

const TEMP_MSG = '管理者が設定した仮のパスワードです。続けるには新しいパスワードを設定してください。';
const P = encodeURIComponent('証明書の発行');
const SEARCH = `/api/v1/residents?q=${encodeURIComponent('和歌山')}&purpose=${P}`;
const person = (login, extra = {}) => ({ lg: A.lg, login, password: `${login}-password-1`, kind: 'staff', roles: ['shimin_clerk'], name: `仮 ${login}`, ...extra });
const RESET = person('tmp-reset');
const FORM = person('tmp-form');
const CLI = person('tmp-cli');
const CARD = person('tmp-card');

let certDir;

async function makeCerts(data) {
	const c = await makeTestCerts(data.dataDir);
	certDir = c.dir;
	return c.args;
}

/** Certificate log-in as a card would do it: sign the server's text. */
async function certLogin(c, name) {
	const ch = await c.post('/api/v1/auth/cert/challenge', { json: { lg_code: A.lg } });
	assert.equal(ch.status, 200, `${ch}`);
	const { challenge, sign } = ch.json();
	const key = createPrivateKey(readFileSync(path.join(certDir, `${name}.key`)));
	const signature = cryptoSign('sha256', Buffer.from(sign, 'utf8'), key).toString('base64');
	const certificate = readFileSync(path.join(certDir, `${name}.pem`), 'utf8');
	return await c.post('/api/v1/auth/cert/login', { json: { lg_code: A.lg, challenge, certificate, signature } });
}

async function flag(srv, login) {
	return Number((await sql(srv, `SELECT must_change_password FROM accounts WHERE lg_code = '${A.lg}' AND login = '${login}'`)).trim());
}

/** The staff API (resident search): a cookie session sends its CSRF token. */
function search(c) {
	return c.get(SEARCH, { headers: { 'x-csrf-token': c.csrf ?? '' } });
}

/** API log-in that must succeed; keeps the session's CSRF token on the client. */
async function logIn(c, u) {
	const r = await c.mustLogin(A.lg, u);
	c.csrf = r.json().csrf;
	return r;
}

/** Asserts the 403 of the gate: a problem document carrying the message. */
function assertGated(r, what) {
	const p = assertProblem(r, 403);
	assert.equal(p.detail, TEMP_MSG, `${what}: ${r}`);
}

describe('a password set by an administrator is temporary', () => {
	const ctx = useServer({ tenantB: false, users: [RESET, FORM, CLI, CARD], prepare: makeCerts, args: ['--login-ip-max-failures', '100000'] });
	let admin;
	let page; // HTML session of the administrator
	const ids = {};

	before(async () => {
		admin = ctx.client();
		await admin.mustLogin(A.lg, A.admin);
		for (const u of items((await admin.get('/api/v1/admin/users')).json())) ids[u.login] = u.id;
		page = ctx.client();
		assert.equal((await page.formLogin(A.lg, A.admin.login, A.admin.password)).status, 303);
	});

	it('accounts made with the CLI are not temporary', async () => {
		assert.equal(await flag(ctx.srv, CLI.login), 0);
		const c = ctx.client();
		const r = await logIn(c, CLI);
		assert.equal(r.json().must_change_password, false);
		assert.equal((await c.me()).must_change_password, false);
		{ const s = await search(c); assert.equal(s.status, 200, `the staff API answers: ${s}`); }
		const u = (await admin.get(`/api/v1/admin/users/${ids[CLI.login]}`)).json();
		assert.equal(u.must_change_password, false);
		// and the demo log-ins (init --demo) work as before
		for (const who of [A.clerk, A.admin, A.resident]) assert.equal((await ctx.client().mustLogin(A.lg, who)).json().must_change_password, false);
	});

	it('after a reset the clerk can only change the password; then everything works again', async () => {
		const id = ids[RESET.login];
		const before = ctx.client();
		await logIn(before, RESET);
		assert.equal((await search(before)).status, 200, 'positive control before the reset');

		const r = await admin.post(`/api/v1/admin/users/${id}/password`, { json: { password: 'set-by-the-admin-1' } });
		assert.equal(r.status, 200, `${r}`);
		assert.equal(r.json().must_change_password, true);
		assert.equal(await flag(ctx.srv, RESET.login), 1);

		// the administrator's list and account page say so
		const list = items((await admin.get('/api/v1/admin/users')).json());
		assert.equal(list.find((u) => u.id === id).must_change_password, true);
		assert.equal(list.find((u) => u.login === CLI.login).must_change_password, false);
		const listPage = await page.page('/admin/users');
		assert.match(listPage.text, new RegExp(`${RESET.login}[\\s\\S]*?仮パスワード（本人の変更待ち）[\\s\\S]*?</tr>`));
		assert.doesNotMatch(listPage.text.slice(listPage.text.indexOf(`>${CLI.login}<`)).split('</tr>')[0], /仮パスワード/);
		const acct = await page.page(`/admin/users/${id}`);
		assert.match(acct.text, /仮パスワード（本人の変更待ち）/);
		assert.doesNotMatch((await page.page(`/admin/users/${ids[CLI.login]}`)).text, /仮パスワード（本人の変更待ち）/);

		// the clerk (or whoever knows that password) logs in with it…
		const c = ctx.client();
		const login = await logIn(c, { login: RESET.login, password: 'set-by-the-admin-1' });
		assert.equal(login.json().must_change_password, true);
		const me = await c.me();
		assert.equal(me.must_change_password, true);
		assert.equal(me.login, RESET.login);
		// …and reads nothing: every other API route is 403 with the message
		assertGated(await search(c), 'resident search');
		assertGated(await c.get('/api/v1/me/access-log'), 'access log');
		assertGated(await c.post('/api/v1/me/totp', { json: {} }), 'TOTP enrolment');
		assertGated(await c.get(`/api/v1/accounts/${id}`), 'account read');
		// the administrator's own session is unaffected
		assert.equal((await admin.get('/api/v1/admin/users')).status, 200);

		// pages redirect to /me/password, which explains why
		const cp = ctx.client();
		const fl = await cp.formLogin(A.lg, RESET.login, 'set-by-the-admin-1');
		assert.equal(fl.status, 303, `${fl}`);
		assert.equal(fl.headers.get('location'), '/me/password', 'the log-in goes straight to the change');
		for (const p of ['/staff', '/me', '/me/history', '/me/totp', '/staff/residents', '/admin/users']) {
			const g = await cp.page(p);
			assert.equal(g.status, 303, `${p}: ${g}`);
			assert.equal(g.headers.get('location'), '/me/password', p);
		}
		const form = await cp.page('/me/password');
		assert.equal(form.status, 200, `${form}`);
		assert.ok(form.text.includes(TEMP_MSG), 'the notice is on the page');
		assert.match(form.text, /role="status"/);
		assert.doesNotMatch(form.text, /マイアカウントに戻る/);

		// a refused change keeps the gate
		const bad = await cp.submit('/me/password', { csrf: inputValue(form.text, 'csrf'), current_password: 'set-by-the-admin-1', new_password: 'short', new_password_confirm: 'short' });
		assert.equal(bad.status, 400, `${bad}`);
		assert.equal(await flag(ctx.srv, RESET.login), 1);
		assert.equal((await cp.page('/staff')).status, 303);

		// the clerk chooses their own password on the form
		const ok = await cp.submit('/me/password', {
			csrf: inputValue(form.text, 'csrf'), current_password: 'set-by-the-admin-1', new_password: 'only-the-clerk-knows-1', new_password_confirm: 'only-the-clerk-knows-1',
		});
		assert.equal(ok.status, 303, `${ok}`);
		assert.equal(ok.headers.get('location'), '/me/password?done=1');
		assert.equal(await flag(ctx.srv, RESET.login), 0);
		const done = await cp.page('/me/password?done=1');
		assert.ok(!done.text.includes(TEMP_MSG), 'no notice once changed');
		assert.equal((await cp.page('/staff')).status, 200, 'the staff console opens');
		assert.equal((await search(cp)).status, 200, 'the staff API answers');
		assert.equal((await cp.me()).must_change_password, false);
		// the other session (with the temporary password) ended with the change
		assertProblem(await c.get('/api/v1/me'), 401);
		const again = ctx.client();
		await logIn(again, { login: RESET.login, password: 'only-the-clerk-knows-1' });
		assert.equal((await search(again)).status, 200);
		assert.equal((await admin.get(`/api/v1/admin/users/${id}`)).json().must_change_password, false);
	});

	it('the reset form sets it too, and the JSON change clears it', async () => {
		const id = ids[FORM.login];
		const p = await page.page(`/admin/users/${id}`);
		const r = await page.submit(`/admin/users/${id}/password`, { csrf: inputValue(p.text, 'csrf'), password: 'form-set-password-1', confirm: 'yes' });
		assert.equal(r.status, 303, `${r}`);
		assert.equal(await flag(ctx.srv, FORM.login), 1);
		const c = ctx.client();
		await logIn(c, { login: FORM.login, password: 'form-set-password-1' });
		assertGated(await search(c), 'after the form reset');
		// the API change: wrong current password is still the usual 400
		const wrong = await c.post('/api/v1/me/password', { json: { current_password: 'not-it-at-all', new_password: 'mine-from-now-on-1' } });
		assertProblem(wrong, 400);
		const ch = await c.post('/api/v1/me/password', { json: { current_password: 'form-set-password-1', new_password: 'mine-from-now-on-1' } });
		assert.equal(ch.status, 200, `${ch}`);
		c.csrf = ch.json().csrf;
		assert.equal(await flag(ctx.srv, FORM.login), 0);
		assert.equal((await search(c)).status, 200);
		assert.equal((await c.me()).must_change_password, false);
	});

	it('an account the administrator creates with a password is temporary, through the API and the form', async () => {
		const r = await admin.post('/api/v1/admin/users', {
			json: { login: 'tmp-made', display: '仮 作成', kind: 'staff', roles: ['shimin_clerk'], password: 'made-by-admin-pass-1' },
		});
		assert.equal(r.status, 201, `${r}`);
		assert.equal(r.json().must_change_password, true);
		const c = ctx.client();
		await logIn(c, { login: 'tmp-made', password: 'made-by-admin-pass-1' });
		assert.equal((await c.me()).must_change_password, true);
		assertGated(await search(c), 'new account');
		// log-out is allowed
		assert.equal((await c.post('/api/v1/auth/logout', { json: {} })).status, 200);
		assertProblem(await c.get('/api/v1/me'), 401);

		const p = await page.page('/admin/users');
		const made = await page.submit('/admin/users', {
			csrf: inputValue(p.text, 'csrf'), login: 'tmp-form-made', display: '仮 フォーム', kind: 'resident', roles: 'resident', password: 'form-made-by-admin-1',
		});
		assert.equal(made.status, 303, `${made}`);
		assert.equal(await flag(ctx.srv, 'tmp-form-made'), 1);
		const res = ctx.client();
		assert.equal((await res.formLogin(A.lg, 'tmp-form-made', 'form-made-by-admin-1')).status, 303);
		const me = await res.page('/me');
		assert.equal(me.status, 303);
		assert.equal(me.headers.get('location'), '/me/password');

		// an account without a password has nothing temporary
		const nopw = await admin.post('/api/v1/admin/users', { json: { login: 'tmp-nopw', display: '証明書 のみ', kind: 'resident', roles: ['resident'] } });
		assert.equal(nopw.status, 201, `${nopw}`);
		assert.equal(nopw.json().must_change_password, false);
	});

	it('a session started with the person\'s log-in certificate is not held back; the password session is', async () => {
		const owner = ctx.client();
		await logIn(owner, CARD);
		const reg = await owner.post('/api/v1/me/certificates', { json: { certificate: readFileSync(path.join(certDir, 'leaf-ec.pem'), 'utf8') } });
		assert.equal(reg.status, 201, `${reg}`);
		const r = await admin.post(`/api/v1/admin/users/${ids[CARD.login]}/password`, { json: { password: 'card-owner-temp-1' } });
		assert.equal(r.status, 200, `${r}`);
		const pw = ctx.client();
		await logIn(pw, { login: CARD.login, password: 'card-owner-temp-1' });
		assertGated(await search(pw), 'password session');
		const card = ctx.client();
		const cl = await certLogin(card, 'leaf-ec');
		assert.equal(cl.status, 200, `${cl}`);
		card.csrf = cl.json().csrf;
		const me = await card.me();
		assert.equal(me.login, CARD.login);
		assert.equal(me.must_change_password, false, 'the card proves the person');
		assert.equal((await search(card)).status, 200);
		assert.equal(await flag(ctx.srv, CARD.login), 1, 'the password stays temporary');
	});

	it('public routes and static assets still answer', async () => {
		const c = ctx.client();
		await logIn(c, { login: 'tmp-made', password: 'made-by-admin-pass-1' });
		assert.equal((await c.get('/healthz')).status, 200);
		assert.equal((await c.get('/api/v1/municipalities')).status, 200);
		assert.equal((await c.get('/static/site.css')).status, 200);
		assertGated(await c.get('/api/v1/admin/users'), 'admin route without the permission');
	});

	it('the CLI can make a temporary password on request', async () => {
		await ctx.srv.cli(['user', 'add', '--lg', A.lg, '--login', 'tmp-cli-flag', '--kind', 'staff', '--roles', 'shimin_clerk', '--password', 'cli-temporary-pass-1', '--temporary-password']);
		assert.equal(await flag(ctx.srv, 'tmp-cli-flag'), 1);
		const c = ctx.client();
		await logIn(c, { login: 'tmp-cli-flag', password: 'cli-temporary-pass-1' });
		assertGated(await search(c), 'CLI --temporary-password');
		// no API token for it until the person has changed the password
		const tok = await ctx.srv.cli(['token', 'create', '--lg', A.lg, '--login', 'tmp-cli-flag'], { expect: null });
		assert.equal(tok.code, 1, `${tok.stdout}${tok.stderr}`);
		assert.match(tok.stderr, /temporary password/);
		assert.doesNotMatch(tok.stdout, /mdg_/);
		const ch = await c.post('/api/v1/me/password', { json: { current_password: 'cli-temporary-pass-1', new_password: 'cli-own-password-1' } });
		assert.equal(ch.status, 200, `${ch}`);
		const ok = await ctx.srv.cli(['token', 'create', '--lg', A.lg, '--login', 'tmp-cli-flag']);
		const token = ok.stdout.trim().split(/\s+/).pop();
		assert.match(token, /^mdg_/);
		assert.equal((await ctx.client({ token }).me()).must_change_password, false);
	});

	ctx.stopTest();
});
