// The no-JavaScript pages where a resident turns on the second factor
// (確認コード, /me/totp) and registers a log-in certificate (/me/certificates):
// everything through the HTML forms, as on an old phone. The TOTP codes are
// computed here like an authenticator app would (lib/totp.mjs); the
// certificates come from the mkcerts tool (see cert.test.mjs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { sign as cryptoSign, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { useServer } from './lib/suite.mjs';
import { A, MADO_BIN, ROOT, run } from './lib/server.mjs';
import { assertSecurityHeaders, formActions, htmlUnescape } from './lib/client.mjs';
import { Authenticator, parseOtpauth, totp } from './lib/totp.mjs';

const USER = { lg: A.lg, login: 'mfa-user', password: 'mfa-user-password', kind: 'resident', roles: ['resident'], name: '窓口 二要素' };
const OTHER = { lg: A.lg, login: 'mfa-other', password: 'mfa-other-password', kind: 'resident', roles: ['resident'], name: '窓口 別人' };

/** Logs c in through the HTML form; asserts the redirect. */
async function formLogin(c, user, opts) {
	const r = await c.formLogin(A.lg, user.login, user.password, opts);
	assert.equal(r.status, 303, `form log-in of ${user.login}: ${r}`);
	return r;
}

/** The text of the element with the given id (tags stripped, unescaped). */
function textOfId(html, id) {
	const m = new RegExp(`<([a-z0-9]+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`, 'i').exec(html);
	return m ? htmlUnescape(m[2].replace(/<[^>]*>/g, '')).trim() : null;
}

/** Checks that body is the SVG of a QR code with a 4-module quiet zone. */
function assertQrSvg(body) {
	assert.match(body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
	assert.match(body, /<\/svg>\s*$/);
	assert.doesNotMatch(body, /<script|on[a-z]+=|href=/i, 'nothing active in the SVG');
	assert.equal((body.match(/<path\b/g) ?? []).length, 1, 'exactly one path');
	const vb = /viewBox="0 0 (\d+) (\d+)"/.exec(body);
	assert.ok(vb, 'a viewBox');
	const size = Number(vb[1]);
	assert.equal(Number(vb[2]), size, 'square');
	const modules = size - 8;
	assert.ok(modules >= 21 && modules <= 177 && (modules - 17) % 4 === 0, `QR size ${modules} modules`);
	const d = /<path\b[^>]*\bd="([^"]*)"/.exec(body)[1];
	let dark = 0;
	for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)) {
		const [x, y, w, back] = m.slice(1).map(Number);
		assert.equal(w, back, 'each run is a closed rectangle');
		assert.ok(x >= 4 && y >= 4 && x + w <= size - 4 && y < size - 4, `run ${m[0]} outside the quiet zone`);
		dark += w;
	}
	assert.equal(d.replace(/M\d+ \d+h\d+v1h-\d+z/g, ''), '', 'only unit-height runs in the path');
	// Finder patterns alone are 3 × 33 dark modules; a QR code is about half dark.
	assert.ok(dark > 99 && dark < modules * modules * 0.8, `${dark} dark modules of ${modules * modules}`);
}

describe('確認コード (TOTP) through the pages', () => {
	const ctx = useServer({ tenantB: false, users: [USER, OTHER] });
	let otp;
	let auth;

	it('signed-out visitors are sent to log in, and the QR code is not served to them', async () => {
		for (const p of ['/me/totp', '/me/totp/setup', '/me/totp/qr.svg', '/me/certificates']) {
			const r = await ctx.client().page(p);
			assert.equal(r.status, 303, `${r}`);
			assert.match(r.headers.get('location') ?? '', /^\/login\?next=/);
		}
	});

	it('a resident starts, sees the secret and QR code, and confirms with a code', { timeout: 90_000 }, async () => {
		const c = ctx.client();
		await formLogin(c, USER);

		const me = await c.page('/me');
		assert.match(me.text, /<a href="\/me\/totp">確認コード（2段階認証）を設定する<\/a>/);
		assert.match(me.text, /<a href="\/me\/certificates">ログイン用の電子証明書を登録する<\/a>/);

		const intro = await c.page('/me/totp');
		assert.equal(intro.status, 200, `${intro}`);
		assertSecurityHeaders(intro);
		assert.equal(intro.headers.get('cache-control'), 'no-store');
		assert.match(intro.text, /<h1>確認コード（2段階認証）<\/h1>/);
		assert.match(intro.text, /確認コードとは/);
		assert.match(intro.text, /設定を始める/);
		assert.ok(formActions(intro.text).includes('/me/totp'), 'the start form');

		// Nothing pending yet: no QR code, and the setup page sends back.
		assert.equal((await c.get('/me/totp/qr.svg')).status, 404);
		const early = await c.page('/me/totp/setup');
		assert.equal(early.status, 303);
		assert.equal(early.headers.get('location'), '/me/totp');

		// The form without its CSRF token is refused.
		const forged = await c.submit('/me/totp', { csrf: undefined });
		assert.equal(forged.status, 403, `${forged}`);
		const wrongToken = await c.submit('/me/totp', { csrf: 'x'.repeat(43) });
		assert.equal(wrongToken.status, 403, `${wrongToken}`);

		const start = await c.submit('/me/totp');
		assert.equal(start.status, 303, `${start}`);
		assert.equal(start.headers.get('location'), '/me/totp/setup');

		const setup = await c.page('/me/totp/setup');
		assert.equal(setup.status, 200, `${setup}`);
		assert.equal(setup.headers.get('cache-control'), 'no-store');
		const grouped = textOfId(setup.text, 'totp-secret');
		assert.match(grouped ?? '', /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, `secret in groups of 4: ${grouped}`);
		const secret = grouped.replace(/ /g, '');
		assert.ok(secret.length >= 26, 'at least 128 bits');
		const uri = /otpauth:\/\/totp\/[^<"\s]+/.exec(setup.text);
		assert.ok(uri, 'the otpauth URI is shown as text');
		otp = parseOtpauth(htmlUnescape(uri[0]));
		auth = new Authenticator(otp);
		assert.equal(otp.secret, secret);
		assert.match(otp.label, /mfa-user/);
		assert.match(setup.text, /<img src="\/me\/totp\/qr\.svg"[^>]*\balt="[^"]+"/);
		assert.ok(formActions(setup.text).includes('/me/totp/confirm'));

		const qr = await c.get('/me/totp/qr.svg');
		assert.equal(qr.status, 200, `${qr}`);
		assert.equal(qr.headers.get('content-type'), 'image/svg+xml');
		assert.equal(qr.headers.get('cache-control'), 'no-store');
		assertQrSvg(qr.text);

		// Another resident has nothing pending: 404, never this resident's code.
		const other = ctx.client();
		await formLogin(other, OTHER);
		const oq = await other.get('/me/totp/qr.svg');
		assert.equal(oq.status, 404, `${oq}`);
		assert.doesNotMatch(oq.text, /<svg/);

		// Not on before it is confirmed: log-in without a code still works.
		await formLogin(ctx.client(), USER);

		// Confirming without the CSRF token is refused too.
		assert.equal((await c.submit('/me/totp/confirm', { code: totp(secret), csrf: undefined })).status, 403);

		const bad = await c.submit('/me/totp/confirm', { code: auth.wrong() });
		assert.equal(bad.status, 400, `${bad}`);
		assert.match(bad.text, /<p class="field-error" id="code-error">[^<]*<span[^>]*>エラー：<\/span>確認コードが正しくありません/);
		assert.match(bad.text, /<input id="code"[^>]*aria-describedby="code-hint code-error"[^>]*aria-invalid="true"/);
		assert.match(bad.text, /<a href="#code">/, 'the error summary links to the field');
		assert.equal(textOfId(bad.text, 'totp-secret'), grouped, 'the same secret is shown again');

		const empty = await c.submit('/me/totp/confirm', { code: '' });
		assert.equal(empty.status, 400, `${empty}`);
		assert.match(empty.text, /id="code-error"/);

		const ok = await c.submit('/me/totp/confirm', { code: await auth.fresh() });
		assert.equal(ok.status, 303, `${ok}`);
		assert.equal(ok.headers.get('location'), '/me?totp=on');
		const after = await c.page('/me?totp=on');
		assert.equal(after.status, 200);
		assert.match(after.text, /<p class="notice" role="status">確認コード（2段階認証）を有効にしました。/);
		assert.match(after.text, /設定済み/);
		assert.ok(!after.text.includes(secret), 'the secret is not shown any more');
	});

	it('once on, the pages say so and nothing can replace or turn it off', { timeout: 90_000 }, async () => {
		assert.ok(otp, 'TOTP was not enabled');
		const c = ctx.client();
		await formLogin(c, USER, { totp: await auth.fresh() });
		const p = await c.page('/me/totp');
		assert.equal(p.status, 200);
		assert.match(p.text, /無効にするには窓口にお越しください/);
		assert.ok(!formActions(p.text).includes('/me/totp'), 'no start form');
		assert.equal((await c.get('/me/totp/qr.svg')).status, 404);
		assert.equal((await c.page('/me/totp/setup')).headers.get('location'), '/me/totp');
		// Posting the start form anyway changes nothing.
		const again = await c.submit('/me/totp');
		assert.equal(again.status, 303);
		assert.equal(again.headers.get('location'), '/me/totp');
		assert.equal((await c.get('/me/totp/qr.svg')).status, 404);
		// Nor does the API.
		const api = await c.post('/api/v1/me/totp', { json: {} });
		assert.equal(api.status, 409, `${api}`);
		// The notice on /me shows only when TOTP really is on.
		const plain = ctx.client();
		await formLogin(plain, OTHER);
		assert.doesNotMatch((await plain.page('/me?totp=on')).text, /有効にしました/);
	});

	it('then the log-in form needs the code', { timeout: 90_000 }, async () => {
		assert.ok(otp, 'TOTP was not enabled');
		const c = ctx.client();
		const none = await c.formLogin(A.lg, USER.login, USER.password);
		assert.equal(none.status, 401, `${none}`);
		assert.match(none.text, /name="totp"/);
		const wrong = await c.formLogin(A.lg, USER.login, USER.password, { totp: auth.wrong() });
		assert.equal(wrong.status, 401, `${wrong}`);
		const ok = await c.formLogin(A.lg, USER.login, USER.password, { totp: await auth.fresh() });
		assert.equal(ok.status, 303, `${ok}`);
		assert.equal(ok.headers.get('location'), '/me');
	});

	it('without a trusted CA the certificate page registers nothing', async () => {
		const c = ctx.client();
		await formLogin(c, OTHER);
		const p = await c.page('/me/certificates');
		assert.equal(p.status, 200, `${p}`);
		assert.match(p.text, /受け付けていません/);
		const r = await c.submit('/me/certificates', { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' });
		assert.equal(r.status, 400, `${r}`);
		assert.doesNotMatch((await c.page('/me/certificates')).text, /有効期限：/);
	});

	ctx.stopTest();
});

const MKCERTS = process.env.MADO_MKCERTS ||
	[path.join(path.dirname(MADO_BIN), 'mkcerts'), path.join(ROOT, 'build/mkcerts')].find((p) => existsSync(p)) ||
	path.join(ROOT, 'build/mkcerts');
let certDir;
const pem = (name) => readFileSync(path.join(certDir, `${name}.pem`), 'utf8');

/** Makes the test CA and certificates; the server trusts ca.pem with crl.pem. */
async function makeCerts(data) {
	certDir = path.join(data.dataDir, 'test-certs');
	mkdirSync(certDir, { recursive: true });
	if (!existsSync(MKCERTS)) throw new Error(`${MKCERTS} not found: build the mkcerts target`);
	const r = await run(MKCERTS, [certDir]);
	if (r.code !== 0) throw new Error(`mkcerts failed: ${r.stderr}`);
	return ['--trusted-ca', path.join(certDir, 'ca.pem'), '--crl', path.join(certDir, 'crl.pem')];
}

describe('log-in certificates through the page', () => {
	const ctx = useServer({ tenantB: false, users: [USER], prepare: makeCerts });

	it('the page lists none at first and has the form', async () => {
		const c = ctx.client();
		await formLogin(c, USER);
		const p = await c.page('/me/certificates');
		assert.equal(p.status, 200, `${p}`);
		assertSecurityHeaders(p);
		assert.match(p.text, /<h1>ログイン用の電子証明書<\/h1>/);
		assert.match(p.text, /登録されている電子証明書はありません/);
		assert.ok(formActions(p.text).includes('/me/certificates'));
		assert.match(p.text, /<textarea id="certificate" name="certificate"/);
	});

	it('refuses a form without its CSRF token', async () => {
		const c = ctx.client();
		await formLogin(c, USER);
		await c.page('/me/certificates');
		const r = await c.submit('/me/certificates', { certificate: pem('leaf-rsa'), csrf: undefined });
		assert.equal(r.status, 403, `${r}`);
		assert.match((await c.page('/me/certificates')).text, /登録されている電子証明書はありません/);
	});

	it('shows why an expired, untrusted or broken certificate is refused, beside the field', async () => {
		const c = ctx.client();
		await formLogin(c, USER);
		await c.page('/me/certificates');
		for (const [cert, why] of [
			[pem('expired'), /有効期限が切れています/],
			[pem('other-leaf'), /信頼する認証局から発行されたものではありません/],
			['not a certificate', /読み取れませんでした/],
			['', /PEM 形式の証明書を貼り付けてください/],
		]) {
			const r = await c.submit('/me/certificates', { certificate: cert });
			assert.equal(r.status, 400, `${r}`);
			const err = textOfId(r.text, 'certificate-error');
			assert.match(err ?? '', why, `error for ${cert.slice(0, 40)}: ${err}`);
			assert.match(r.text, /<textarea id="certificate"[^>]*aria-describedby="certificate-hint certificate-error"[^>]*aria-invalid="true"/);
			assert.match(r.text, /<a href="#certificate">/);
		}
		assert.match((await c.page('/me/certificates')).text, /登録されている電子証明書はありません/);
	});

	it('registers a good one, lists it, refuses it twice, and it logs in', async () => {
		const c = ctx.client();
		await formLogin(c, USER);
		await c.page('/me/certificates');
		const r = await c.submit('/me/certificates', { certificate: pem('leaf-rsa') });
		assert.equal(r.status, 303, `${r}`);
		assert.equal(r.headers.get('location'), '/me/certificates?added=1');
		const list = await c.page('/me/certificates?added=1');
		assert.match(list.text, /<p class="notice" role="status">電子証明書を登録しました。<\/p>/);
		const items = [...list.text.matchAll(/<li>([^<]*)（有効期限：(\d{4}年\d{1,2}月\d{1,2}日[^）]*)）<\/li>/g)];
		assert.equal(items.length, 1, 'one certificate listed');
		assert.match(htmlUnescape(items[0][1]), /^CN=.+/);
		assert.match((await c.page('/me')).text, /有効期限：\d{4}年/);

		const dup = await c.submit('/me/certificates', { certificate: pem('leaf-rsa') });
		assert.equal(dup.status, 400, `${dup}`);
		assert.match(textOfId(dup.text, 'certificate-error') ?? '', /すでに登録されています/);

		// It really is this account's log-in certificate now.
		const anon = ctx.client();
		const ch = await anon.post('/api/v1/auth/cert/challenge', { json: { lg_code: A.lg } });
		assert.equal(ch.status, 200, `${ch}`);
		const { challenge, sign } = ch.json();
		const key = createPrivateKey(readFileSync(path.join(certDir, 'leaf-rsa.key')));
		const login = await anon.post('/api/v1/auth/cert/login', {
			json: { lg_code: A.lg, challenge, certificate: pem('leaf-rsa'), signature: cryptoSign('sha256', Buffer.from(sign ?? challenge), key).toString('base64') },
		});
		assert.equal(login.status, 200, `${login}`);
		assert.equal((await anon.me()).login, USER.login);
	});

	ctx.stopTest();
});
