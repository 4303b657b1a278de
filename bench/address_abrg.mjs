#!/usr/bin/env node
// Runs the abr-geocoder peer (../shared/peers/abrg-peer.sh) on a file so that the inputs it
// crashes on do not lose the whole run. abr-geocoder 2.2.0 throws a TypeError in its
// kyoto-street-transform step for every 京都府 address when the local data has no 町字 rows
// for that municipality (oaza_cho undefined), which ends the process. Used by bench/address.sh.
//
// usage: node bench/address_abrg.mjs INPUT OUT_NDJSON COMMAND [ARG...]
//   COMMAND ARG... FILE geocodes FILE (the input, or a piece of it), e.g.
//   ../shared/peers/abrg-peer.sh, or node ../shared/peers/lib/abrg-geocode.js DATA_DIR
// 1. The whole file in one run. If that works, its output and timing line are kept as they are.
// 2. Otherwise: lines that name 京都 (not 東京都) are set aside; the rest runs as one piece
//    (split in halves again on a crash); set-aside lines run one per process. A line that
//    crashes alone gets {query:{input}, result:{match_level:"error", error:"abrg crashed"}}.
// Output is in input order. Timing line on stderr: addr_per_s = lines geocoded / summed
// geocode_s of the runs (process start and data loading excluded, as in a single run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const [input, outFile, peer, ...peerArgs] = process.argv.slice(2);
if (!peer || !input || !outFile) {
	console.error('usage: node bench/address_abrg.mjs INPUT OUT_NDJSON COMMAND [ARG...]');
	process.exit(2);
}
const lines = fs.readFileSync(input, 'utf8').replace(/\r/g, '').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mado-abrg-'));
const env = { ...process.env, ABRG_THREADS: process.env.ABRG_THREADS || '1' };

let runs = 0;
function run(idx) {
	const f = path.join(tmp, 'in.txt');
	fs.writeFileSync(f, idx.map(i => lines[i]).join('\n') + '\n');
	runs++;
	const r = spawnSync(peer, [...peerArgs, f], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
	const out = r.stdout ? r.stdout.split('\n').filter(Boolean) : [];
	const m = /geocode_s=([0-9.]+)/.exec(r.stderr || '');
	if (r.status !== 0 || out.length !== idx.length || !m) {
		const err = /([A-Za-z]*Error: [^\n]*)/.exec(r.stderr || '');
		return { ok: false, error: err ? err[1] : `exit ${r.status}` };
	}
	return { ok: true, out, s: parseFloat(m[1]), stderr: r.stderr };
}

const all = lines.map((_, i) => i);
const first = run(all);
if (first.ok) {
	fs.writeFileSync(outFile, first.out.join('\n') + '\n');
	process.stderr.write(first.stderr);
	fs.rmSync(tmp, { recursive: true, force: true });
	process.exit(0);
}
console.error(`[abrg-safe] the whole file crashed abrg (${first.error}); running it in pieces`);
const result = new Array(lines.length);
let seconds = 0, crashed = 0;
const errors = new Map();
function solve(idx, alone) {
	if (!idx.length) return;
	const r = idx.length === 1 || !alone ? run(idx) : { ok: false };
	if (r.ok) {
		idx.forEach((i, k) => { result[i] = r.out[k]; });
		seconds += r.s;
		return;
	}
	if (idx.length === 1) {
		result[idx[0]] = JSON.stringify({ query: { input: lines[idx[0]] }, result: { match_level: 'error', error: 'abrg crashed' } });
		crashed++;
		errors.set(r.error, (errors.get(r.error) || 0) + 1);
		return;
	}
	if (alone) { for (const i of idx) solve([i], true); return; }
	const h = Math.ceil(idx.length / 2);
	solve(idx.slice(0, h), false);
	solve(idx.slice(h), false);
}
const suspect = (s) => /京都/.test(s.replace(/東京都/g, ''));
solve(all.filter(i => !suspect(lines[i])), false);
solve(all.filter(i => suspect(lines[i])), true);
fs.writeFileSync(outFile, result.join('\n') + '\n');
fs.rmSync(tmp, { recursive: true, force: true });
const ok = lines.length - crashed;
for (const [e, c] of errors) console.error(`[abrg-safe] ${c} line(s) crashed abrg alone: ${e}`);
console.error(`[abrg] n=${lines.length} geocoded=${ok} crashed=${crashed} runs=${runs} geocode_s=${seconds.toFixed(2)} ` +
	`addr_per_s=${(ok / seconds).toFixed(1)}`);
