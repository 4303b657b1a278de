// Browser helpers for the end-to-end tests: Debian's Chromium driven by
// playwright-core, axe-core checks against WCAG 2.1 A/AA, the 320 px reflow
// check, and form filling that works whatever control a field uses.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// See /work/shared/NOTES-debian.md: as root, without a sandbox, and with
// nothing that reaches for the network. playwright gives every launch a new
// empty profile directory of its own.
export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
];

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export async function launch() {
	if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (scripts/deps.sh test installs chromium)`);
	return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * A new context (fresh cookies) and page. Records console messages about the
 * Content-Security-Policy and page errors in page.problems.
 */
export async function newPage(browser, opts = {}) {
	const context = await browser.newContext({ locale: 'ja-JP', ...opts });
	context.setDefaultTimeout(15_000);
	const page = await context.newPage();
	page.problems = [];
	page.on('console', (m) => {
		const t = m.text();
		if (/Content Security Policy|Refused to (load|apply|execute)/i.test(t)) page.problems.push(`console: ${t}`);
	});
	page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
	return page;
}

/** Runs axe with the WCAG 2.1 A/AA rules and asserts there are no violations. */
export async function assertAccessible(page, label) {
	const res = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
	const lines = res.violations.map(
		(v) => `  ${v.id} (${v.impact}): ${v.help}\n` + v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.split('\n').join(' ')}`).join('\n'),
	);
	assert.equal(res.violations.length, 0, `axe on ${label} (${page.url()}):\n${lines.join('\n')}`);
	assert.ok(res.passes.length > 0, `axe ran no rules on ${label}`);
}

/** Asserts the page does not scroll sideways at the current viewport width. */
export async function assertNoHorizontalScroll(page, label) {
	const { sw, vw, culprit } = await page.evaluate(() => {
		const vw = document.documentElement.clientWidth;
		let culprit = '';
		for (const el of document.querySelectorAll('body *')) {
			const r = el.getBoundingClientRect();
			if (r.right > vw + 1 && getComputedStyle(el).position !== 'fixed') {
				culprit = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} (right ${Math.round(r.right)})`;
				break;
			}
		}
		return { sw: document.documentElement.scrollWidth, vw, culprit };
	});
	assert.ok(sw <= vw, `${label} at ${vw} px scrolls sideways: scrollWidth ${sw}; first too wide: ${culprit}`);
}

/** Basic page structure: lang="ja", a title, one h1, a main landmark. */
export async function assertStructure(page, label) {
	const s = await page.evaluate(() => ({
		lang: document.documentElement.lang,
		title: document.title,
		h1: document.querySelectorAll('h1').length,
		main: document.querySelectorAll('main, [role=main]').length,
		scripts: document.querySelectorAll('script').length,
	}));
	assert.equal(s.lang, 'ja', `${label}: lang`);
	assert.ok(s.title.trim().length > 0, `${label}: title`);
	assert.equal(s.h1, 1, `${label}: one h1`);
	assert.equal(s.main, 1, `${label}: one main landmark`);
	assert.equal(s.scripts, 0, `${label}: no scripts`);
	assert.deepEqual(page.problems, [], `${label}: CSP or page errors`);
}

/** Every check for one page. */
export async function checkPage(page, label, { axe = true } = {}) {
	await assertStructure(page, label);
	await assertNoHorizontalScroll(page, label);
	if (axe) await assertAccessible(page, label);
}

/**
 * Sets a form field by name in `scope` (a page or locator): text inputs are
 * filled, selects chosen, radios and checkboxes (value or array of values)
 * checked. Hidden inputs are left alone.
 */
export async function setField(scope, name, value) {
	const all = scope.locator(`[name="${name}"]`);
	const n = await all.count();
	assert.ok(n > 0, `no field named ${name}`);
	const first = all.first();
	const tag = await first.evaluate((el) => el.tagName.toLowerCase());
	const type = (await first.getAttribute('type')) ?? '';
	if (type === 'hidden') return;
	if (tag === 'select') {
		await first.selectOption(Array.isArray(value) ? value : String(value));
	} else if (type === 'radio') {
		await scope.locator(`[name="${name}"][value="${value}"]`).check();
	} else if (type === 'checkbox') {
		const want = new Set(Array.isArray(value) ? value : [value]);
		for (let i = 0; i < n; i++) {
			const box = all.nth(i);
			const v = await box.getAttribute('value');
			if (want.has(v)) await box.check();
			else await box.uncheck();
		}
	} else {
		await first.fill(String(value));
	}
}

/** Logs in through the form at /login; resolves once the next page loaded. */
export async function formLogin(page, base, lg, user, { totp } = {}) {
	await page.goto(`${base}/login`);
	const form = page.locator('form[action="/login"]');
	await setField(form, 'lg_code', lg);
	await setField(form, 'login', user.login);
	await setField(form, 'password', user.password);
	if (totp) await setField(form, 'totp', totp);
	await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"], input[type="submit"]').first().click()]);
}

/**
 * Follows the first link to href the way a person would: when it is inside a
 * closed <details> (a menu on narrow screens), that is opened first.
 */
export async function followLink(page, href) {
	const links = page.locator(`a[href="${href}"]`);
	const n = await links.count();
	assert.ok(n > 0, `no link to ${href} on ${page.url()}`);
	let target = null;
	for (let i = 0; i < n && !target; i++) if (await links.nth(i).isVisible()) target = links.nth(i);
	if (!target) {
		const summary = page.locator(`details:has(a[href="${href}"]) > summary`).first();
		assert.ok(await summary.count(), `the link to ${href} is hidden and not in a <details> menu`);
		await summary.click();
		target = links.first();
	}
	await Promise.all([page.waitForNavigation(), target.click()]);
}

/** Clicks the log-out button (a form POST) and waits for the next page. */
export async function logout(page) {
	const btn = page.locator('form[action="/logout"] button, form[action="/logout"] input[type="submit"]').first();
	await Promise.all([page.waitForNavigation(), btn.click()]);
}
