// Log-in guessing in parallel: the per-account lock-out and the per-address
// limit are taken before the Argon2id verification, atomically, so a burst of
// simultaneous wrong passwords gets no more verifications than the limit
// (on log-in and on /me/password alike). A disabled account answers a wrong
// password exactly as an unknown login does; only the right password learns
// that it is disabled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A, sql } from './lib/server.mjs';
import { assertProblem } from './lib/client.mjs';

const MAX = 3;
const BURST = 20;
const person = (login) => ({ lg: A.lg, login, password: `${login}-password-1`, kind: 'resident', roles: ['resident'], name: `並行 ${login}` });
const VICTIM = person('race-victim');
const CHANGER = person('race-changer');
const LASTRIGHT = person('race-last-right');
const DISABLED = person('race-disabled');

async function failedLogins(srv, login) {
	return Number((await sql(srv, `SELECT failed_logins FROM accounts WHERE lg_code = '${A.lg}' AND login = '${login}'`)).trim());
}

/** Status counts of a list of responses, e.g. {401: 3, 429: 17}. */
function tally(rs) {
	const t = {};
	for (const r of rs) t[r.status] = (t[r.status] ?? 0) + 1;
	return t;
}

describe('parallel guesses stop at the per-account limit', () => {
	const ctx = useServer({
		tenantB: false,
		users: [VICTIM, CHANGER, LASTRIGHT, DISABLED],
		// several worker threads, so that the requests really run side by side
		args: ['--threads', '8', '--login-max-failures', String(MAX), '--login-lockout', '900',
			'--login-ip-max-failures', '100000'],
	});

	it(`${BURST} simultaneous wrong log-ins: at most ${MAX} are verified, the rest are 429`, { timeout: 60_000 }, async () => {
		const rs = await Promise.all(Array.from({ length: BURST }, (_, i) =>
			ctx.client().apiLogin(A.lg, VICTIM.login, `wrong-guess-${i}-xyz`)));
		const t = tally(rs);
		assert.equal((t[401] ?? 0) + (t[429] ?? 0), BURST, JSON.stringify(t));
		assert.equal(t[401], MAX, `wrong-password answers (verifications) ${JSON.stringify(t)}`);
		for (const r of rs) if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) > 0, `${r}`);
		assert.equal(await failedLogins(ctx.srv, VICTIM.login), MAX);
		// and the account is locked for the right password too
		assertProblem(await ctx.client().apiLogin(A.lg, VICTIM.login, VICTIM.password), 429);
		assert.equal(await failedLogins(ctx.srv, VICTIM.login), MAX, 'nothing counted while locked');
	});

	it(`${BURST} simultaneous wrong current passwords on /me/password: at most ${MAX} are verified`, { timeout: 60_000 }, async () => {
		const c = ctx.client();
		await c.mustLogin(A.lg, CHANGER);
		const rs = await Promise.all(Array.from({ length: BURST }, (_, i) =>
			c.post('/api/v1/me/password', { json: { current_password: `wrong-guess-${i}-xyz`, new_password: 'a-perfectly-fine-new-one' } })));
		const t = tally(rs);
		assert.equal((t[400] ?? 0) + (t[429] ?? 0), BURST, JSON.stringify(t));
		assert.equal(t[400], MAX, `wrong-current-password answers (verifications) ${JSON.stringify(t)}`);
		for (const r of rs) if (r.status === 400) assert.match(r.json().errors.current_password, /現在のパスワードが違います/);
		assert.equal(await failedLogins(ctx.srv, CHANGER.login), MAX);
		assertProblem(await ctx.client().apiLogin(A.lg, CHANGER.login, CHANGER.password), 429);
	});

	it(`the right password among ${MAX} parallel attempts (the rest wrong) still logs in and clears the count`, { timeout: 60_000 }, async () => {
		for (let round = 0; round < 3; round++) {
			const attempts = Array.from({ length: MAX }, (_, i) => (i === round % MAX ? LASTRIGHT.password : `wrong-${round}-${i}-xyz`));
			const rs = await Promise.all(attempts.map((pw) => ctx.client().apiLogin(A.lg, LASTRIGHT.login, pw)));
			rs.forEach((r, i) => assert.equal(r.status, attempts[i] === LASTRIGHT.password ? 200 : 401, `round ${round}, attempt ${i}: ${r}`));
			// whatever order they ran in, the account is usable afterwards
			await ctx.client().mustLogin(A.lg, LASTRIGHT);
			assert.equal(await failedLogins(ctx.srv, LASTRIGHT.login), 0);
		}
		// sequentially, the MAX-th attempt being right also logs in
		for (let i = 1; i < MAX; i++) assertProblem(await ctx.client().apiLogin(A.lg, LASTRIGHT.login, `wrong-${i}-xyz`), 401);
		await ctx.client().mustLogin(A.lg, LASTRIGHT);
		// a right current password on /me/password gives its attempt back
		const c = ctx.client();
		await c.mustLogin(A.lg, LASTRIGHT);
		for (let i = 1; i < MAX; i++) assertProblem(await ctx.client().apiLogin(A.lg, LASTRIGHT.login, `wrong-${i}-xyz`), 401);
		const short = assertProblem(await c.post('/api/v1/me/password', { json: { current_password: LASTRIGHT.password, new_password: 'short' } }), 400);
		assert.equal(short.errors.current_password, undefined);
		assert.equal(await failedLogins(ctx.srv, LASTRIGHT.login), MAX - 1, 'the right current password was not counted');
		await ctx.client().mustLogin(A.lg, LASTRIGHT);
	});

	it('a disabled account answers a wrong password like an unknown login; only the right one learns 利用停止中', async () => {
		await sql(ctx.srv, `UPDATE accounts SET disabled = 1 WHERE lg_code = '${A.lg}' AND login = '${DISABLED.login}'`);
		const unknown = assertProblem(await ctx.client().apiLogin(A.lg, 'race-nobody-at-all', 'wrong-password-xyz'), 401);
		const wrong = assertProblem(await ctx.client().apiLogin(A.lg, DISABLED.login, 'wrong-password-xyz'), 401);
		assert.deepEqual({ title: wrong.title, detail: wrong.detail }, { title: unknown.title, detail: unknown.detail });
		assert.doesNotMatch(JSON.stringify(wrong), /利用停止/);
		const right = ctx.client();
		const rr = await right.apiLogin(A.lg, DISABLED.login, DISABLED.password);
		assert.notEqual(rr.status, 200, `${rr}`);
		assert.match(rr.text, /利用停止中/);
		assert.ok(!right.cookies.has('mado_session') || (await right.get('/api/v1/me')).status === 401, 'no session');
		// the HTML form the same way
		const fu = await ctx.client().formLogin(A.lg, 'race-nobody-at-all', 'wrong-password-xyz');
		const fw = await ctx.client().formLogin(A.lg, DISABLED.login, 'wrong-password-xyz');
		assert.equal(fw.status, fu.status);
		assert.doesNotMatch(fw.text, /利用停止/);
		assert.match(fw.text, /ログインIDまたはパスワードが違います/);
		const fr = await ctx.client().formLogin(A.lg, DISABLED.login, DISABLED.password);
		assert.match(fr.text, /利用停止中/);
		// wrong passwords count toward its lock-out as for any account; the right one does not
		assert.equal(await failedLogins(ctx.srv, DISABLED.login), 2);
	});

	ctx.stopTest();
});

describe('parallel guesses stop at the per-address limit', () => {
	const ctx = useServer({ tenantB: false, args: ['--threads', '8', '--login-ip-max-failures', String(MAX)] });

	it(`${BURST} simultaneous wrong log-ins on different accounts from one address: ${MAX} are verified`, { timeout: 60_000 }, async () => {
		const rs = await Promise.all(Array.from({ length: BURST }, (_, i) =>
			ctx.client().apiLogin(A.lg, `spray-${i}`, 'wrong-password-xyz')));
		const t = tally(rs);
		assert.equal(t[401], MAX, JSON.stringify(t));
		assert.equal(t[429], BURST - MAX, JSON.stringify(t));
		assertProblem(await ctx.client().apiLogin(A.lg, A.resident.login, A.resident.password), 429);
	});

	ctx.stopTest();
});
