// Test certificates for certificate log-in: build/mkcerts writes a CA, a CRL
// and leaf certificates into a data directory; the server is started with
// --trusted-ca and --crl pointing at them.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { MADO_BIN, ROOT, run } from './server.mjs';

export const MKCERTS = process.env.MADO_MKCERTS ||
	[path.join(path.dirname(MADO_BIN), 'mkcerts'), path.join(ROOT, 'build/mkcerts')].find((p) => existsSync(p)) ||
	path.join(ROOT, 'build/mkcerts');

/** Makes the certificates under dataDir/test-certs; returns {dir, args}. */
export async function makeTestCerts(dataDir) {
	const dir = path.join(dataDir, 'test-certs');
	mkdirSync(dir, { recursive: true });
	if (!existsSync(MKCERTS)) throw new Error(`${MKCERTS} not found: build the mkcerts target`);
	const r = await run(MKCERTS, [dir]);
	if (r.code !== 0) throw new Error(`mkcerts failed: ${r.stderr}`);
	return { dir, args: ['--trusted-ca', path.join(dir, 'ca.pem'), '--crl', path.join(dir, 'crl.pem')] };
}
