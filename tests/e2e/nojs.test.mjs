// The site works with JavaScript turned off in the browser: log-in, reading
// pages, administration forms (including the <details> role editor) and
// log-out are plain HTML forms and links.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, A } from '../http/lib/server.mjs';
import { launch, newPage, followLink, formLogin, logout, setField } from './browser.mjs';

const NOJS = { javaScriptEnabled: false, viewport: { width: 360, height: 740 } };

let srv;
let browser;

before(async () => {
	srv = await startServer({ tenantB: false });
	browser = await launch();
}, { timeout: 120_000 });

after(async () => {
	await browser?.close();
	srv?.kill();
});

async function h1(page) {
	return (await page.locator('h1').first().textContent()).trim();
}

describe('with JavaScript disabled', () => {
	it('a resident logs in, reads every page and logs out', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, NOJS);
		try {
			await page.goto(srv.url + '/');
			assert.ok((await h1(page)).length > 0);
			// The top page links to the log-in page.
			await followLink(page, '/login');
			assert.equal(new URL(page.url()).pathname, '/login');
			await formLogin(page, srv.url, A.lg, A.resident);
			assert.equal(new URL(page.url()).pathname, '/me');
			assert.ok((await h1(page)).length > 0);
			await followLink(page, '/me/history');
			assert.match(await h1(page), /利用履歴/);
			await logout(page);
			assert.equal(new URL(page.url()).pathname, '/');
		} finally {
			await page.context().close();
		}
	});

	it('log-in with next= returns to the page first asked for', { timeout: 60_000 }, async () => {
		const page = await newPage(browser, NOJS);
		try {
			await page.goto(srv.url + '/me/history');
			assert.equal(new URL(page.url()).pathname, '/login');
			const form = page.locator('form[action="/login"]');
			await setField(form, 'lg_code', A.lg);
			await setField(form, 'login', A.resident.login);
			await setField(form, 'password', A.resident.password);
			await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
			assert.equal(new URL(page.url()).pathname, '/me/history');
		} finally {
			await page.context().close();
		}
	});

	it('an administrator adds an account and edits its roles', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, NOJS);
		try {
			await formLogin(page, srv.url, A.lg, A.admin);
			assert.equal(new URL(page.url()).pathname, '/staff');
			await followLink(page, '/admin/users');
			const form = page.locator('form[action="/admin/users"]');
			await setField(form, 'login', 'nojs-user');
			await setField(form, 'display', 'スクリプト 無し');
			await setField(form, 'kind', 'resident');
			await setField(form, 'roles', ['resident']);
			await setField(form, 'password', 'nojs-user-password');
			await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
			const row = page.locator('tr', { hasText: 'nojs-user' });
			assert.equal(await row.count(), 1, 'the new account is listed');

			const staff = page.locator('tr', { hasText: 'clerk' }).first();
			await staff.locator('summary').click();
			const rf = staff.locator('form');
			await setField(rf, 'roles', ['shimin_clerk', 'shimin_supervisor']);
			await Promise.all([page.waitForNavigation(), rf.locator('button[type="submit"]').click()]);
			const again = page.locator('tr', { hasText: 'clerk' }).first();
			assert.ok(await again.locator('input[name="roles"][value="shimin_supervisor"]').isChecked());

			// The staff console links every tool the account may use.
			await page.goto(srv.url + '/staff');
			await followLink(page, '/admin/jobs');
			assert.equal(new URL(page.url()).pathname, '/admin/jobs');
			await logout(page);
		} finally {
			await page.context().close();
		}
	});

	it('the server exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
		const s = srv;
		srv = null;
		await s.stop();
	});
});
