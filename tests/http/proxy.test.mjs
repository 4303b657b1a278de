// Behind a reverse proxy: with --trusted-proxy the client address comes from
// X-Forwarded-For (rightmost untrusted) for the per-address log-in limit, the
// session record and the access log, and X-Forwarded-Proto decides Secure
// cookies; without it both headers are ignored. /metrics answers loopback,
// --metrics-allow and --metrics-token only, and 404 to everyone else.
// The test client is on 127.0.0.1, which plays the proxy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { useServer } from './lib/suite.mjs';
import { A, sql } from './lib/server.mjs';
import { assertProblem, cookieAttrs } from './lib/client.mjs';
import { rawRequest } from './lib/raw.mjs';

const TOKEN = 'metrics-scrape-token-0123456789abcdef';

/** A JSON log-in as if forwarded for `xff` (no header when null). */
function loginAs(ctx, xff, login, password, headers = {}) {
	const h = { ...headers };
	if (xff !== null) h['x-forwarded-for'] = xff;
	return ctx.client().post('/api/v1/auth/login', { json: { lg_code: A.lg, login, password }, headers: h });
}

/** The access-log line of the request whose X-Request-Id is rid, parsed. */
async function accessLine(ctx, rid) {
	for (let i = 0; i < 40; i++) {
		const line = ctx.srv.stdoutLines.find((l) => l.startsWith('{') && l.includes(`"rid":"${rid}"`));
		if (line) return JSON.parse(line);
		await sleep(50);
	}
	assert.fail(`no access-log line with rid ${rid}`);
}

/** Fails log-ins (a different unknown account each time) until the address is refused. */
async function lockOut(ctx, xff, n) {
	for (let i = 1; i <= n; i++) assertProblem(await loginAs(ctx, xff, `spray-${xff}-${i}`, 'wrong-password-1'), 401);
}

describe('behind a trusted proxy (--trusted-proxy 127.0.0.1/32)', () => {
	const ctx = useServer({
		tenantB: false,
		args: ['--trusted-proxy', '127.0.0.1/32', '--login-ip-max-failures', '3',
			'--metrics-allow', '192.0.2.0/24', '--metrics-token', TOKEN],
	});

	it('failed log-ins lock the forwarded address only', async () => {
		await lockOut(ctx, '198.51.100.7', 3);
		// the same right password: refused for .7, accepted for .8 and for the proxy itself
		assertProblem(await loginAs(ctx, '198.51.100.7', A.resident.login, A.resident.password), 429);
		assert.equal((await loginAs(ctx, '198.51.100.8', A.resident.login, A.resident.password)).status, 200);
		assertProblem(await loginAs(ctx, '198.51.100.8', 'spray-other', 'wrong-password-1'), 401);
		assert.equal((await loginAs(ctx, null, A.resident.login, A.resident.password)).status, 200);
	});

	it('a spoofed prefix does not help: "1.2.3.4, 198.51.100.7" is 198.51.100.7', async () => {
		assertProblem(await loginAs(ctx, '1.2.3.4, 198.51.100.7', A.resident.login, A.resident.password), 429);
		// claiming to be the proxy or loopback does not help either
		assertProblem(await loginAs(ctx, '127.0.0.1, 198.51.100.7', A.resident.login, A.resident.password), 429);
		// while a chain whose rightmost address is another client is that client
		assert.equal((await loginAs(ctx, '198.51.100.7, 203.0.113.9', A.resident.login, A.resident.password)).status, 200);
		// the proxy's own address on the right is skipped
		assertProblem(await loginAs(ctx, '198.51.100.7, 127.0.0.1', A.resident.login, A.resident.password), 429);
	});

	it('several X-Forwarded-For lines are read as one list, in order', async () => {
		const body = JSON.stringify({ lg_code: A.lg, login: A.resident.login, password: A.resident.password });
		const send = (lines) => rawRequest(ctx.srv.port,
			'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
			lines.map((l) => `X-Forwarded-For: ${l}\r\n`).join('') +
			`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
		// the first line alone would be 1.2.3.4 (not locked): the last one counts
		assert.equal((await send(['1.2.3.4', '198.51.100.7'])).response?.status, 429);
		assert.equal((await send(['198.51.100.7', '1.2.3.4'])).response?.status, 200);
	});

	it('a malformed X-Forwarded-For falls back to the proxy address', async () => {
		for (const bad of ['garbage', '198.51.100.7, unknown', 'fe80::1%eth0', '198.51.100.7,', 'x'.repeat(8000),
			Array(1000).fill('127.0.0.1').join(', ')]) { // 1,000 hops, all the proxy
			const r = await loginAs(ctx, bad, A.resident.login, A.resident.password);
			assert.equal(r.status, 200, `X-Forwarded-For ${bad.slice(0, 40)}…: ${r}`);
			const j = await accessLine(ctx, r.headers.get('x-request-id'));
			assert.equal(j.ip, '127.0.0.1', JSON.stringify(j));
		}
	});

	it('the session, the access log and (through request_id) the audit entry name the forwarded address', async () => {
		const c = ctx.client();
		const r = await c.post('/api/v1/auth/login', {
			json: { lg_code: A.lg, login: A.clerk.login, password: A.clerk.password },
			headers: { 'x-forwarded-for': '2001:db8::42, 127.0.0.1' },
		});
		assert.equal(r.status, 200, `${r}`);
		const rid = r.headers.get('x-request-id');
		const j = await accessLine(ctx, rid);
		assert.equal(j.ip, '2001:db8::42');
		assert.equal(j.peer, '127.0.0.1');
		const ips = (await sql(ctx.srv, "SELECT s.ip FROM sessions s JOIN accounts a ON a.id = s.account_id " +
			`WHERE a.login = '${A.clerk.login}' AND a.lg_code = '${A.lg}'`)).trim().split('\n');
		assert.deepEqual(ips, ['2001:db8::42']);
		// audit_log has no address column: its request_id joins the access log line above
		let audit = '';
		for (let i = 0; i < 40 && !audit.trim(); i++) {
			audit = await sql(ctx.srv, `SELECT action || '|' || outcome FROM audit_log WHERE request_id = '${rid}'`);
			if (!audit.trim()) await sleep(50);
		}
		assert.equal(audit.trim(), 'auth.login|ok');
	});

	it('X-Forwarded-Proto: https from the proxy makes cookies Secure and sends HSTS', async () => {
		const plain = await loginAs(ctx, '198.51.100.20', A.resident.login, A.resident.password);
		assert.equal(plain.status, 200);
		assert.ok(!cookieAttrs(plain.setCookies, 'mado_session').secure, 'no Secure over plain HTTP');
		assert.equal(plain.headers.get('strict-transport-security'), null);
		const tls = await loginAs(ctx, '198.51.100.20', A.resident.login, A.resident.password, { 'x-forwarded-proto': 'https' });
		assert.equal(tls.status, 200);
		assert.ok(cookieAttrs(tls.setCookies, 'mado_session').secure, `Secure: ${tls.setCookies}`);
		assert.match(tls.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
	});

	it('/metrics: 200 from loopback, 404 for an outside client forwarded by the proxy', async () => {
		const c = ctx.client();
		const local = await c.get('/metrics');
		assert.equal(local.status, 200, `${local}`);
		assert.match(local.text, /mado_http_requests_total/);

		const outside = { 'x-forwarded-for': '203.0.113.5' };
		const unknown = await c.get('/no-such-path', { headers: outside });
		for (const [method, headers] of [
			['GET', outside],
			['GET', { 'x-forwarded-for': '127.0.0.1, 203.0.113.5' }], // "I am loopback" from outside
			['GET', { ...outside, authorization: 'Bearer wrong-token-wrong-token-0000' }],
			['GET', { ...outside, authorization: `Basic ${TOKEN}` }],
			['POST', outside], // no 405 that would reveal the path
			['GET', { 'x-forwarded-for': 'unknown' }], // unresolved: falls back to the loopback peer
			['GET', { 'x-forwarded-for': '' }],
			['GET', { 'x-forwarded-for': 'fe80::1%eth0' }],
			['GET', { ...outside, accept: 'text/html' }],
		]) {
			const r = await c.request(method, '/metrics', { headers });
			assert.equal(r.status, 404, `${method} ${JSON.stringify(headers)}: ${r}`);
			assert.ok(!/mado_http/.test(r.text));
		}
		// the same 404 as an unknown path
		const denied = await c.get('/metrics', { headers: outside });
		assert.equal(denied.headers.get('content-type'), unknown.headers.get('content-type'));
		assert.equal(denied.json().title, unknown.json().title);
	});

	it('/metrics: --metrics-allow networks and the --metrics-token bearer get in', async () => {
		const c = ctx.client();
		const net = await c.get('/metrics', { headers: { 'x-forwarded-for': '192.0.2.77' } });
		assert.equal(net.status, 200, `${net}`);
		const tok = await c.get('/metrics', { headers: { 'x-forwarded-for': '203.0.113.5', authorization: `Bearer ${TOKEN}` } });
		assert.equal(tok.status, 200, `${tok}`);
		assert.match(tok.text, /mado_http_requests_total/);
		assert.equal(tok.headers.get('set-cookie'), null);
	});

	ctx.stopTest();
});

describe('without --trusted-proxy the forwarding headers are ignored', () => {
	const ctx = useServer({ tenantB: false, args: ['--login-ip-max-failures', '3'] });

	it('failed log-ins "from" 198.51.100.7 lock the real peer for every forwarded address', async () => {
		await lockOut(ctx, '198.51.100.7', 3);
		assertProblem(await loginAs(ctx, '198.51.100.8', A.resident.login, A.resident.password), 429);
		assertProblem(await loginAs(ctx, null, A.resident.login, A.resident.password), 429);
		const r = await loginAs(ctx, '198.51.100.9', 'x', 'y');
		const j = await accessLine(ctx, r.headers.get('x-request-id'));
		assert.equal(j.ip, '127.0.0.1');
		assert.ok(!('peer' in j), JSON.stringify(j));
	});

	it('X-Forwarded-Proto is ignored, and a forwarded request is never loopback for /metrics', async () => {
		const c = ctx.client();
		// a proxy on this host without --trusted-proxy: its clients must not read /metrics
		const r = await c.get('/metrics', { headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } });
		assert.equal(r.status, 404, `${r}`);
		assert.equal(r.headers.get('strict-transport-security'), null);
		assert.equal((await c.get('/metrics', { headers: { forwarded: 'for=203.0.113.5' } })).status, 404);
		assert.equal((await c.get('/metrics')).status, 200, 'loopback itself still reads it');
		// no token configured: a bearer header is not a way in, and no API-token lookup breaks it
		const b = await c.get('/metrics', { headers: { authorization: 'Bearer some-api-token-that-does-not-exist' } });
		assert.equal(b.status, 200, `${b}`);
	});

	ctx.stopTest();
});
