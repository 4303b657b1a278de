// Administration of users, roles and jobs through the API and the HTML forms:
// who may do it, what validation answers, and that a role change takes effect.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A, sql } from './lib/server.mjs';
import { assertProblem, inputValue, items } from './lib/client.mjs';

const roleNames = (u) => (u.roles ?? []).map((r) => (typeof r === 'string' ? r : r.name)).sort();

describe('user and role administration', () => {
	const ctx = useServer({ tenantB: false });
	let admin;

	before(async () => {
		admin = ctx.client();
		await admin.mustLogin(A.lg, A.admin);
	});

	it('GET /api/v1/admin/users lists the demo accounts with their roles', async () => {
		const r = await admin.get('/api/v1/admin/users');
		assert.equal(r.status, 200, `${r}`);
		const list = items(r.json());
		const by = Object.fromEntries(list.map((u) => [u.login, u]));
		for (const [login, kind, roles] of [['resident', 'resident', ['resident']], ['clerk', 'staff', ['shimin_clerk']], ['admin', 'staff', ['sysadmin']]]) {
			assert.ok(by[login], `${login} in ${r.text.slice(0, 400)}`);
			assert.equal(by[login].kind, kind);
			assert.deepEqual(roleNames(by[login]), roles);
			assert.ok(Number.isInteger(by[login].id) || typeof by[login].id === 'string');
		}
		assert.ok(!/argon2|password_hash|"password"/.test(r.text), 'password hashes in the user list');
	});

	it('POST /api/v1/admin/users creates an account that can log in', async () => {
		const r = await admin.post('/api/v1/admin/users', {
			json: { login: 'new-clerk', display: '新任 職員', kind: 'staff', roles: ['shimin_clerk'], password: 'new-clerk-password-1' },
		});
		assert.equal(r.status, 201, `${r}`);
		const created = r.json();
		assert.equal(created.login ?? created.account?.login, 'new-clerk');
		const c = ctx.client();
		await c.mustLogin(A.lg, { login: 'new-clerk', password: 'new-clerk-password-1' });
		const me = await c.me();
		assert.equal(me.display, '新任 職員');
		assert.deepEqual(me.roles, ['shimin_clerk']);
		// the administrator chose the password: it is temporary (temp_password.test.mjs)
		assert.equal(me.must_change_password, true);
	});

	it('invalid accounts are 400 problems naming the field', async () => {
		const base = { login: 'valid-login', display: '表示 名', kind: 'staff', roles: ['shimin_clerk'], password: 'valid-password-123' };
		for (const [patch, field] of [
			[{ login: 'ab' }, 'login'],
			[{ login: 'has space' }, 'login'],
			[{ login: 'x'.repeat(65) }, 'login'],
			[{ display: '' }, 'display'],
			[{ kind: 'wizard' }, 'kind'],
			[{ roles: ['no_such_role'] }, 'roles'],
			[{ kind: 'resident', roles: ['sysadmin'] }, 'roles'],
			[{ roles: ['sysadmin', 'shimin_clerk'] }, 'roles'],
			[{ password: 'short' }, 'password'],
		]) {
			const r = await admin.post('/api/v1/admin/users', { json: { ...base, ...patch } });
			const p = assertProblem(r, 400);
			assert.ok(p.errors && typeof p.errors[field] === 'string', `${JSON.stringify(patch)}: errors.${field} in ${r.text}`);
		}
		const dup = await admin.post('/api/v1/admin/users', { json: { ...base, login: 'clerk' } });
		assert.ok(dup.status === 409 || dup.status === 400, `duplicate login: ${dup}`);
		assertProblem(dup, dup.status);
	});

	it('PUT /api/v1/admin/users/:id/roles changes permissions', async () => {
		const list = items((await admin.get('/api/v1/admin/users')).json());
		const u = list.find((x) => x.login === 'new-clerk');
		assert.ok(u, 'new-clerk exists');
		const r = await admin.put(`/api/v1/admin/users/${u.id}/roles`, { json: { roles: ['shimin_supervisor'] } });
		assert.ok(r.status === 200 || r.status === 204, `${r}`);
		const c = ctx.client();
		await c.mustLogin(A.lg, { login: 'new-clerk', password: 'new-clerk-password-1' });
		const me = await c.me();
		assert.deepEqual(me.roles, ['shimin_supervisor']);
		assert.ok(me.permissions.includes('accounts.write'));
		assertProblem(await admin.put(`/api/v1/admin/users/${u.id}/roles`, { json: { roles: ['no_such_role'] } }), 400);
		assertProblem(await admin.put(`/api/v1/admin/users/${u.id}/roles`, { json: { roles: 'sysadmin' } }), 400);
		assertProblem(await admin.put('/api/v1/admin/users/987654321/roles', { json: { roles: ['shimin_clerk'] } }), 404);
	});

	it('separation of duties: no one changes their own roles, administration and the resident record never share an account', async () => {
		const list = items((await admin.get('/api/v1/admin/users')).json());
		const self = list.find((x) => x.login === A.admin.login);
		const clerk = list.find((x) => x.login === 'new-clerk');
		assert.ok(self && clerk);
		const own = await admin.put(`/api/v1/admin/users/${self.id}/roles`, { json: { roles: ['sysadmin', 'shimin_clerk'] } });
		assert.match(assertProblem(own, 403).title, /自分自身/);
		const same = await admin.put(`/api/v1/admin/users/${self.id}/roles`, { json: { roles: ['shimin_clerk'] } });
		assertProblem(same, 403);
		const both = await admin.put(`/api/v1/admin/users/${clerk.id}/roles`, { json: { roles: ['shimin_clerk', 'sysadmin'] } });
		const p = assertProblem(both, 400);
		assert.match(p.errors.roles, /職務の分離/);
		const after = items((await admin.get('/api/v1/admin/users')).json());
		assert.deepEqual(roleNames(after.find((x) => x.id === self.id)), ['sysadmin'], 'own roles unchanged');
		assert.ok(!roleNames(after.find((x) => x.id === clerk.id)).includes('sysadmin'), 'no sysadmin given to a clerk account');
		const me = await admin.me();
		assert.ok(!me.permissions.includes('resident.read'));

		// the HTML form refuses it too, and the refusal is in the audit log
		const c = ctx.client();
		assert.equal((await c.formLogin(A.lg, A.admin.login, A.admin.password)).status, 303);
		const page = await c.page('/admin/users');
		const form = await c.submit(`/admin/users/${self.id}/roles`, { csrf: inputValue(page.text, 'csrf'), roles: 'shimin_clerk' });
		assert.equal(form.status, 403, `${form}`);
		assert.match(form.text, /自分自身の役割は変更できません/);
		const refused = await sql(ctx.srv, `SELECT COUNT(*) FROM audit_log WHERE action = 'account.roles' AND outcome = 'refused' AND subject = 'account:${self.id}'`);
		assert.equal(Number(refused.trim()), 3, 'each refusal is in the audit log');
	});

	it('jobs: the dead-letter list and retry of an unknown job', async () => {
		const r = await admin.get('/api/v1/admin/jobs?state=dead');
		assert.equal(r.status, 200, `${r}`);
		for (const j of items(r.json())) assert.equal(j.state, 'dead');
		assertProblem(await admin.post('/api/v1/admin/jobs/987654321/retry', { json: {} }), 404);
		assertProblem(await admin.get('/api/v1/admin/jobs?state=bogus'), 400);
	});

	it('the HTML forms create an account and change roles', async () => {
		const c = ctx.client();
		assert.equal((await c.formLogin(A.lg, A.admin.login, A.admin.password)).status, 303);
		const page = await c.page('/admin/users');
		assert.equal(page.status, 200, `${page}`);
		const csrf = inputValue(page.text, 'csrf');
		const made = await c.submit('/admin/users', {
			csrf, login: 'form-made', display: 'フォーム 作成', kind: 'resident', roles: 'resident', password: 'form-made-password',
		});
		assert.equal(made.status, 303, `${made}`);
		assert.match(made.headers.get('location'), /^\/admin\/users/);
		const list = items((await admin.get('/api/v1/admin/users')).json());
		const u = list.find((x) => x.login === 'form-made');
		assert.ok(u, 'created through the form');

		const form = new URLSearchParams([['csrf', csrf], ['roles', 'shimin_clerk'], ['roles', 'shimin_supervisor']]);
		const target = list.find((x) => x.login === 'new-clerk');
		const changed = await c.request('POST', `/admin/users/${target.id}/roles`, { accept: 'text/html', form });
		assert.equal(changed.status, 303, `${changed}`);
		const after = items((await admin.get('/api/v1/admin/users')).json()).find((x) => x.login === 'new-clerk');
		assert.deepEqual(roleNames(after), ['shimin_clerk', 'shimin_supervisor']);

		const bad = await c.submit('/admin/users', { csrf, login: 'x', display: '', kind: 'staff', password: 'short' });
		assert.equal(bad.status, 400, `${bad}`);
		assert.match(bad.headers.get('content-type'), /^text\/html/);
		assert.match(bad.text, /aria-invalid="true"/, 'fields with errors are marked');
		assert.match(bad.text, /value="x"/, 'the form keeps what was typed');

		const jobs = await c.page('/admin/jobs');
		assert.equal(jobs.status, 200);
	});

	it('a clerk may not administer', async () => {
		const c = ctx.client();
		assert.equal((await c.formLogin(A.lg, A.clerk.login, A.clerk.password)).status, 303);
		assert.equal((await c.page('/admin/users')).status, 403);
		assert.equal((await c.page('/admin/jobs')).status, 403);
		const staff = await c.page('/staff');
		assert.equal(staff.status, 200);
		const csrf = inputValue(staff.text, 'csrf');
		assert.equal((await c.submit('/admin/users', { csrf, login: 'by-clerk', display: 'x', kind: 'staff', password: 'by-clerk-password' })).status, 403);
		const list = items((await admin.get('/api/v1/admin/users')).json());
		assert.ok(!list.some((u) => u.login === 'by-clerk'));
	});

	ctx.stopTest();
});
