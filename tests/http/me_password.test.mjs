// Everyone changes their own password: POST /api/v1/me/password and the
// no-JavaScript form /me/password. The current password must verify, and a
// wrong one counts toward the lock-out like a failed log-in (a stolen session
// cannot be used to guess it); the new one follows the policy of account
// creation; a change ends every other session and API token of the account,
// keeps this one signed in under a new id, and is audited.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A, sql } from './lib/server.mjs';
import { assertProblem, assertSecurityHeaders, inputValue, items } from './lib/client.mjs';

const MAX_FAILURES = 3;
const person = (login, extra = {}) => ({ lg: A.lg, login, password: `${login}-password-1`, kind: 'resident', roles: ['resident'], name: `変更 ${login}`, ...extra });
const CHANGER = person('pw-changer');
const GUESSED = person('pw-guessed');
const RULES = person('pw-rules');
const CLERK = person('pw-clerk', { kind: 'staff', roles: ['shimin_clerk'] });
const TOKENUSER = person('pw-token');

async function apiToken(srv, login) {
	const r = await srv.cli(['token', 'create', '--lg', A.lg, '--login', login]);
	const words = r.stdout.trim().split(/\s+/);
	return words[words.length - 1];
}

async function count(srv, where) {
	return Number((await sql(srv, `SELECT COUNT(*) FROM audit_log WHERE ${where}`)).trim());
}

async function failedLogins(srv, login) {
	return Number((await sql(srv, `SELECT failed_logins FROM accounts WHERE lg_code = '${A.lg}' AND login = '${login}'`)).trim());
}

describe('changing one\'s own password', () => {
	const ctx = useServer({
		tenantB: false,
		users: [CHANGER, GUESSED, RULES, CLERK, TOKENUSER],
		args: ['--login-max-failures', String(MAX_FAILURES), '--login-lockout', '900', '--login-ip-max-failures', '100000'],
	});
	const change = (c, current_password, new_password) => c.post('/api/v1/me/password', { json: { current_password, new_password } });

	it('needs a signed-in person', async () => {
		const anon = ctx.client();
		assertProblem(await change(anon, 'x', 'y'), 401);
		const p = await anon.page('/me/password');
		assert.equal(p.status, 303, `${p}`);
		assert.match(p.headers.get('location') ?? '', /^\/login\?next=%2Fme%2Fpassword/);
	});

	it('a wrong current password is 400 and counts toward the lock-out, like a failed log-in', async () => {
		const c = ctx.client();
		await c.mustLogin(A.lg, GUESSED);
		const id = (await c.me()).account_id;
		assert.equal(await failedLogins(ctx.srv, GUESSED.login), 0);
		for (let i = 1; i <= MAX_FAILURES; i++) {
			const r = await change(c, `guess-number-${i}`, 'a-perfectly-fine-new-one');
			const p = assertProblem(r, 400);
			assert.match(p.errors.current_password, /現在のパスワードが違います/);
			assert.equal(p.errors.new_password, undefined, 'the new one was fine');
			assert.equal(await failedLogins(ctx.srv, GUESSED.login), i, `failure ${i} counted`);
		}
		// locked now: the log-in refuses even the right password…
		const login = await ctx.client().apiLogin(A.lg, GUESSED.login, GUESSED.password);
		assertProblem(login, 429);
		// …and the change refuses even the right current password, before verifying it
		const locked = await change(c, GUESSED.password, 'a-perfectly-fine-new-one');
		assertProblem(locked, 429);
		const ra = Number(locked.headers.get('retry-after'));
		assert.ok(Number.isInteger(ra) && ra > 0 && ra <= 900, `Retry-After ${locked.headers.get('retry-after')}`);
		assert.equal(await failedLogins(ctx.srv, GUESSED.login), MAX_FAILURES, 'nothing verified or counted while locked');
		assert.equal((await c.get('/api/v1/me')).status, 200, 'the session itself goes on');
		const hash = await sql(ctx.srv, `SELECT password_hash FROM accounts WHERE id = ${id}`);
		assert.match(hash, /^\$argon2id\$/);
		assert.equal(await count(ctx.srv, `action = 'account.password_change' AND subject = 'account:${id}' AND outcome = 'denied'`), MAX_FAILURES + 1);
		assert.equal(await count(ctx.srv, `action = 'account.password_change' AND subject = 'account:${id}' AND outcome = 'ok'`), 0);
	});

	it('the new password follows the policy of account creation and differs from the current one', async () => {
		const c = ctx.client();
		await c.mustLogin(A.lg, RULES);
		const short = assertProblem(await change(c, RULES.password, 'short'), 400);
		assert.match(short.errors.new_password, /10文字以上/);
		assert.equal(short.errors.current_password, undefined);
		const ctl = assertProblem(await change(c, RULES.password, 'has-a-newline\nin-it-1234'), 400);
		assert.equal(typeof ctl.errors.new_password, 'string');
		const same = assertProblem(await change(c, RULES.password, RULES.password), 400);
		assert.match(same.errors.new_password, /現在のパスワードと違う/);
		const missing = assertProblem(await c.post('/api/v1/me/password', { json: {} }), 400);
		assert.equal(typeof missing.errors.current_password, 'string');
		assert.equal(typeof missing.errors.new_password, 'string');
		const typed = assertProblem(await c.post('/api/v1/me/password', { json: { current_password: 12345, new_password: ['x'] } }), 400);
		assert.equal(typeof typed.errors.current_password, 'string');
		assert.equal(typeof typed.errors.new_password, 'string');
		assertProblem(await c.post('/api/v1/me/password', { json: '[1, 2' }), 400);
		// both wrong at once: both named, and the wrong current one still counts
		const both = assertProblem(await change(c, 'not-my-password', 'short'), 400);
		assert.equal(typeof both.errors.current_password, 'string');
		assert.equal(typeof both.errors.new_password, 'string');
		assert.equal(await failedLogins(ctx.srv, RULES.login), 1);
		// nothing changed
		await ctx.client().mustLogin(A.lg, RULES);
		assert.equal(await failedLogins(ctx.srv, RULES.login), 0, 'a log-in resets the count');
	});

	it('cookie-authenticated JSON needs JSON or the X-CSRF-Token; an API token may not change it', async () => {
		const c = ctx.client();
		const login = await c.mustLogin(A.lg, TOKENUSER);
		const csrf = login.json().csrf;
		const body = JSON.stringify({ current_password: TOKENUSER.password, new_password: 'never-set-this-one' });
		assertProblem(await c.post('/api/v1/me/password', { body, headers: { 'content-type': 'text/plain' } }), 403);
		assertProblem(await c.post('/api/v1/me/password', { form: { current_password: TOKENUSER.password, new_password: 'never-set-this-one' } }), 403);
		// with the header, the content type is checked by the JSON reader instead
		const withHeader = await c.post('/api/v1/me/password', { body, headers: { 'content-type': 'text/plain', 'x-csrf-token': csrf } });
		assert.notEqual(withHeader.status, 200, `${withHeader}`);
		const tok = ctx.client({ token: await apiToken(ctx.srv, TOKENUSER.login) });
		assert.equal((await tok.get('/api/v1/me')).status, 200);
		const refused = assertProblem(await change(tok, TOKENUSER.password, 'never-set-this-one'), 403);
		assert.match(refused.detail, /API トークン/);
		await ctx.client().mustLogin(A.lg, TOKENUSER);
		assert.equal((await tok.get('/api/v1/me')).status, 200, 'nothing was revoked');
	});

	it('a change ends the other sessions and API tokens, keeps this one under a new id, and is audited', async () => {
		const other = ctx.client();
		await other.mustLogin(A.lg, CHANGER);
		const tok = ctx.client({ token: await apiToken(ctx.srv, CHANGER.login) });
		assert.equal((await tok.get('/api/v1/me')).status, 200);
		const c = ctx.client();
		await c.mustLogin(A.lg, CHANGER);
		const id = (await c.me()).account_id;
		const oldCookie = c.cookies.get('mado_session');
		const NEW = 'my-new-password-2026';

		const r = await change(c, CHANGER.password, NEW);
		assert.equal(r.status, 200, `${r}`);
		assert.match(r.json().message, /パスワードを変更しました/);
		assert.equal(typeof r.json().csrf, 'string');
		assert.ok(!r.text.includes(NEW) && !r.text.includes(CHANGER.password), 'no password in the answer');

		// this session: still signed in, under a new id
		const newCookie = c.cookies.get('mado_session');
		assert.ok(newCookie && newCookie !== oldCookie, 'the session id was rotated');
		assert.equal((await c.me()).login, CHANGER.login);
		const stale = ctx.client();
		stale.setCookie('mado_session', oldCookie);
		assertProblem(await stale.get('/api/v1/me'), 401);
		// the other session and the API token: gone
		assertProblem(await other.get('/api/v1/me'), 401);
		assertProblem(await tok.get('/api/v1/me'), 401);
		const revoked = await sql(ctx.srv, `SELECT revoked FROM api_tokens WHERE account_id = ${id}`);
		assert.deepEqual(revoked.trim().split('\n'), ['1']);
		// the old password no longer logs in, the new one does
		assertProblem(await ctx.client().apiLogin(A.lg, CHANGER.login, CHANGER.password), 401);
		await ctx.client().mustLogin(A.lg, { login: CHANGER.login, password: NEW });

		// audited, with no password anywhere in the log
		assert.equal(await count(ctx.srv, `action = 'account.password_change' AND subject = 'account:${id}' AND outcome = 'ok'`), 1);
		const row = await sql(ctx.srv, `SELECT purpose || '|' || COALESCE(detail, '') FROM audit_log WHERE action = 'account.password_change'`);
		assert.match(row, /パスワードの変更/);
		assert.ok(!row.includes(NEW) && !row.includes(CHANGER.password));
		const log = await c.get('/api/v1/me/access-log');
		assert.ok(items(log.json()).some((e) => e.action === 'account.password_change' && e.action_ja === 'パスワードの変更' && e.outcome === 'ok'), log.text.slice(0, 400));
		const out = ctx.srv.stdoutLines.join('\n') + ctx.srv.stderrText();
		assert.ok(!out.includes(NEW) && !out.includes(CHANGER.password), 'no password in the server output');

		// JSON clients keep going with the rotated session's token
		const again = await c.post('/api/v1/me/password', {
			body: JSON.stringify({ current_password: NEW, new_password: 'the-third-password-x' }),
			headers: { 'content-type': 'text/plain', 'x-csrf-token': r.json().csrf },
		});
		assert.equal(again.status, 415, `the new CSRF token is accepted, then the body type refused: ${again}`);
	});

	describe('the form /me/password', () => {
		let c;
		let form;
		before(async () => {
			c = ctx.client();
			assert.equal((await c.formLogin(A.lg, CLERK.login, CLERK.password)).status, 303);
		});

		it('is linked from /me, for staff as for residents, and is a plain accessible form', async () => {
			const me = await c.page('/me');
			assert.match(me.text, /<a href="\/me\/password">パスワードを変更する<\/a>/);
			const res = ctx.client();
			assert.equal((await res.formLogin(A.lg, A.resident.login, A.resident.password)).status, 303);
			assert.match((await res.page('/me')).text, /<a href="\/me\/password">/);

			form = await c.page('/me/password');
			assert.equal(form.status, 200, `${form}`);
			assertSecurityHeaders(form);
			assert.equal(form.headers.get('cache-control'), 'no-store');
			const t = form.text;
			assert.match(t, /<h1>パスワードの変更<\/h1>/);
			assert.match(t, /<form method="post" action="\/me\/password"/);
			assert.match(t, /<label for="current_password">現在のパスワード/);
			assert.match(t, /<label for="new_password">新しいパスワード/);
			assert.match(t, /<label for="new_password_confirm">新しいパスワード（確認）/);
			assert.match(t, /id="current_password"[^>]*type="password"[^>]*autocomplete="current-password"/);
			assert.match(t, /id="new_password"[^>]*type="password"[^>]*autocomplete="new-password"/);
			assert.match(t, /id="new_password_confirm"[^>]*type="password"[^>]*autocomplete="new-password"/);
			assert.match(t, /10文字以上/);
			assert.ok(inputValue(t, 'csrf'), 'a CSRF field');
			assert.doesNotMatch(t, /aria-invalid/);
		});

		it('is refused without the CSRF token, and changes nothing', async () => {
			const f = { current_password: CLERK.password, new_password: 'never-this-one-1', new_password_confirm: 'never-this-one-1' };
			assert.equal((await c.submit('/me/password', { ...f, csrf: undefined })).status, 403);
			assert.equal((await c.submit('/me/password', { ...f, csrf: 'x'.repeat(43) })).status, 403);
			// a JSON body is no form: refused on an HTML route too
			assert.equal((await c.post('/me/password', { json: f, accept: 'text/html' })).status, 403);
			await ctx.client().mustLogin(A.lg, CLERK);
		});

		it('shows each error beside its field, with aria-invalid and an error summary', async () => {
			const csrf = inputValue(form.text, 'csrf');
			const mismatch = await c.submit('/me/password', { csrf, current_password: CLERK.password, new_password: 'a-long-enough-one', new_password_confirm: 'a-different-one-1' });
			assert.equal(mismatch.status, 400, `${mismatch}`);
			assert.match(mismatch.text, /id="new_password_confirm-error"[^>]*>[\s\S]*?同じように入力/);
			assert.match(mismatch.text, /id="new_password_confirm"[^>]*aria-invalid="true"/);
			assert.match(mismatch.text, /class="error-summary"[\s\S]*href="#new_password_confirm"/);
			assert.doesNotMatch(mismatch.text, /a-long-enough-one|a-different-one-1/, 'passwords are not put back');
			assert.equal(await failedLogins(ctx.srv, CLERK.login), 0, 'a mismatch verifies nothing');

			const wrong = await c.submit('/me/password', { csrf, current_password: 'not-the-password', new_password: 'a-long-enough-one', new_password_confirm: 'a-long-enough-one' });
			assert.equal(wrong.status, 400, `${wrong}`);
			assert.match(wrong.text, /id="current_password-error"[^>]*>[\s\S]*?現在のパスワードが違います/);
			assert.match(wrong.text, /id="current_password"[^>]*aria-describedby="current_password-hint current_password-error"[^>]*aria-invalid="true"/);
			assert.match(wrong.text, /href="#current_password"/);
			assert.doesNotMatch(wrong.text, /id="new_password"[^>]*aria-invalid/);
			assert.equal(await failedLogins(ctx.srv, CLERK.login), 1, 'counted like a failed log-in');

			const short = await c.submit('/me/password', { csrf, current_password: CLERK.password, new_password: 'short', new_password_confirm: 'short' });
			assert.equal(short.status, 400, `${short}`);
			assert.match(short.text, /id="new_password-error"[^>]*>[\s\S]*?10文字以上/);
			assert.match(short.text, /id="new_password"[^>]*aria-invalid="true"/);

			const empty = await c.submit('/me/password', { csrf });
			assert.equal(empty.status, 400);
			assert.match(empty.text, /id="current_password"[^>]*aria-invalid="true"/);
			assert.match(empty.text, /id="new_password"[^>]*aria-invalid="true"/);
		});

		it('a change redirects to the result, keeps this browser signed in and ends the others', async () => {
			const other = ctx.client();
			await other.mustLogin(A.lg, CLERK);
			const before = c.cookies.get('mado_session');
			const NEW = 'clerk-new-password-1';
			const r = await c.submit('/me/password', { csrf: inputValue(form.text, 'csrf'), current_password: CLERK.password, new_password: NEW, new_password_confirm: NEW });
			assert.equal(r.status, 303, `${r}`);
			assert.equal(r.headers.get('location'), '/me/password?done=1');
			assert.notEqual(c.cookies.get('mado_session'), before, 'the session id was rotated');
			const done = await c.page(r.headers.get('location'));
			assert.equal(done.status, 200, `${done}`);
			assert.match(done.text, /role="status"[^>]*>パスワードを変更しました。/);
			assert.equal((await c.page('/me')).status, 200);
			assertProblem(await other.get('/api/v1/me'), 401);
			assertProblem(await ctx.client().apiLogin(A.lg, CLERK.login, CLERK.password), 401);
			assert.equal((await ctx.client().formLogin(A.lg, CLERK.login, NEW)).status, 303);
			assert.equal(await failedLogins(ctx.srv, CLERK.login), 0);
		});
	});

	ctx.stopTest();
});
