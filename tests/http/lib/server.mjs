// Starts a real madoguchi server for one test file: a fresh data directory
// (and, when MADO_TEST_PG_URL is set, a fresh PostgreSQL database), the demo
// municipality 302015 和歌山市 plus a second one, 302023 海南市, with its own
// staff, then `madoguchi serve` on a free loopback port.
//
// Environment:
//   MADO_BIN           the server binary (default build/madoguchi)
//   MADO_TEST_PG_URL   run on PostgreSQL: a URL of a database the tests may use
//                      to CREATE DATABASE (printed by scripts/pg-temp.sh start)
//   MADO_TEST_KEEP     keep the temporary data directories (for debugging)
//   MADO_TEST_VERBOSE  copy the server's stdout/stderr to the test output
//   MADO_ABR_CITY      mt_city_all.csv.zip (default: shared/ beside the repository)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MADO_BIN = path.resolve(ROOT, process.env.MADO_BIN || 'build/madoguchi');
export const PG_URL = process.env.MADO_TEST_PG_URL || '';
export const BACKEND = PG_URL ? 'postgres' : 'sqlite';
// ABR's list of municipalities (name look-up for `tenant add`): MADO_ABR_CITY,
// or shared/ beside the repository as in the workspace and in CI.
export const ABR_CITY = [process.env.MADO_ABR_CITY, path.resolve(ROOT, '../shared/data/abr/mt_city_all.csv.zip')]
	.find((p) => p && existsSync(p)) ?? '';

// The demo municipality and its log-ins, as `madoguchi init --demo` creates them.
export const A = {
	lg: '302015',
	name: '和歌山市',
	resident: { login: 'resident', password: 'madoguchi-resident' },
	clerk: { login: 'clerk', password: 'madoguchi-clerk' },
	admin: { login: 'admin', password: 'madoguchi-admin' },
};

// The second municipality, made by the helper through the CLI. 302023 passes
// the check digit: 3·6+0·5+2·4+0·3+2·2 = 30, 30 mod 11 = 8, (11−8) mod 10 = 3.
// Its clerk deliberately shares the login "clerk" with 和歌山市's clerk.
export const B = {
	lg: '302023',
	name: '海南市',
	clerk: {
		login: 'clerk',
		password: 'kainan-clerk-pass-2023',
		kind: 'staff',
		roles: ['shimin_clerk'],
		name: '海南市 市民課 職員',
	},
	admin: {
		login: 'admin-kainan',
		password: 'kainan-admin-pass-2023',
		kind: 'staff',
		roles: ['sysadmin'],
		name: '海南市 システム管理者',
	},
	resident: {
		login: 'resident-kainan',
		password: 'kainan-resident-pass',
		kind: 'resident',
		roles: ['resident'],
		name: '海南 花子',
	},
};

// Hosted by nobody in the tests, with a valid check digit (3·6+0·5+2·4+0·3+3·2
// = 32, 32 mod 11 = 10, (11−10) mod 10 = 1): 橋本市.
export const UNHOSTED_LG = '302031';
// Same digits as 302023 but a wrong check digit.
export const BAD_CHECK_LG = '302024';

let dbCounter = 0;

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
	return await new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/** The environment for every child process: ours without MADOGUCHI_*. */
function childEnv(extra) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('MADOGUCHI_')) env[k] = v;
	}
	// Sanitizer builds: fail loudly on the first error, report leaks at exit.
	env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1:halt_on_error=1';
	env.UBSAN_OPTIONS ??= 'print_stacktrace=1:halt_on_error=1';
	return { ...env, ...extra };
}

/** Resolves like promise, or null after ms (the timer does not outlive it). */
export function within(promise, ms) {
	let timer;
	const t = new Promise((resolve) => {
		timer = setTimeout(() => resolve(null), ms);
	});
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Runs `cmd args` to completion. Returns {code, signal, stdout, stderr}. */
export function run(cmd, args, { env, input, timeout = 120_000 } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { env: env ?? childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
		const out = [];
		const err = [];
		const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
		child.stdout.on('data', (d) => out.push(d));
		child.stderr.on('data', (d) => err.push(d));
		child.on('error', (e) => {
			clearTimeout(timer);
			reject(new Error(`cannot run ${cmd}: ${e.message}`));
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({
				code,
				signal,
				stdout: Buffer.concat(out).toString('utf8'),
				stderr: Buffer.concat(err).toString('utf8'),
			});
		});
		// The child may exit before reading its input: ignore EPIPE.
		child.stdin.on('error', () => {});
		if (input) child.stdin.end(input);
		else child.stdin.end();
	});
}

function describeRun(what, r) {
	return `${what} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Parses a PostgreSQL URL or conninfo string and returns it with another dbname. */
export function pgWithDatabase(url, dbname) {
	if (/^postgres(ql)?:\/\//.test(url)) {
		const u = new URL(url);
		u.pathname = '/' + dbname;
		return u.toString();
	}
	// key=value conninfo
	if (/\bdbname=\S+/.test(url)) return url.replace(/\bdbname=\S+/, `dbname=${dbname}`);
	return `${url} dbname=${dbname}`;
}

/** Runs one SQL statement with psql on the given database; returns stdout. */
export async function psql(url, sql) {
	const r = await run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql]);
	if (r.code !== 0) throw new Error(describeRun(`psql -c ${sql}`, r));
	return r.stdout;
}

async function createPgDatabase() {
	const name = `mado_t_${process.pid}_${++dbCounter}_${Date.now().toString(36)}`;
	await psql(PG_URL, `CREATE DATABASE ${name}`);
	return pgWithDatabase(PG_URL, name);
}

/**
 * A prepared but not yet serving data directory: init --demo, the second
 * municipality and its accounts, and any extra users.
 *   opts.users     [{lg, login, password, kind, roles:[…], name}] more accounts
 *   opts.tenantB   false to skip creating 302023 (default true)
 */
export async function prepareData(opts = {}) {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mado-test-'));
	const dbUrl = PG_URL ? await createPgDatabase() : '';
	const env = childEnv({
		MADOGUCHI_DATA_DIR: dataDir,
		...(dbUrl ? { MADOGUCHI_DB: dbUrl } : {}),
	});
	const dbArgs = dbUrl ? ['--db', dbUrl] : [];

	// Every command takes the server options; they are also in env.
	const cli = async (args, { expect = 0, input } = {}) => {
		const full = [...args];
		if (!full.includes('--data-dir')) full.push('--data-dir', dataDir);
		if (dbUrl && !full.includes('--db')) full.push(...dbArgs);
		if (ABR_CITY && (args[0] === 'init' || args[0] === 'tenant') && !full.includes('--abr-city'))
			full.push('--abr-city', ABR_CITY);
		const r = await run(MADO_BIN, full, { env, input });
		if (expect !== null && r.code !== expect)
			throw new Error(describeRun(`madoguchi ${full.join(' ')}`, r));
		return r;
	};

	try {
		if (!existsSync(MADO_BIN)) throw new Error(`${MADO_BIN} does not exist: build it first (make build)`);
		await cli(['init', '--demo']);
		const users = [];
		if (opts.tenantB !== false) {
			await cli(['tenant', 'add', B.lg]);
			users.push(
				{ lg: B.lg, ...B.clerk },
				{ lg: B.lg, ...B.admin },
				{ lg: B.lg, ...B.resident },
			);
		}
		users.push(...(opts.users ?? []));
		for (const u of users) await addUser(cli, u);
	} catch (e) {
		cleanup({ dataDir }, false);
		throw e;
	}
	return { dataDir, dbUrl, env, dbArgs, cli };
}

/** Creates one account with `madoguchi user add`. */
export async function addUser(cli, u) {
	const args = ['user', 'add', '--lg', u.lg, '--login', u.login, '--password', u.password,
		'--kind', u.kind ?? 'resident', '--roles', (u.roles ?? ['resident']).join(',')];
	if (u.name) args.push('--name', u.name);
	return await cli(args);
}

/**
 * Starts a server. Returns {url, port, dataDir, dbUrl, cli, stdoutLines,
 * stderrText(), stop(), kill()}. Call stop() in an after() hook: it sends
 * SIGTERM and throws unless the server exits 0 within the grace time.
 *   opts.args      extra `serve` arguments (e.g. ['--request-timeout', '2'])
 *   opts.prepare   async (data) => extraArgs: runs after the data is ready and
 *                  before serve starts (e.g. to write certificates)
 *   plus the options of prepareData().
 */
export async function startServer(opts = {}) {
	const data = await prepareData(opts);
	try {
		const extra = opts.prepare ? (await opts.prepare(data)) ?? [] : [];
		return await serveData(data, [...(opts.args ?? []), ...extra]);
	} catch (e) {
		cleanup(data, false);
		throw e;
	}
}

/** Starts `madoguchi serve` on an already prepared data directory. */
export async function serveData(data, args = []) {
	const port = await freePort();
	const argv = ['serve', '--data-dir', data.dataDir, '--listen', '127.0.0.1', '--port', String(port),
		...data.dbArgs, ...args];
	const child = spawn(MADO_BIN, argv, { env: data.env, stdio: ['ignore', 'pipe', 'pipe'] });
	const verbose = !!process.env.MADO_TEST_VERBOSE;
	const stdoutLines = [];
	let stderr = '';
	let partial = '';
	let exited = null;
	const exitPromise = new Promise((resolve) => {
		child.on('exit', (code, signal) => {
			exited = { code, signal };
			resolve(exited);
		});
	});

	let onLine = null;
	child.stdout.on('data', (d) => {
		if (verbose) process.stderr.write(d);
		partial += d.toString('utf8');
		let i;
		while ((i = partial.indexOf('\n')) >= 0) {
			const line = partial.slice(0, i);
			partial = partial.slice(i + 1);
			stdoutLines.push(line);
			if (stdoutLines.length > 20000) stdoutLines.splice(0, 10000);
			if (onLine) onLine(line);
		}
	});
	child.stderr.on('data', (d) => {
		if (verbose) process.stderr.write(d);
		stderr += d.toString('utf8');
		if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
	});

	const url = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`server did not print "listening on" within 30 s\n--- stderr\n${stderr}`));
		}, 30_000);
		const check = (line) => {
			const m = /madoguchi: listening on (https?:\/\/\S+)/.exec(line);
			if (m) {
				clearTimeout(timer);
				onLine = null;
				resolve(m[1].replace(/\/$/, ''));
			}
		};
		for (const l of stdoutLines) check(l);
		onLine = check;
		exitPromise.then((e) => {
			clearTimeout(timer);
			reject(new Error(`server exited (${e.code ?? e.signal}) before listening\n--- stdout\n${stdoutLines.join('\n')}\n--- stderr\n${stderr}`));
		});
	});

	const server = {
		...data,
		url,
		port,
		proc: child,
		stdoutLines,
		stderrText: () => stderr,
		exited: () => exited,
		/** Resolves {code, signal} when the process exits, or null after ms. */
		waitExit: (ms = 10_000) => within(exitPromise, ms),
		/** SIGTERM, then expects exit status 0 within timeoutMs. */
		async stop({ timeoutMs = 20_000, keep = false } = {}) {
			if (!exited) child.kill('SIGTERM');
			const res = await within(exitPromise, timeoutMs);
			if (!res) {
				child.kill('SIGKILL');
				await exitPromise;
				cleanup(data, keep);
				throw new Error(`server did not exit within ${timeoutMs} ms of SIGTERM\n--- stderr\n${stderr.slice(-4000)}`);
			}
			cleanup(data, keep);
			if (res.code !== 0)
				throw new Error(`server exited with ${res.code ?? res.signal} after SIGTERM (want 0)\n--- stderr\n${stderr.slice(-8000)}`);
			return res;
		},
		/** SIGKILL without checks (for tests that already failed). */
		kill() {
			if (!exited) child.kill('SIGKILL');
			cleanup(data, false);
		},
	};
	return server;
}

function cleanup(data, keep) {
	if (keep || process.env.MADO_TEST_KEEP) return;
	rmSync(data.dataDir, { recursive: true, force: true });
}

/** The SQLite database file of a data directory (the default db URL). */
export function sqlitePath(dataDir) {
	return path.join(dataDir, 'madoguchi.db');
}

/** Runs SQL on the server's database (sqlite3 CLI or psql); returns rows as text. */
export async function sql(server, statement) {
	if (server.dbUrl) return await psql(server.dbUrl, statement);
	const r = await run('sqlite3', ['-batch', '-noheader', '-cmd', '.timeout 5000', sqlitePath(server.dataDir), statement]);
	if (r.code !== 0) throw new Error(describeRun(`sqlite3 ${statement}`, r));
	return r.stdout;
}

/** Synchronous check that a command exists on PATH. */
export function haveCommand(cmd) {
	return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
