// The audit chain seen from outside: a staff read of an account shows up in
// that resident's access history (API and page), `madoguchi audit verify` and
// the admin API agree the chain is whole, and after one row is edited directly
// in the database both name that entry.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { useServer } from './lib/suite.mjs';
import { A, B, sql } from './lib/server.mjs';
import { assertProblem, items } from './lib/client.mjs';

const OTHER = { lg: A.lg, login: 'other-resident', password: 'other-resident-password', kind: 'resident', roles: ['resident'], name: '他人 次郎' };

async function verifyCli(srv) {
	const r = await srv.cli(['audit', 'verify'], { expect: null });
	return { ...r, text: r.stdout + r.stderr };
}

/** Finds the audit entries table and a text column to tamper with. */
async function auditTable(srv) {
	let tables;
	if (srv.dbUrl) {
		tables = (await sql(srv, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE '%audit%'"))
			.split('\n').filter(Boolean);
	} else {
		tables = (await sql(srv, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%audit%'")).split('\n').filter(Boolean);
	}
	for (const t of tables) {
		let cols;
		if (srv.dbUrl) {
			cols = (await sql(srv, `SELECT column_name FROM information_schema.columns WHERE table_name = '${t}'`)).split('\n').filter(Boolean);
		} else {
			cols = (await sql(srv, `SELECT name FROM pragma_table_info('${t}')`)).split('\n').filter(Boolean);
		}
		if (!cols.includes('seq')) continue;
		const col = ['purpose', 'action', 'outcome', 'actor_name', 'actor', 'detail'].find((x) => cols.includes(x));
		if (col && !/checkpoint/.test(t)) return { table: t, col };
	}
	throw new Error(`no audit entries table with a seq column among: ${tables.join(', ')}`);
}

describe('audit trail', () => {
	const ctx = useServer({ users: [OTHER], args: ['--audit-checkpoint-every', '5'] });
	const c = {};
	let residentId;
	let clerkMe;

	before(async () => {
		for (const [k, lg, u] of [['resident', A.lg, A.resident], ['clerk', A.lg, A.clerk], ['admin', A.lg, A.admin], ['other', A.lg, OTHER], ['bResident', B.lg, B.resident]]) {
			c[k] = ctx.client();
			await c[k].mustLogin(lg, u);
		}
		residentId = (await c.resident.me()).account_id;
		clerkMe = await c.clerk.me();
	});

	it('a resident\'s access log lists entries with the documented fields', async () => {
		const r = await c.resident.get('/api/v1/me/access-log');
		assert.equal(r.status, 200, `${r}`);
		const j = r.json();
		assert.ok(Array.isArray(j.items), `items in ${r.text.slice(0, 300)}`);
		assert.ok('next' in j, 'next cursor (null at the end)');
	});

	it('a staff read of an account appears in that resident\'s access log, with purpose', async () => {
		const before = items((await c.resident.get('/api/v1/me/access-log')).json());
		const read = await c.clerk.get(`/api/v1/accounts/${residentId}`);
		assert.equal(read.status, 200, `${read}`);
		assert.equal(read.json().login ?? read.json().account?.login, 'resident');
		const after = items((await c.resident.get('/api/v1/me/access-log')).json());
		assert.ok(after.length > before.length || after[0]?.seq !== before[0]?.seq, 'no new entry');
		const e = after.find((x) => x.actor_name === clerkMe.display && !before.some((b) => b.seq === x.seq));
		assert.ok(e, `no entry by ${clerkMe.display} in ${JSON.stringify(after).slice(0, 800)}`);
		for (const k of ['seq', 'ts', 'actor_name', 'actor_org', 'action', 'purpose', 'outcome']) assert.ok(k in e, `entry.${k}`);
		assert.equal(typeof e.seq, 'number');
		assert.ok(!Number.isNaN(Date.parse(e.ts)), `ts ${e.ts}`);
		assert.ok(Math.abs(Date.parse(e.ts) - Date.now()) < 5 * 60_000, `ts ${e.ts} is not now`);
		assert.equal(typeof e.purpose, 'string');
		assert.ok(e.purpose.length > 0, 'purpose');
		assert.match(String(e.actor_org), /和歌山市|市民課/);
		// Newest first.
		const seqs = after.map((x) => x.seq);
		assert.deepEqual(seqs, [...seqs].sort((x, y) => y - x), 'entries newest first');
	});

	it('the entry is on the resident\'s わたしの情報の利用履歴 page, and nobody else\'s', async () => {
		const page = ctx.client();
		assert.equal((await page.formLogin(A.lg, A.resident.login, A.resident.password)).status, 303);
		const h = await page.page('/me/history');
		assert.equal(h.status, 200, `${h}`);
		assert.match(h.text, /利用履歴/);
		assert.ok(h.text.includes(clerkMe.display), 'the clerk\'s name on the history page');
		for (const who of ['other', 'bResident']) {
			const log = items((await c[who].get('/api/v1/me/access-log')).json());
			assert.ok(!log.some((x) => x.actor_name === clerkMe.display), `${who} sees the clerk's read of someone else`);
		}
	});

	it('the access log cannot be steered to another resident by a query parameter', async () => {
		const otherId = (await c.other.me()).account_id;
		assert.equal((await c.clerk.get(`/api/v1/accounts/${otherId}`)).status, 200);
		const own = items((await c.resident.get('/api/v1/me/access-log')).json()).map((x) => x.seq);
		for (const q of [`account_id=${otherId}`, `subject=${otherId}`, `id=${otherId}`]) {
			const r = await c.resident.get(`/api/v1/me/access-log?${q}`);
			assert.ok(r.status === 200 || r.status === 400, `${q}: ${r}`);
			if (r.status === 200) assert.deepEqual(items(r.json()).map((x) => x.seq), own, `?${q} changed whose log is shown`);
		}
		const otherLog = items((await c.other.get('/api/v1/me/access-log')).json());
		assert.ok(otherLog.some((x) => x.actor_name === clerkMe.display), 'positive control: the other resident sees the read');
	});

	it('`madoguchi audit verify` and the admin API agree the chain is whole', { timeout: 60_000 }, async () => {
		for (let i = 0; i < 12; i++) assert.equal((await c.clerk.get(`/api/v1/accounts/${residentId}`)).status, 200);
		let v;
		for (let i = 0; i < 20; i++) {
			v = await verifyCli(ctx.srv);
			const m = /audit chain OK: (\d+) entries, (\d+) checkpoints/.exec(v.text);
			if (v.code === 0 && m && Number(m[2]) >= 2) break;
			await sleep(250);
		}
		assert.equal(v.code, 0, v.text);
		const m = /audit chain OK: (\d+) entries, (\d+) checkpoints/.exec(v.text);
		assert.ok(m, v.text);
		assert.ok(Number(m[1]) >= 13, `entries ${m[1]}`);
		assert.ok(Number(m[2]) >= 2, `checkpoints ${m[2]} with one every 5 entries`);

		const api = await c.admin.get('/api/v1/admin/audit/verify');
		assert.equal(api.status, 200, `${api}`);
		const j = api.json();
		assert.equal(j.ok, true);
		assert.ok(j.entries >= Number(m[1]));
		assert.ok(j.checkpoints >= 2);
		assertProblem(await c.clerk.get('/api/v1/admin/audit/verify'), 403);
	});

	it('editing one row in the database is found and named', { timeout: 60_000 }, async () => {
		const log = items((await c.resident.get('/api/v1/me/access-log')).json());
		const target = log.find((x) => x.actor_name === clerkMe.display);
		assert.ok(target, 'an entry to tamper with');
		const { table, col } = await auditTable(ctx.srv);
		await sql(ctx.srv, `UPDATE ${table} SET ${col} = ${col} || 'x' WHERE seq = ${target.seq}`);
		const changed = (await sql(ctx.srv, `SELECT count(*) FROM ${table} WHERE seq = ${target.seq} AND ${col} LIKE '%x'`)).trim();
		assert.equal(changed, '1', 'the row was not changed');

		const v = await verifyCli(ctx.srv);
		assert.equal(v.code, 1, `verify after tampering: ${v.text}`);
		assert.match(v.text, new RegExp(`audit chain BROKEN at seq ${target.seq}\\b`), v.text);

		const api = await c.admin.get('/api/v1/admin/audit/verify');
		assert.equal(api.status, 200, `${api}`);
		const j = api.json();
		assert.equal(j.ok, false);
		assert.equal(j.first_broken_seq, target.seq);
		assert.equal(typeof j.reason, 'string');
	});

	ctx.stopTest();
});
