// Glue between node:test and the server helper: a server per suite, started
// in before(), checked to exit 0 on SIGTERM by a final test, killed in after()
// if something went wrong earlier.
import { before, after, it } from 'node:test';
import { startServer } from './server.mjs';
import { Client } from './client.mjs';

/**
 * Registers hooks that start a server with `opts` (see startServer) and
 * returns ctx: ctx.srv is the server, ctx.client() a new Client for it.
 * Call ctx.stopTest() as the last test of the suite.
 */
export function useServer(opts = {}) {
	const ctx = {
		srv: null,
		client(o) {
			return new Client(ctx.srv.url, o);
		},
		stopTest(name = 'the server exits 0 promptly on SIGTERM') {
			it(name, { timeout: 30_000 }, async () => {
				const s = ctx.srv;
				ctx.srv = null;
				if (!s) throw new Error('server was not running');
				await s.stop();
			});
		},
	};
	before(async () => {
		ctx.srv = await startServer(opts);
	}, { timeout: 120_000 });
	after(() => {
		if (ctx.srv) {
			ctx.srv.kill();
			ctx.srv = null;
		}
	});
	return ctx;
}
