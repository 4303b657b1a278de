// The resident record in Chromium: a clerk of 市民課 searches, opens a
// resident and looks at an earlier date; the resident opens わたしの情報.
// Every page passes axe (WCAG 2.1 A/AA) and does not scroll sideways at
// 320 px.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, A } from '../http/lib/server.mjs';
import { HANAKO, ICHIRO, TARO, importResidents, linkResident } from '../http/lib/residents.mjs';
import { launch, newPage, checkPage, formLogin, setField, followLink } from './browser.mjs';

const WIDE = { viewport: { width: 1280, height: 800 } };
const NARROW = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true };

let srv;
let browser;

before(async () => {
	srv = await startServer({
		tenantB: false,
		prepare: async (data) => {
			await importResidents(data, A.lg, [HANAKO, ICHIRO, TARO]);
			return [];
		},
	});
	await linkResident(srv, A.lg, A.resident.login, HANAKO.juminhyo_code);
	browser = await launch();
}, { timeout: 120_000 });

after(async () => {
	await browser?.close();
	srv?.kill();
});

describe('住民記録 in the browser', () => {
	for (const [name, view] of [['1280 px', WIDE], ['320 px', NARROW]]) {
		it(`a clerk searches, opens a resident and an earlier date at ${name}`, { timeout: 120_000 }, async () => {
			const page = await newPage(browser, view);
			try {
				await formLogin(page, srv.url, A.lg, A.clerk);
				await followLink(page, '/staff/residents');
				await checkPage(page, `/staff/residents @${name}`);

				// an empty purpose: the error is beside the field, accessibly
				const form = page.locator('form[action="/staff/residents"]');
				await setField(form, 'q', 'わかやま');
				await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
				assert.equal(await page.locator('#purpose[aria-invalid="true"]').count(), 1, 'purpose marked invalid');
				await checkPage(page, `search without purpose @${name}`);

				const again = page.locator('form[action="/staff/residents"]');
				await setField(again, 'q', 'わかやま');
				await setField(again, 'purpose', 'certificate');
				await Promise.all([page.waitForNavigation(), again.locator('button[type="submit"]').click()]);
				await checkPage(page, `search results @${name}`);
				const link = page.getByRole('link', { name: HANAKO.name });
				assert.equal(await link.count(), 1, 'the result links to the resident');

				await Promise.all([page.waitForNavigation(), link.click()]);
				assert.equal(new URL(page.url()).pathname, `/staff/residents/${HANAKO.juminhyo_code}`);
				await checkPage(page, `resident detail @${name}`);
				assert.ok(await page.getByText('********' + HANAKO.mynumber.slice(-4)).count(), 'masked My Number');
				assert.equal(await page.getByText(HANAKO.mynumber).count(), 0, 'no full My Number');

				const asof = page.locator('form[method="post"]').filter({ has: page.locator('#as_of') });
				await setField(asof, 'as_of', '平成30年1月1日');
				await Promise.all([page.waitForNavigation(), asof.locator('button[type="submit"]').click()]);
				assert.match(await page.locator('main').textContent(), /平成30年1月1日時点/);
				await checkPage(page, `resident as of a date @${name}`);

				// the 異動届 form, and its errors beside the fields (nothing is recorded)
				await followLink(page, `/staff/residents/${HANAKO.juminhyo_code}/change`);
				await checkPage(page, `change form @${name}`);
				const change = page.locator(`form[action="/staff/residents/${HANAKO.juminhyo_code}/change"]`);
				await setField(change, 'event', 'tenkyo');
				await setField(change, 'date', '令和1年4月30日');
				await Promise.all([page.waitForNavigation(), change.locator('button[type="submit"]').click()]);
				assert.equal(await page.locator('#date[aria-invalid="true"]').count(), 1, 'date marked invalid');
				assert.equal(await page.locator('#address[aria-invalid="true"]').count(), 1, 'address marked invalid');
				await checkPage(page, `change form with errors @${name}`);
			} finally {
				await page.context().close();
			}
		});

		it(`a resident views わたしの情報 at ${name}`, { timeout: 60_000 }, async () => {
			const page = await newPage(browser, view);
			try {
				await formLogin(page, srv.url, A.lg, A.resident);
				await followLink(page, '/me/info');
				await checkPage(page, `/me/info @${name}`);
				assert.match(await page.locator('h1').textContent(), /わたしの情報/);
				const main = await page.locator('main').textContent();
				assert.ok(main.includes(HANAKO.name) && main.includes(ICHIRO.name), 'own record and household');
				assert.ok(!main.includes(TARO.name), 'nobody else');
				await page.goto(srv.url + '/me/history');
				await checkPage(page, `/me/history with resident reads @${name}`);
			} finally {
				await page.context().close();
			}
		});
	}
});
