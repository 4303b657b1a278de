// Hostile and broken input: each gets a clear 4xx (or the connection is
// closed), never a 500, a crash or a hang. The server must still answer
// /healthz afterwards, and exit 0 on SIGTERM (no sanitizer reports).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './lib/suite.mjs';
import { A, B, UNHOSTED_LG, BAD_CHECK_LG } from './lib/server.mjs';
import { assertProblem, assertSecurityHeaders } from './lib/client.mjs';
import { exchange, rawRequest } from './lib/raw.mjs';

const MiB = 1024 * 1024;

function loginJson(extra = {}) {
	return JSON.stringify({ lg_code: A.lg, login: 'resident', password: 'x-wrong-password', ...extra });
}

/** Asserts the server is alive and well. */
async function healthy(ctx) {
	const r = await ctx.client().get('/healthz');
	assert.equal(r.status, 200, 'the server stopped answering /healthz');
}

describe('bad input', () => {
	const ctx = useServer();

	it('malformed JSON is a 400 problem', async () => {
		const c = ctx.client();
		for (const body of ['{"lg_code":', '{', 'nul', '{"a":1,}', '{"a" 1}', "{'a':1}", '"just a string"', '[]', '42', '',
			'{"lg_code":"302015"} trailing']) {
			const r = await c.post('/api/v1/auth/login', { json: body });
			assertProblem(r, 400);
			assertSecurityHeaders(r);
		}
	});

	it('invalid UTF-8 inside JSON is a 400 problem', async () => {
		const c = ctx.client();
		const head = Buffer.from('{"lg_code":"302015","login":"');
		const tail = Buffer.from('","password":"x-wrong-password"}');
		for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe3, 0x81], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
			const body = Buffer.concat([head, Buffer.from(bad), tail]);
			const r = await c.post('/api/v1/auth/login', { body, headers: { 'content-type': 'application/json' } });
			assertProblem(r, 400);
		}
		// A lone surrogate escape is not a character.
		assertProblem(await c.post('/api/v1/auth/login', { json: '{"lg_code":"302015","login":"\\ud800","password":"x"}' }), 400);
	});

	it('deeply nested JSON is a 400 problem', async () => {
		const c = ctx.client();
		for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
			const body = open.repeat(100000) + '1' + close.repeat(100000);
			assertProblem(await c.post('/api/v1/auth/login', { json: body }), 400);
		}
		await healthy(ctx);
	});

	it('a JSON API with another content type is 415', async () => {
		const c = ctx.client();
		// Types an HTML form can send cross-site may be refused first as a form
		// without a CSRF token (403); other types are 415.
		for (const form of [
			await c.post('/api/v1/auth/login', { body: loginJson(), headers: { 'content-type': 'text/plain' } }),
			await c.post('/api/v1/auth/login', { form: { lg_code: A.lg, login: 'resident', password: 'x' }, accept: 'application/json' }),
		]) {
			assert.ok(form.status === 415 || form.status === 403, `${form}`);
			assertProblem(form, form.status);
		}
		assertProblem(await c.post('/api/v1/auth/login', { body: loginJson(), headers: { 'content-type': 'application/xml' } }), 415);
		const none = await rawRequest(ctx.srv.port,
			`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(loginJson())}\r\n\r\n${loginJson()}`);
		assert.equal(none.response?.status, 415, `no content type: ${none.data}`);
	});

	it('invalid UTF-8 or percent-encoding in a query string is 400', async () => {
		const c = ctx.client();
		for (const q of ['next=%FF', 'next=%C0%AF', 'next=%ED%A0%80', 'next=%E3%81', 'next=%G1', 'next=%']) {
			const r = await c.page(`/login?${q}`);
			assert.equal(r.status, 400, `/login?${q}: ${r}`);
			assert.match(r.headers.get('content-type'), /^text\/html/);
		}
		const admin = ctx.client();
		await admin.mustLogin(A.lg, A.admin);
		assertProblem(await admin.get('/api/v1/admin/jobs?state=%FF%FE'), 400);
		assertProblem(await admin.get('/api/v1/me/access-log?before=%C3%28'), 400);
	});

	it('invalid UTF-8 in a form is 400', async () => {
		const c = ctx.client();
		const page = await c.page('/login');
		assert.equal(page.status, 200);
		for (const body of [
			`csrf=${encodeURIComponent(c.csrf ?? '')}&lg_code=${A.lg}&login=%FF%FE&password=x`,
			`csrf=${encodeURIComponent(c.csrf ?? '')}&lg_code=${A.lg}&login=res%E3%81&password=x`,
			`csrf=${encodeURIComponent(c.csrf ?? '')}&lg_code=${A.lg}&login=resident&password=%zz`,
		]) {
			const r = await c.request('POST', '/login', { body, accept: 'text/html', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
			assert.equal(r.status, 400, `${body}: ${r}`);
		}
		const raw = Buffer.concat([Buffer.from(`lg_code=${A.lg}&login=`), Buffer.from([0xff, 0xfe]), Buffer.from('&password=x')]);
		const r = await c.request('POST', '/login', { body: raw, accept: 'text/html', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
		assert.equal(r.status, 400, `raw bytes: ${r}`);
	});

	it('a body over max-body (1 MiB) is 413, with Content-Length or chunked', { timeout: 30_000 }, async () => {
		const big = Buffer.alloc(2 * MiB, 'a');
		const head = `POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n`;
		// The server may answer as soon as it sees the length; sending the body
		// into a closed connection would make the kernel reset it and drop that
		// answer, so the body goes only if no answer came within 2 s.
		const r1 = await exchange(ctx.srv.port, [head + `Content-Length: ${big.length}\r\n\r\n`, { until: 'response', max: 2000 }, big],
			{ stopOnResponse: true, timeout: 15_000 });
		assert.equal(r1.response?.status, 413, `Content-Length 2 MiB: ${r1.data.subarray(0, 300)}`);
		assert.match(r1.response.headers['content-type'] ?? '', /^application\/problem\+json/);

		const chunks = [head + 'Transfer-Encoding: chunked\r\n\r\n'];
		for (let i = 0; i < 32; i++) chunks.push(`10000\r\n`, Buffer.alloc(0x10000, 'b'), '\r\n', { delay: 30 });
		chunks.push('0\r\n\r\n');
		const r2 = await exchange(ctx.srv.port, chunks, { stopOnResponse: true, timeout: 15_000 });
		assert.equal(r2.response?.status, 413, `chunked 2 MiB: ${r2.data.subarray(0, 300)}`);

		// Through fetch as well (a form post to an HTML route).
		const c = ctx.client();
		let status;
		try {
			status = (await c.request('POST', '/login', { body: 'login=' + 'a'.repeat(2 * MiB), accept: 'text/html', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status;
		} catch (e) {
			status = `connection error ${e.cause?.code ?? e.message}`;
		}
		// fetch may see the reset before the answer when the server stops reading.
		assert.ok(status === 413 || /^connection error/.test(status), `fetch of 2 MiB: ${status}`);
		await healthy(ctx);
	});

	it('headers over max-header (16 KiB) get 431 or a closed connection', { timeout: 30_000 }, async () => {
		const long = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`;
		const r1 = await rawRequest(ctx.srv.port, long, { timeout: 10_000 });
		assert.ok(r1.response?.complete || r1.serverClosed, '64 KiB header: no answer and connection left open');
		assert.ok(!r1.response || r1.response.status === 431 || r1.response.status === 413, `64 KiB header: ${r1.response?.status}`);

		let many = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
		for (let i = 0; i < 2000; i++) many += `X-H${i}: ${'v'.repeat(10)}\r\n`;
		const r2 = await rawRequest(ctx.srv.port, many + 'Connection: close\r\n\r\n', { timeout: 10_000 });
		assert.ok(r2.response?.complete || r2.serverClosed, '2000 headers: no answer and connection left open');
		assert.ok(!r2.response || r2.response.status === 431 || r2.response.status === 413, `2000 headers: ${r2.response?.status}`);

		const url = `GET /${'a'.repeat(32 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
		const r3 = await rawRequest(ctx.srv.port, url, { timeout: 10_000 });
		assert.ok(!r3.response || [414, 431, 413, 404, 400].includes(r3.response.status), `32 KiB URL: ${r3.response?.status}`);

		const cookie = ctx.client();
		let st;
		try {
			st = (await cookie.get('/api/v1/me', { headers: { cookie: 'mado_session=' + 'c'.repeat(20000) } })).status;
		} catch (e) {
			st = 'closed';
		}
		assert.ok(st === 431 || st === 413 || st === 'closed', `20 KB cookie: ${st}`);
		await healthy(ctx);
	});

	it('odd paths never escape the route table or reach files', async () => {
		// Sent raw: fetch would resolve the dot segments itself.
		for (const p of ['/static/../../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/static/..%2f..%2f..%2fetc%2fpasswd',
			'/static/%00', '/api/v1/%00', '/api/v1/accounts/1%00', '/api/v1/accounts/-1', '/api/v1/accounts/99999999999999999999999',
			'/api/v1/accounts/abc', '//api/v1/me', '/api/v1/accounts/1/../../me', '/%FF']) {
			const r = await rawRequest(ctx.srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { timeout: 5000 });
			assert.ok(r.response, `${p}: no answer`);
			assert.ok(r.response.status >= 300 && r.response.status < 500, `${p}: ${r.response.status}`);
			assert.ok(!r.data.includes('root:x:0:0'), `${p} served /etc/passwd`);
		}
		await healthy(ctx);
	});

	it('an unknown municipality is 404 on the API and a form error on the page', async () => {
		const c = ctx.client();
		assertProblem(await c.apiLogin(UNHOSTED_LG, 'resident', 'madoguchi-resident'), 404);
		assertProblem(await c.post('/api/v1/auth/cert/challenge', { json: { lg_code: UNHOSTED_LG } }), 404);
		for (const lg of [BAD_CHECK_LG, '12345', '1234567', 'abcdef', '']) {
			const r = await c.apiLogin(lg, 'resident', 'madoguchi-resident');
			assert.ok(r.status === 400 || r.status === 404, `lg_code "${lg}": ${r}`);
			assertProblem(r, r.status);
		}
		const page = await c.formLogin(UNHOSTED_LG, 'resident', 'madoguchi-resident');
		assert.ok(page.status >= 400 && page.status < 500, `${page}`);
		assert.match(page.headers.get('content-type'), /^text\/html/);
		assert.match(page.text, /name="lg_code"/, 'the form is shown again');
		assert.ok(!page.setCookies.some((s) => /^mado_session=[^;]+/.test(s) && !/max-age=0/i.test(s)) ||
			(await c.get('/api/v1/me')).status === 401, 'signed in to an unknown municipality');
	});

	it('the server is still healthy, and 海南市 still works', async () => {
		await healthy(ctx);
		await ctx.client().mustLogin(B.lg, B.clerk);
	});

	ctx.stopTest();
});

describe('slow clients are cut off (slowloris)', () => {
	const ctx = useServer({ tenantB: false, args: ['--request-timeout', '2', '--idle-timeout', '2', '--max-conns-per-ip', '100'] });

	it('garbage request lines get a 4xx/501/505, or are closed within the request timeout', { timeout: 30_000 }, async () => {
		const reqs = [
			'FOO /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
			'GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n',
			'GET healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
			'\x00\x01\x02\x03\r\n\r\n',
			'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\nConnection: close\r\n\r\n',
			'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n',
			'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\nConnection: close\r\n\r\nabcde',
			'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n',
		];
		const answers = await Promise.all(reqs.map((req) => rawRequest(ctx.srv.port, req, { timeout: 8000 })));
		for (const [i, r] of answers.entries()) {
			const req = reqs[i];
			if (r.response) {
				assert.ok((r.response.status >= 400 && r.response.status < 500) || r.response.status === 501 || r.response.status === 505,
					`${JSON.stringify(req.slice(0, 40))}: ${r.response.status}`);
			} else {
				assert.ok(r.serverClosed && r.elapsed < 6000, `${JSON.stringify(req.slice(0, 40))}: no answer, closed: ${r.serverClosed} after ${r.elapsed} ms`);
			}
		}
		await healthy(ctx);
	});

	it('a request line sent one byte at a time is closed within the request timeout', { timeout: 30_000 }, async () => {
		const steps = ['GET /healthz HTTP/1.1\r\n'];
		for (const ch of 'X-Slow: ' + 'z'.repeat(60)) steps.push({ delay: 250 }, ch);
		const slow = exchange(ctx.srv.port, steps, { timeout: 15_000 });
		// Meanwhile others are served at once.
		const t0 = Date.now();
		const r = await ctx.client().get('/healthz');
		assert.equal(r.status, 200);
		assert.ok(Date.now() - t0 < 1000, 'the server is stuck behind a slow client');
		const s = await slow;
		assert.ok(s.serverClosed, 'the slow connection was never closed');
		assert.ok(s.elapsed < 6000, `closed only after ${s.elapsed} ms (request timeout 2 s)`);
		assert.ok(!s.response || s.response.status === 408, `answer ${s.response?.status}`);
	});

	it('a body sent one byte at a time is cut off too', { timeout: 30_000 }, async () => {
		const steps = ['POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'];
		for (let i = 0; i < 60; i++) steps.push({ delay: 250 }, ' ');
		const s = await exchange(ctx.srv.port, steps, { timeout: 15_000 });
		assert.ok(s.serverClosed, 'the slow body was never cut off');
		assert.ok(s.elapsed < 6000, `closed only after ${s.elapsed} ms`);
		assert.ok(!s.response || s.response.status === 408 || s.response.status === 400, `answer ${s.response?.status}`);
	});

	it('a connection that sends nothing is closed', { timeout: 30_000 }, async () => {
		const s = await exchange(ctx.srv.port, [{ delay: 12_000 }], { timeout: 15_000 });
		assert.ok(s.serverClosed, 'the idle connection was never closed');
		assert.ok(s.elapsed < 6000, `closed only after ${s.elapsed} ms`);
	});

	it('thirty slow connections at once do not stop normal requests', { timeout: 30_000 }, async () => {
		const slow = [];
		for (let i = 0; i < 30; i++) {
			const steps = ['GET /healthz HTTP/1.1\r\n'];
			for (let k = 0; k < 20; k++) steps.push({ delay: 300 }, 'X');
			slow.push(exchange(ctx.srv.port, steps, { timeout: 12_000 }));
		}
		for (let i = 0; i < 5; i++) {
			const t0 = Date.now();
			assert.equal((await ctx.client().get('/healthz')).status, 200);
			assert.ok(Date.now() - t0 < 1000);
		}
		const done = await Promise.all(slow);
		assert.ok(done.every((s) => s.serverClosed && s.elapsed < 8000), 'some slow connections lived on');
	});

	ctx.stopTest();
});
