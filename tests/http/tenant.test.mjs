// Tenant isolation: staff and residents of 海南市 (302023) reach nothing of
// 和歌山市 (302015) through any route, API or HTML, whatever ids they try.
// Positive controls first, so that a server which refuses everything fails.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A, B } from './lib/server.mjs';
import { assertProblem, inputValue, items } from './lib/client.mjs';

// A resident of 和歌山市 whose name and login only ever appear in A's data.
const SECRET = {
	lg: A.lg,
	login: 'secret-wakayama',
	password: 'secret-wakayama-password',
	kind: 'resident',
	roles: ['resident'],
	name: '機密 和歌山太郎',
};
const MARKERS = [SECRET.login, SECRET.name];

function assertNoAData(r, what) {
	for (const m of MARKERS) assert.ok(!r.text.includes(m), `${what} leaked "${m}": ${r}`);
}

function assertRefused(r, what) {
	assert.ok(r.status === 403 || r.status === 404, `${what}: want 403 or 404, got ${r}`);
	assertNoAData(r, what);
}

describe('a clerk of one municipality cannot read another\'s data', () => {
	const ctx = useServer({ users: [SECRET] });
	const ids = {};
	const c = {};

	before(async () => {
		for (const [name, lg, u] of [
			['aClerk', A.lg, A.clerk],
			['aAdmin', A.lg, A.admin],
			['aSecret', A.lg, SECRET],
			['bClerk', B.lg, B.clerk],
			['bAdmin', B.lg, B.admin],
			['bResident', B.lg, B.resident],
		]) {
			c[name] = ctx.client();
			await c[name].mustLogin(lg, u);
		}
		ids.secret = (await c.aSecret.me()).account_id;
		ids.bResident = (await c.bResident.me()).account_id;
		const aUsers = items((await c.aAdmin.get('/api/v1/admin/users')).json());
		ids.aClerk = aUsers.find((u) => u.login === 'clerk')?.id;
		ids.aAdmin = aUsers.find((u) => u.login === 'admin')?.id;
		ids.aResident = aUsers.find((u) => u.login === 'resident')?.id;
		ids.aAll = aUsers.map((u) => u.id);
		const aJobs = await c.aAdmin.get('/api/v1/admin/jobs?state=dead');
		ids.aJobs = aJobs.status === 200 ? items(aJobs.json()).map((j) => j.id) : [];
	});

	it('positive controls: each clerk reads their own municipality\'s accounts', async () => {
		assert.ok(ids.secret && ids.aClerk && ids.aAdmin && ids.bResident, JSON.stringify(ids));
		const ra = await c.aClerk.get(`/api/v1/accounts/${ids.secret}`);
		assert.equal(ra.status, 200, `${ra}`);
		assert.ok(ra.text.includes(SECRET.name) || ra.text.includes(SECRET.login), `${ra}`);
		const rb = await c.bClerk.get(`/api/v1/accounts/${ids.bResident}`);
		assert.equal(rb.status, 200, `${rb}`);
		const me = await c.bClerk.me();
		assert.equal(me.lg_code, B.lg);
		assert.equal(me.login, 'clerk');
		assert.equal(me.display, B.clerk.name);
		assert.match(JSON.stringify(me.municipality), /海南市/);
	});

	it('GET /api/v1/accounts/:id with any 和歌山市 id is refused to every 海南市 account', async () => {
		for (const who of ['bClerk', 'bAdmin', 'bResident']) {
			for (const id of ids.aAll) {
				assertRefused(await c[who].get(`/api/v1/accounts/${id}`), `${who} GET accounts/${id}`);
				assertRefused(await c[who].get(`/api/v1/accounts/${id}?lg_code=${A.lg}`), `${who} GET accounts/${id}?lg_code`);
			}
		}
		// The same through a 海南市 API token.
		const r = await ctx.srv.cli(['token', 'create', '--lg', B.lg, '--login', B.clerk.login]);
		const tok = r.stdout.trim().split(/\s+/).pop();
		const t = ctx.client({ token: tok });
		assert.equal((await t.me()).lg_code, B.lg);
		assertRefused(await t.get(`/api/v1/accounts/${ids.secret}`), 'token GET accounts');
		// Nor can a header steer B's token to A.
		assertRefused(await t.get(`/api/v1/accounts/${ids.secret}`, { headers: { 'x-lg-code': A.lg } }), 'x-lg-code header');
	});

	it('admin lists show only the municipality\'s own users and jobs', async () => {
		const r = await c.bAdmin.get('/api/v1/admin/users');
		assert.equal(r.status, 200, `${r}`);
		assertNoAData(r, 'B admin user list');
		const list = items(r.json());
		const logins = list.map((u) => u.login).sort();
		assert.ok(logins.includes(B.admin.login) && logins.includes(B.resident.login), `B's own users in ${logins}`);
		for (const u of list) assert.ok(!ids.aAll.includes(u.id), `A's account id ${u.id} in B's list`);
		assertRefused(await c.bClerk.get('/api/v1/admin/users'), 'B clerk user list');

		const j = await c.bAdmin.get('/api/v1/admin/jobs?state=dead');
		assert.equal(j.status, 200, `${j}`);
		for (const job of items(j.json())) assert.ok(!ids.aJobs.includes(job.id), `A's job ${job.id} in B's list`);
		for (const id of ids.aJobs)
			assertRefused(await c.bAdmin.post(`/api/v1/admin/jobs/${id}/retry`, { json: {} }), `retry A job ${id}`);
	});

	it('B\'s administrator cannot change the roles of an A account', async () => {
		for (const id of [ids.aClerk, ids.aResident, ids.secret]) {
			const r = await c.bAdmin.put(`/api/v1/admin/users/${id}/roles`, { json: { roles: ['sysadmin'] } });
			assertRefused(r, `PUT roles of ${id}`);
		}
		const after = items((await c.aAdmin.get('/api/v1/admin/users')).json());
		const clerk = after.find((u) => u.id === ids.aClerk);
		assert.deepEqual(clerk.roles.map((x) => (typeof x === 'string' ? x : x.name)).sort(), ['shimin_clerk']);
		const meAfter = await c.aClerk.me();
		assert.ok(!meAfter.permissions.includes('users.admin'));
	});

	it('accounts B\'s administrator creates belong to B, whatever lg_code the body names', async () => {
		const r = await c.bAdmin.post('/api/v1/admin/users', {
			json: { lg_code: A.lg, login: 'made-by-kainan', display: '海南 新規', kind: 'resident', roles: ['resident'], password: 'made-by-kainan-password' },
		});
		assert.ok(r.status === 201 || r.status === 400, `${r}`);
		const aList = items((await c.aAdmin.get('/api/v1/admin/users')).json());
		assert.ok(!aList.some((u) => u.login === 'made-by-kainan'), 'B created an account in A');
		const login = await ctx.client().apiLogin(A.lg, 'made-by-kainan', 'made-by-kainan-password');
		assertProblem(login, 401);
	});

	it('a resident\'s access log shows no other municipality\'s entries', async () => {
		const aClerkMe = await c.aClerk.me();
		assert.equal((await c.aClerk.get(`/api/v1/accounts/${ids.secret}`)).status, 200);
		const mine = await c.aSecret.get('/api/v1/me/access-log');
		assert.ok(items(mine.json()).some((e) => e.actor_name === aClerkMe.display), 'positive control');
		for (const who of ['bResident', 'bClerk', 'bAdmin']) {
			const r = await c[who].get('/api/v1/me/access-log');
			assert.equal(r.status, 200, `${who}: ${r}`);
			for (const e of items(r.json())) assert.notEqual(e.actor_name, aClerkMe.display, `${who} sees A's clerk`);
			assertNoAData(r, `${who} access log`);
		}
	});

	it('every /api/v1 route with an A id answers B\'s staff without A\'s data', async () => {
		const routes = [
			['GET', '/api/v1/accounts/:id'],
			['GET', '/api/v1/admin/users'],
			['POST', '/api/v1/admin/users'],
			['PUT', '/api/v1/admin/users/:id/roles'],
			['GET', '/api/v1/admin/jobs?state=dead'],
			['GET', '/api/v1/admin/jobs'],
			['POST', '/api/v1/admin/jobs/:id/retry'],
			['GET', '/api/v1/admin/audit/verify'],
			['GET', '/api/v1/me'],
			['GET', '/api/v1/me/access-log'],
			['GET', `/api/v1/me/access-log?account_id=:id`],
			['GET', `/api/v1/me/access-log?subject=:id`],
			// the resident record (resident.test.mjs walks it with real 住民票コード)
			['GET', `/api/v1/residents?q=${encodeURIComponent(SECRET.name)}&purpose=x`],
			['POST', '/api/v1/residents/search'],
			['GET', '/api/v1/me/resident'],
		];
		for (const who of ['bClerk', 'bAdmin']) {
			for (const [method, tmpl] of routes) {
				for (const id of tmpl.includes(':id') ? ids.aAll : [null]) {
					const p = id === null ? tmpl : tmpl.replace(':id', String(id));
					const json = method === 'GET' ? undefined : { roles: ['resident'], login: 'sweep-x', display: 'x', kind: 'resident', password: 'sweep-x-password-1' };
					const r = await c[who].request(method, p, json ? { json } : {});
					assertNoAData(r, `${who} ${method} ${p}`);
					if (/:id/.test(tmpl) && !tmpl.includes('?'))
						assert.ok(r.status === 403 || r.status === 404, `${who} ${method} ${p}: ${r}`);
				}
			}
		}
	});

	it('HTML pages of B\'s staff show none of A\'s data and refuse A ids', async () => {
		const clerk = ctx.client();
		assert.equal((await clerk.formLogin(B.lg, B.clerk.login, B.clerk.password)).status, 303);
		for (const p of ['/staff', '/me', '/me/history', '/staff/residents']) {
			const r = await clerk.page(p);
			assert.equal(r.status, 200, `${p}: ${r}`);
			assertNoAData(r, `B clerk ${p}`);
		}
		const admin = ctx.client();
		assert.equal((await admin.formLogin(B.lg, B.admin.login, B.admin.password)).status, 303);
		const users = await admin.page('/admin/users');
		assert.equal(users.status, 200);
		assertNoAData(users, 'B /admin/users');
		assert.ok(users.text.includes(B.resident.login), 'positive control: B\'s own users are listed');
		const csrf = inputValue(users.text, 'csrf');
		for (const id of [ids.aClerk, ids.secret]) {
			const r = await admin.submit(`/admin/users/${id}/roles`, { csrf, roles: 'sysadmin' });
			assertRefused(r, `HTML roles of A account ${id}`);
		}
		const jobs = await admin.page('/admin/jobs');
		assert.equal(jobs.status, 200);
		for (const id of ids.aJobs) assertRefused(await admin.submit(`/admin/jobs/${id}/retry`, { csrf }), `HTML retry A job ${id}`);
		const after = items((await c.aAdmin.get('/api/v1/admin/users')).json());
		const clerkRoles = after.find((u) => u.id === ids.aClerk).roles.map((x) => (typeof x === 'string' ? x : x.name));
		assert.deepEqual(clerkRoles, ['shimin_clerk']);
	});

	it('one municipality\'s log-in does not open the other\'s', async () => {
		assertProblem(await ctx.client().apiLogin(B.lg, SECRET.login, SECRET.password), 401);
		assertProblem(await ctx.client().apiLogin(A.lg, B.resident.login, B.resident.password), 401);
	});

	ctx.stopTest();
});
