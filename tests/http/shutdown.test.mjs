// Graceful shutdown: on SIGTERM the server stops accepting, finishes the
// requests already in flight, closes idle keep-alive connections and exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './lib/server.mjs';
import { Client } from './lib/client.mjs';
import { parseResponse } from './lib/raw.mjs';

/** A connection on which we control each write; collects what arrives. */
function openConn(port) {
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host: '127.0.0.1', port });
		const conn = { sock, data: Buffer.alloc(0), closed: false, closedAt: 0 };
		conn.closedPromise = new Promise((res) => {
			sock.on('close', () => {
				conn.closed = true;
				conn.closedAt = Date.now();
				res();
			});
		});
		sock.on('data', (d) => (conn.data = Buffer.concat([conn.data, d])));
		sock.on('error', () => {});
		sock.on('connect', () => resolve(conn));
		sock.on('error', reject);
	});
}

async function waitFor(pred, ms, what) {
	const t0 = Date.now();
	while (!pred()) {
		if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

describe('graceful shutdown', () => {
	it('finishes an in-flight request, closes idle connections and exits 0', { timeout: 90_000 }, async () => {
		const srv = await startServer({ tenantB: false });
		try {
			// An idle keep-alive connection that has had one answer.
			const idle = await openConn(srv.port);
			idle.sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
			await waitFor(() => parseResponse(idle.data)?.complete, 5000, 'the keep-alive answer');

			// A request whose body is only half sent when SIGTERM arrives.
			const body = JSON.stringify({ lg_code: '302015', login: 'resident', password: 'madoguchi-resident' });
			const half = Math.floor(body.length / 2);
			const busy = await openConn(srv.port);
			busy.sock.write(
				'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
				`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` + body.slice(0, half));
			await sleep(300);

			const t0 = Date.now();
			srv.proc.kill('SIGTERM');
			await sleep(500);
			assert.equal(srv.exited(), null, 'the server exited with a request in flight');
			busy.sock.write(body.slice(half));
			await waitFor(() => parseResponse(busy.data)?.complete || busy.closed, 10_000, 'the in-flight answer');
			const res = parseResponse(busy.data);
			assert.ok(res?.complete, `in-flight request got no complete answer: ${busy.data}`);
			assert.equal(res.status, 200, `in-flight log-in: ${res.status} ${res.body}`);

			const exit = await srv.waitExit(10_000);
			assert.ok(exit, 'the server did not exit within 10 s of SIGTERM');
			assert.equal(exit.code, 0, `exit status ${exit.code ?? exit.signal}\n${srv.stderrText().slice(-4000)}`);
			assert.ok(Date.now() - t0 < 10_000);
			await idle.closedPromise;
			assert.ok(idle.closed, 'the idle keep-alive connection was left open');

			// Nothing listens any more.
			await assert.rejects(new Client(srv.url).get('/healthz', { timeout: 2000 }));
		} finally {
			srv.kill();
		}
	});

	it('stops promptly when nothing is in flight, and SIGINT works too', { timeout: 60_000 }, async () => {
		const srv = await startServer({ tenantB: false });
		try {
			assert.equal((await new Client(srv.url).get('/healthz')).status, 200);
			const t0 = Date.now();
			await srv.stop({ timeoutMs: 5000, keep: true });
			assert.ok(Date.now() - t0 < 5000);
		} finally {
			srv.kill();
		}
		const srv2 = await startServer({ tenantB: false });
		try {
			srv2.proc.kill('SIGINT');
			const exit = await srv2.waitExit(5000);
			assert.ok(exit, 'SIGINT did not stop the server');
			assert.equal(exit.code, 0);
		} finally {
			srv2.kill();
		}
	});

	it('many concurrent requests at SIGTERM all get complete answers or a refused connection', { timeout: 60_000 }, async () => {
		const srv = await startServer({ tenantB: false });
		try {
			const c = new Client(srv.url);
			const reqs = [];
			for (let i = 0; i < 40; i++)
				reqs.push(c.get('/healthz', { timeout: 10_000 }).then((r) => r.status, (e) => `error: ${e.cause?.code ?? e.message}`));
			await sleep(5);
			srv.proc.kill('SIGTERM');
			const results = await Promise.all(reqs);
			for (const r of results)
				assert.ok(r === 200 || /ECONNREFUSED|ECONNRESET|other side closed|SocketError|UND_ERR_SOCKET/.test(String(r)), `request at shutdown: ${r}`);
			const exit = await srv.waitExit(10_000);
			assert.ok(exit && exit.code === 0, `exit ${JSON.stringify(exit)}\n${srv.stderrText().slice(-3000)}`);
		} finally {
			srv.kill();
		}
	});
});
