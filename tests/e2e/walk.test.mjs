// Browser walk through every page as an anonymous visitor, a resident, a
// clerk of 市民課 and an administrator, in Debian's Chromium: axe-core finds no
// WCAG 2.1 A/AA violations, nothing scrolls sideways at 320 px (nor at 640 px,
// which is a 1280 px screen at 200 % zoom), focus is visible, and the forms
// work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, A } from '../http/lib/server.mjs';
import { launch, newPage, checkPage, formLogin, logout, setField, assertNoHorizontalScroll } from './browser.mjs';

const WIDE = { viewport: { width: 1280, height: 800 } };
const NARROW = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true };
const ZOOM200 = { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 };

let srv;
let browser;

before(async () => {
	srv = await startServer();
	browser = await launch();
}, { timeout: 120_000 });

after(async () => {
	await browser?.close();
	srv?.kill();
});

/** Visits each path (after an optional log-in) and checks it at one viewport. */
async function walk(view, who, paths, { axe = true } = {}) {
	const page = await newPage(browser, view);
	try {
		if (who) {
			await formLogin(page, srv.url, A.lg, who);
			assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, `log-in of ${who.login} failed`);
		}
		for (const p of paths) {
			const res = await page.goto(srv.url + p);
			assert.ok(res, `no response for ${p}`);
			await checkPage(page, `${who?.login ?? 'anonymous'} ${p} @${view.viewport.width}px`, { axe });
		}
	} finally {
		await page.context().close();
	}
}

const PUBLIC_PAGES = ['/', '/login', '/login/cert', '/no/such/page', '/login?next=%FF'];
const RESIDENT_PAGES = ['/me', '/me/history', '/me/totp', '/me/certificates', '/me/password', '/staff'];
const CLERK_PAGES = ['/staff', '/me', '/me/totp', '/me/certificates', '/me/password', '/admin/users'];
// /admin/users/1 is the demo resident (the first account `init --demo` makes):
// the page with every counter-support form; /admin/users/3 is the demo
// administrator's own page, which has none.
const ADMIN_PAGES = ['/staff', '/admin/users', '/admin/users/1', '/admin/users/3', '/admin/jobs', '/me'];

describe('every page passes axe (WCAG 2.1 A/AA) and reflows', () => {
	for (const [name, view] of [['1280 px', WIDE], ['320 px', NARROW]]) {
		it(`public pages at ${name}`, { timeout: 120_000 }, async () => {
			await walk(view, null, PUBLIC_PAGES);
		});
		it(`resident pages at ${name}`, { timeout: 120_000 }, async () => {
			await walk(view, A.resident, RESIDENT_PAGES);
		});
		it(`clerk pages at ${name}`, { timeout: 120_000 }, async () => {
			await walk(view, A.clerk, CLERK_PAGES);
		});
		it(`administrator pages at ${name}`, { timeout: 120_000 }, async () => {
			await walk(view, A.admin, ADMIN_PAGES);
		});
	}

	it('no sideways scrolling at 200 % zoom', { timeout: 120_000 }, async () => {
		await walk(ZOOM200, null, PUBLIC_PAGES, { axe: false });
		await walk(ZOOM200, A.admin, ADMIN_PAGES, { axe: false });
		await walk(ZOOM200, A.resident, RESIDENT_PAGES, { axe: false });
	});
});

describe('keyboard use', () => {
	it('the first Tab reaches a skip link to the main content, and focus is visible', { timeout: 60_000 }, async () => {
		const page = await newPage(browser, WIDE);
		try {
			await page.goto(srv.url + '/login');
			await page.keyboard.press('Tab');
			const skip = await page.evaluate(() => {
				const a = document.activeElement;
				return { tag: a.tagName, href: a.getAttribute('href'), text: a.textContent.trim() };
			});
			assert.equal(skip.tag, 'A', 'the first focusable element is a link');
			assert.match(skip.href ?? '', /^#./, 'the skip link points into the page');
			assert.ok(await page.locator(skip.href).count(), `skip target ${skip.href} exists`);
			for (let i = 0; i < 8; i++) {
				const f = await page.evaluate(() => {
					const a = document.activeElement;
					const s = getComputedStyle(a);
					return {
						what: `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}`,
						visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none',
					};
				});
				if (f.what === 'body') break;
				assert.ok(f.visible, `no visible focus on ${f.what}`);
				await page.keyboard.press('Tab');
			}
		} finally {
			await page.context().close();
		}
	});
});

describe('what people do', () => {
	it('a resident logs in, reads their pages and logs out', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, WIDE);
		try {
			await page.goto(srv.url + '/');
			await checkPage(page, 'top');
			await formLogin(page, srv.url, A.lg, A.resident);
			assert.equal(new URL(page.url()).pathname, '/me');
			await checkPage(page, '/me after log-in');
			await page.goto(srv.url + '/me/history');
			await checkPage(page, '/me/history');
			assert.match(await page.locator('h1').textContent(), /利用履歴/);
			await logout(page);
			assert.equal(new URL(page.url()).pathname, '/');
			await page.goto(srv.url + '/me');
			assert.equal(new URL(page.url()).pathname, '/login', 'still signed in after log-out');
		} finally {
			await page.context().close();
		}
	});

	it('a wrong password shows the error beside the form, accessibly', { timeout: 60_000 }, async () => {
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, { login: 'resident', password: 'wrong-password-here' });
			assert.equal(new URL(page.url()).pathname, '/login');
			await checkPage(page, 'log-in error');
			assert.ok(await page.locator('[aria-invalid="true"], .field-error, [role="alert"]').count(), 'an error is shown');
		} finally {
			await page.context().close();
		}
	});

	it('a clerk starts 確認コード on a narrow screen: setup page, QR code, wrong code', { timeout: 60_000 }, async () => {
		// The clerk's TOTP is left pending, never enabled, so that the other
		// tests can still log in with the password alone.
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, A.clerk);
			await page.goto(srv.url + '/me');
			await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: '確認コード（2段階認証）を設定する' }).click()]);
			assert.equal(new URL(page.url()).pathname, '/me/totp');
			await checkPage(page, '/me/totp before setup');
			await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '設定を始める' }).click()]);
			assert.equal(new URL(page.url()).pathname, '/me/totp/setup');
			await checkPage(page, '/me/totp/setup');
			const img = page.locator('img[src="/me/totp/qr.svg"]');
			assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the QR code image loads');
			await assertNoHorizontalScroll(page, '/me/totp/setup');
			await setField(page.locator('form[action="/me/totp/confirm"]'), 'code', '000000x');
			await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '確認して有効にする' }).click()]);
			assert.equal(new URL(page.url()).pathname, '/me/totp/confirm');
			await checkPage(page, '/me/totp/confirm with a wrong code');
			assert.equal(await page.locator('#code[aria-invalid="true"]').count(), 1, 'the code field is marked');
			await page.goto(srv.url + '/me/certificates');
			await checkPage(page, '/me/certificates');
		} finally {
			await page.context().close();
		}
	});

	it('a resident opens the password form from /me; a wrong current password is marked beside its field', { timeout: 60_000 }, async () => {
		// Only the refused path: the demo resident's password stays as it is
		// for the other tests (one failure counts; their log-ins reset it).
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, A.resident);
			await page.goto(srv.url + '/me');
			await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'パスワードを変更する' }).click()]);
			assert.equal(new URL(page.url()).pathname, '/me/password');
			await checkPage(page, '/me/password');
			const f = page.locator('form[action="/me/password"]');
			await setField(f, 'current_password', 'not-the-password');
			await setField(f, 'new_password', 'a-long-enough-new-one');
			await setField(f, 'new_password_confirm', 'a-long-enough-new-one');
			await Promise.all([page.waitForNavigation(), f.locator('button[type="submit"]').click()]);
			await checkPage(page, '/me/password with a wrong current password');
			assert.equal(await page.locator('#current_password[aria-invalid="true"]').count(), 1);
			assert.equal(await page.locator('#new_password[aria-invalid="true"]').count(), 0);
			await page.locator('.error-summary a[href="#current_password"]').click();
			assert.equal(await page.evaluate(() => document.activeElement?.id), 'current_password', 'the summary link moves focus to the field');
		} finally {
			await page.context().close();
		}
	});

	it('a clerk of 市民課 reaches the staff console but not administration', { timeout: 60_000 }, async () => {
		const page = await newPage(browser, WIDE);
		try {
			await formLogin(page, srv.url, A.lg, A.clerk);
			assert.equal(new URL(page.url()).pathname, '/staff');
			await checkPage(page, 'clerk /staff');
			const res = await page.goto(srv.url + '/admin/users');
			assert.equal(res.status(), 403);
			await checkPage(page, 'clerk /admin/users (403)');
		} finally {
			await page.context().close();
		}
	});

	it('an administrator creates a user and changes roles through the forms', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, A.admin);
			await page.goto(srv.url + '/admin/users');
			await checkPage(page, '/admin/users');
			const form = page.locator('form[action="/admin/users"]');
			await setField(form, 'login', 'e2e-clerk');
			await setField(form, 'display', '画面 試験');
			await setField(form, 'kind', 'staff');
			await setField(form, 'roles', ['shimin_clerk']);
			await setField(form, 'password', 'e2e-clerk-password');
			await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
			assert.match(new URL(page.url()).pathname, /^\/admin\/users/);
			await checkPage(page, '/admin/users after create');
			const row = page.locator('tr', { hasText: 'e2e-clerk' });
			assert.equal(await row.count(), 1, 'the new user is listed');

			// Change the roles with the row's form (inside <details>, no script needed).
			await row.locator('summary').click();
			const rf = row.locator('form');
			await setField(rf, 'roles', ['shimin_supervisor']);
			await Promise.all([page.waitForNavigation(), rf.locator('button[type="submit"]').click()]);
			await checkPage(page, '/admin/users after roles');
			const row2 = page.locator('tr', { hasText: 'e2e-clerk' });
			assert.ok(await row2.locator('input[name="roles"][value="shimin_supervisor"]').isChecked(), 'supervisor role set');
			assert.ok(!(await row2.locator('input[name="roles"][value="shimin_clerk"]').isChecked()), 'clerk role removed');

			// A form with mistakes is accessible too.
			const f2 = page.locator('form[action="/admin/users"]');
			await setField(f2, 'login', 'x');
			await setField(f2, 'password', 'short');
			await Promise.all([page.waitForNavigation(), f2.locator('button[type="submit"]').click()]);
			await checkPage(page, '/admin/users with errors');
			assert.ok(await page.locator('[aria-invalid="true"]').count() > 0, 'invalid fields are marked');

			await page.goto(srv.url + '/admin/jobs');
			await checkPage(page, '/admin/jobs');
			await assertNoHorizontalScroll(page, '/admin/jobs');
		} finally {
			await page.context().close();
		}
	});

	it('the account the administrator made has a temporary password: the clerk lands on /me/password and changes it', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, { login: 'e2e-clerk', password: 'e2e-clerk-password' });
			assert.equal(new URL(page.url()).pathname, '/me/password');
			await checkPage(page, '/me/password with a temporary password');
			assert.match(await page.locator('[role="status"]').first().textContent(), /管理者が設定した仮のパスワードです/);
			await page.goto(srv.url + '/staff');
			assert.equal(new URL(page.url()).pathname, '/me/password', '/staff sends the clerk back');
			const f = page.locator('form[action="/me/password"]');
			await setField(f, 'current_password', 'e2e-clerk-password');
			await setField(f, 'new_password', 'e2e-clerk-own-password');
			await setField(f, 'new_password_confirm', 'e2e-clerk-own-password');
			await Promise.all([page.waitForNavigation(), f.locator('button[type="submit"]').click()]);
			await checkPage(page, '/me/password after the change');
			await page.goto(srv.url + '/staff');
			assert.equal(new URL(page.url()).pathname, '/staff', 'the staff console opens now');
		} finally {
			await page.context().close();
		}
	});

	it('an administrator helps a resident at the counter: the account page, a refused form, unlock', { timeout: 120_000 }, async () => {
		const page = await newPage(browser, NARROW);
		try {
			await formLogin(page, srv.url, A.lg, A.admin);
			await page.goto(srv.url + '/admin/users');
			const link = page.locator('tr', { hasText: 'resident' }).first().locator('a[href^="/admin/users/"]');
			await Promise.all([page.waitForNavigation(), link.click()]);
			assert.match(new URL(page.url()).pathname, /^\/admin\/users\/\d+$/);
			await checkPage(page, 'the resident\'s account page');
			assert.match(await page.locator('h1').textContent(), /さんのアカウント/);

			// a new password that is too short, with the box ticked: the field is marked
			const pf = page.locator('form[action$="/password"]');
			await setField(pf, 'password', 'short');
			await pf.locator('input[name="confirm"]').check();
			await Promise.all([page.waitForNavigation(), pf.locator('button[type="submit"]').click()]);
			await checkPage(page, 'password form refused');
			assert.equal(await page.locator('#password[aria-invalid="true"]').count(), 1);

			// turning 確認コード off without ticking the box is refused beside the box
			const tf = page.locator('form[action$="/totp/reset"]');
			await Promise.all([page.waitForNavigation(), tf.locator('button[type="submit"]').click()]);
			await checkPage(page, 'TOTP reset without the confirmation');
			assert.equal(await page.locator('#confirm-totp-reset[aria-invalid="true"]').count(), 1);
			await page.locator('.error-summary a[href="#confirm-totp-reset"]').click();
			assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-totp-reset', 'the summary link moves focus to the box');

			const uf = page.locator('form[action$="/unlock"]');
			await Promise.all([page.waitForNavigation(), uf.locator('button[type="submit"]').click()]);
			await checkPage(page, 'after unlock');
			assert.match(await page.locator('[role="status"]').textContent(), /ロックを解除しました/);
		} finally {
			await page.context().close();
		}
	});

	it('the server exits 0 on SIGTERM after the browser tests', { timeout: 30_000 }, async () => {
		const s = srv;
		srv = null;
		await s.stop();
	});
});
