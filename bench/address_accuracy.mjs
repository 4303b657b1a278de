#!/usr/bin/env node
// Accuracy of address normalizers (madoguchi and the two peers) on the same inputs:
// the Geolonia test set (都道府県, 市区町村, 町字 agreement) and the 和歌山市 ABR samples
// of ../shared/peers/lib/make-sample.js (lg_code + machiaza_id agreement). Used by bench/address.sh.
//
// usage: node bench/address_accuracy.mjs [options] SET:RUNNER=NDJSON ...
//   SET is "tests" (the Geolonia CSV) or the name of a sample given with --expected.
//   RUNNER is madoguchi, abrg or geolonia; the layout of its output is detected per line:
//     madoguchi {input, pref, county, city, ward, oaza_cho, chome, koaza, lg_code, machiaza_id, match_level}
//     abrg      {query:{input}, result:{pref, county, city, ward, oaza_cho, chome, koaza, lg_code, ...}}
//     geolonia  {input, pref, city, town, level, lg_code, machiaza_id}
// options:
//   --tests CSV          the test set (default ../shared/data/address-tests/geolonia-addresses.csv)
//   --towns CSV          towns.csv (default ../shared/data/japanese-addresses/towns.csv)
//   --abr DIR            ABR zips, for mt_city/mt_town (default ../shared/data/abr)
//   --expected SET=TSV   an .expected.tsv of make-sample.js (repeatable)
//   --show N             town-level disagreements of madoguchi to print (default 30)
//   --show-runner NAME   print the disagreements of this runner instead
//   --json FILE          also write a JSON summary
//   --timing TSV         set, runner, n, addr_per_s lines (bench/address.sh): print the speed table
//
// Town (町字) comparison, applied to both sides (fold()): Unicode NFKC (width, half-width kana),
// whitespace, BOM and zero-width characters removed; ヶ/ヵ/ケ (and が/ガ between kanji, as in
// 八ヶ岳/八が岳) → ケ; a leading 大字 or 字 dropped; a kanji numeral before 丁目 → Arabic
// (二丁目 = ２丁目 = 2丁目). A runner's 町字 agrees when fold(expected) equals the fold of
// oaza_cho+chome, or of oaza_cho+chome+koaza, or oaza_cho+chome+"字"+koaza: the 小字 counts only
// when the expected 町字 names one. 市区町村 is county+city+ward (the test set writes 郡 names).
// "Town in data": fold(expected 町字) is one of the folded town names (town, town+koaza) that
// towns.csv or ABR mt_town hold for that prefecture and municipality.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '..', '..', 'shared');
const opt = {
	tests: path.join(shared, 'data/address-tests/geolonia-addresses.csv'),
	towns: path.join(shared, 'data/japanese-addresses/towns.csv'),
	abr: path.join(shared, 'data/abr'),
	peersLib: process.env.PEERS_LIB || path.join(shared, 'peers/lib'),
	expected: {},
	show: 30,
	showRunner: 'madoguchi',
	json: null,
	timing: null,
};
const specs = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const val = () => {
		if (i + 1 >= argv.length) usage(`${a} needs a value`);
		return argv[++i];
	};
	if (a === '--tests') opt.tests = val();
	else if (a === '--towns') opt.towns = val();
	else if (a === '--abr') opt.abr = val();
	else if (a === '--show') opt.show = parseInt(val(), 10) || 0;
	else if (a === '--show-runner') opt.showRunner = val();
	else if (a === '--json') opt.json = val();
	else if (a === '--timing') opt.timing = val();
	else if (a === '--expected') {
		const [k, f] = val().split(/=(.*)/s);
		if (!f) usage('--expected takes SET=TSV');
		opt.expected[k] = f;
	} else if (a === '-h' || a === '--help') usage();
	else {
		const m = a.match(/^([^:=]+):([^=]+)=(.+)$/s);
		if (!m) usage(`bad argument: ${a}`);
		specs.push({ set: m[1], runner: m[2], file: m[3] });
	}
}
if (!specs.length) usage('no SET:RUNNER=NDJSON given');

function usage(msg) {
	if (msg) console.error(`address_accuracy: ${msg}`);
	console.error('usage: node bench/address_accuracy.mjs [--tests CSV] [--towns CSV] [--abr DIR] ' +
		'[--expected SET=TSV]... [--show N] [--json FILE] SET:RUNNER=NDJSON...');
	process.exit(2);
}

// The peers' dependency-free zip and CSV reader (../shared/peers/lib/abrzip.js).
const require = createRequire(import.meta.url);
const { parseCsv, readZipCsv, listAbrZips } = require(path.join(opt.peersLib, 'abrzip.js'));

// ---- folding -------------------------------------------------------------------------
const KDIGIT = { '〇': 0, '零': 0, '一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9 };
const KUNIT = { '十': 10, '百': 100, '千': 1000 };
function kanjiNumber(s) {
	let total = 0, cur = 0, seen = false;
	for (const ch of s) {
		if (ch in KDIGIT) { cur = cur * 10 + KDIGIT[ch]; seen = true; }
		else if (ch in KUNIT) { total += (cur || 1) * KUNIT[ch]; cur = 0; seen = true; }
		else return null;
	}
	return seen ? total + cur : null;
}
const KANJI = '\\u3400-\\u9fff\\uf900-\\ufaff';
const reGa = new RegExp(`([${KANJI}])[がガ]([${KANJI}])`, 'gu');
function fold(s) {
	if (s === null || s === undefined) return '';
	s = String(s).normalize('NFKC');
	s = s.replace(/[\s\u200b-\u200d\u2060\ufeff]/gu, '');
	s = s.replace(/[ヶヵケ]/gu, 'ケ').replace(reGa, '$1ケ$2');
	s = s.replace(/^大?字/u, '');
	s = s.replace(/([〇零一二三四五六七八九十百千]+)丁目/gu, (m, k) => {
		const n = kanjiNumber(k);
		return n === null ? m : `${n}丁目`;
	});
	return s;
}
const cat = (...xs) => xs.map(x => x ?? '').join('');

// ---- reference data --------------------------------------------------------------------
function readCsvFile(file) {
	const rows = parseCsv(fs.readFileSync(file, 'utf8'));
	const header = rows.shift();
	return { header, rows: rows.filter(r => !(r.length === 1 && r[0] === '')) };
}

// folded "pref|municipality" -> Set of folded town names: all (towns.csv + ABR) and ABR only
// (the data the peers read)
function buildTownSet() {
	const set = new Map(), abrSet = new Map();
	const add = (m, pref, city, town) => {
		const k = `${fold(pref)}|${fold(city)}`;
		if (!m.has(k)) m.set(k, new Set());
		m.get(k).add(fold(town));
	};
	let fromTowns = 0, fromAbr = 0;
	if (fs.existsSync(opt.towns)) {
		const t = readCsvFile(opt.towns);
		const c = Object.fromEntries(t.header.map((h, k) => [h, k]));
		for (const r of t.rows) {
			add(set, r[c.pref], r[c.city], r[c.town]);
			if (r[c.koaza]) add(set, r[c.pref], r[c.city], r[c.town] + r[c.koaza]);
			fromTowns++;
		}
	} else console.error(`address_accuracy: ${opt.towns} not found; town set from ABR only`);
	if (fs.existsSync(opt.abr)) {
		for (const z of listAbrZips(opt.abr).filter(z => z.type === 'town')) {
			const t = readZipCsv(z.file);
			const c = t.col;
			for (const r of t.rows) {
				const city = cat(r[c.county], r[c.city], r[c.ward]);
				const base = cat(r[c.oaza_cho], r[c.chome]);
				for (const m of [set, abrSet]) {
					add(m, r[c.pref], city, base);
					if (r[c.koaza]) add(m, r[c.pref], city, base + r[c.koaza]);
				}
				fromAbr++;
			}
		}
	}
	return { set, abrSet, fromTowns, fromAbr };
}

// ---- runner outputs --------------------------------------------------------------------
// Normalizes one output line of any runner to {input, pref, city, towns[], lg, ma, level}.
function view(j) {
	if (j.query && j.result) { // abrg
		const r = j.result;
		const base = cat(r.oaza_cho, r.chome);
		return {
			input: j.query.input, pref: r.pref, city: cat(r.county, r.city, r.ward),
			towns: r.koaza ? [base, base + r.koaza, `${base}字${r.koaza}`] : [base],
			lg: r.lg_code || '', ma: r.machiaza_id || '', level: r.match_level,
		};
	}
	if ('oaza_cho' in j || 'match_level' in j) { // madoguchi
		const base = cat(j.oaza_cho, j.chome);
		return {
			input: j.input, pref: j.pref, city: cat(j.county, j.city, j.ward),
			towns: j.koaza ? [base, base + j.koaza, `${base}字${j.koaza}`] : [base],
			lg: j.lg_code || '', ma: j.machiaza_id || '', level: j.match_level,
		};
	}
	return { // geolonia
		input: j.input, pref: j.pref, city: j.city, towns: [j.town ?? ''],
		lg: j.lg_code || '', ma: j.machiaza_id || '', level: j.level,
	};
}

function readNdjson(file) {
	const text = fs.readFileSync(file, 'utf8');
	const out = [];
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		try { out.push(view(JSON.parse(line))); } catch (e) { out.push(null); }
	}
	return out;
}

// ---- scoring -----------------------------------------------------------------------------
const pct = (a, b) => (b ? (100 * a / b).toFixed(1) + '%' : '-');
const summary = { tests: {}, samples: {}, town_set: {} };
const lines = [];

const testSpecs = specs.filter(s => s.set === 'tests');
if (testSpecs.length) {
	const t = readCsvFile(opt.tests);
	const exp = t.rows.map(r => ({ input: r[0], pref: r[1], city: r[2], town: r[3] }));
	const ts = buildTownSet();
	summary.town_set = { towns_csv_rows: ts.fromTowns, abr_town_rows: ts.fromAbr };
	const has = (m, e) => !!e.town && !!m.get(`${fold(e.pref)}|${fold(e.city)}`)?.has(fold(e.town));
	const inData = exp.map(e => has(ts.set, e));
	const inAbr = exp.map(e => has(ts.abrSet, e));
	const nIn = inData.filter(Boolean).length, nAbr = inAbr.filter(Boolean).length;
	lines.push(`Geolonia test set: ${exp.length} addresses; the expected 町字 is in towns.csv or ABR mt_town for ${nIn}, ` +
		`in ABR mt_town (the peers' data) for ${nAbr}`);
	lines.push('');
	lines.push('| runner | rows | 都道府県 | 市区町村 | 町字 (all) | 町字 (town in data) | 町字 (town in ABR) |');
	lines.push('|---|---|---|---|---|---|---|');
	for (const s of testSpecs) {
		const got = readNdjson(s.file);
		let pref = 0, city = 0, town = 0, townIn = 0, townAbr = 0, bad = 0;
		const diffs = [];
		exp.forEach((e, i) => {
			const g = got[i];
			if (!g) { bad++; return; }
			const okP = fold(g.pref) === fold(e.pref);
			const okC = okP && fold(g.city) === fold(e.city);
			const want = fold(e.town);
			const okT = okC && g.towns.some(x => fold(x) === want);
			pref += okP; city += okC; town += okT;
			if (inData[i]) townIn += okT;
			if (inAbr[i]) townAbr += okT;
			if (!okT) diffs.push({
				input: e.input, in_data: inData[i],
				expected: `${e.pref} ${e.city} ${e.town}`,
				got: `${g.pref ?? ''} ${g.city ?? ''} ${g.towns[g.towns.length > 1 ? 1 : 0] ?? ''} (level ${g.level})`,
			});
		});
		if (got.length !== exp.length) lines.push(`(${s.runner}: ${got.length} output lines for ${exp.length} inputs)`);
		lines.push(`| ${s.runner} | ${got.length} | ${pref} (${pct(pref, exp.length)}) | ${city} (${pct(city, exp.length)}) | ` +
			`${town} (${pct(town, exp.length)}) | ${townIn}/${nIn} (${pct(townIn, nIn)}) | ${townAbr}/${nAbr} (${pct(townAbr, nAbr)}) |`);
		summary.tests[s.runner] = {
			n: exp.length, output_lines: got.length, unparsable: bad, pref, city, town,
			town_in_data_n: nIn, town_in_data: townIn, town_in_abr_n: nAbr, town_in_abr: townAbr,
			town_pct: +(100 * town / exp.length).toFixed(2), town_in_data_pct: +(100 * townIn / (nIn || 1)).toFixed(2),
			disagreements: diffs.length,
		};
		s.diffs = diffs;
	}
	const sel = testSpecs.find(s => s.runner === opt.showRunner);
	if (sel && opt.show > 0 && sel.diffs.length) {
		// disagreements on towns that are in the data first: those are the normalizer's to fix
		const ordered = [...sel.diffs.filter(d => d.in_data), ...sel.diffs.filter(d => !d.in_data)];
		lines.push('');
		lines.push(`${sel.runner}: first ${Math.min(opt.show, ordered.length)} of ${sel.diffs.length} town-level disagreements ` +
			`(${sel.diffs.filter(d => d.in_data).length} where the town is in the data; those first)`);
		for (const d of ordered.slice(0, opt.show))
			lines.push(`  ${d.in_data ? '*' : ' '} ${d.input}\n      expected ${d.expected}\n      got      ${d.got}`);
		summary.tests[sel.runner].first_disagreements = ordered.slice(0, opt.show);
	}
}

const sampleSets = [...new Set(specs.filter(s => s.set !== 'tests').map(s => s.set))];
if (sampleSets.length) {
	lines.push('');
	lines.push('| sample | runner | rows | lg_code | lg_code + machiaza_id | match levels |');
	lines.push('|---|---|---|---|---|---|');
}
for (const set of sampleSets) {
	const tsv = opt.expected[set];
	if (!tsv) { console.error(`address_accuracy: no --expected ${set}=TSV`); process.exit(2); }
	const exp = fs.readFileSync(tsv, 'utf8').trim().split('\n').slice(1).map(l => l.split('\t'));
	summary.samples[set] = {};
	for (const s of specs.filter(x => x.set === set)) {
		const got = readNdjson(s.file);
		let lg = 0, both = 0;
		const levels = {};
		const diffs = [];
		exp.forEach((e, i) => {
			const g = got[i];
			if (!g) return;
			const okL = g.lg === e[1];
			const okB = okL && g.ma === e[2];
			lg += okL; both += okB;
			levels[g.level] = (levels[g.level] || 0) + 1;
			if (!okB && diffs.length < 5) diffs.push(`${e[0]}: expected ${e[1]}/${e[2]}, got ${g.lg}/${g.ma}`);
		});
		lines.push(`| ${set} | ${s.runner} | ${got.length} | ${lg} (${pct(lg, exp.length)}) | ${both} (${pct(both, exp.length)}) | ` +
			`${Object.entries(levels).map(([k, v]) => `${k}:${v}`).join(' ')} |`);
		summary.samples[set][s.runner] = { n: exp.length, output_lines: got.length, lg_code: lg, lg_code_machiaza_id: both, levels, first_disagreements: diffs };
	}
}
for (const set of sampleSets) {
	for (const [runner, r] of Object.entries(summary.samples[set])) {
		if (r.first_disagreements.length) {
			lines.push(`  ${set}/${runner} differs, e.g.:`);
			for (const d of r.first_disagreements) lines.push(`    ${d}`);
		}
	}
}

// ---- headline: speed and accuracy per input set ----------------------------------------
if (opt.timing) {
	const rows = fs.readFileSync(opt.timing, 'utf8').trim().split('\n').slice(1).map(l => l.split('\t'));
	const sets = [...new Set(rows.map(r => r[0]))];
	const rate = {}, size = {};
	for (const [set, runner, n, r] of rows) {
		rate[`${set}|${runner}`] = r ? parseFloat(r) : NaN;
		size[set] = n;
	}
	summary.speed = rate;
	const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
	const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(0)}×` : '-');
	const acc = (set, runner) => {
		if (set === 'tests') {
			const t = summary.tests[runner];
			return t ? `${t.town_in_data_pct.toFixed(1)}%` : '-';
		}
		const t = summary.samples[set]?.[runner];
		return t ? `${(100 * t.lg_code_machiaza_id / t.n).toFixed(1)}%` : '-';
	};
	const order = ['madoguchi', 'abrg', 'abrg+towns', 'geolonia', 'geolonia+towns'];
	const present = new Set(rows.map(r => r[1]));
	const runners = [...order.filter(r => present.has(r)), ...[...present].filter(r => !order.includes(r))];
	const peersP = runners.filter(r => r !== 'madoguchi');
	const title = (r) => (r.startsWith('abrg') ? `${r} (1 thread)` : r);
	const cells = (xs) => xs.map(x => ` ${x} |`).join('');
	const head = [
		`| input | n |${cells(runners.map(r => `${title(r)} addr/s`))}${cells(peersP.map(r => `madoguchi/${r}`))} ` +
		`accuracy ${runners.join(' / ')} |`,
		`|---|---|${runners.map(() => '---|').join('')}${peersP.map(() => '---|').join('')}---|`,
	];
	const label = { rsdt: '和歌山市 住居表示 sample', parcel: '和歌山市 地番 sample', tests: 'Geolonia test set', big: 'large mixed input (madoguchi only)' };
	for (const set of sets) {
		const m = rate[`${set}|madoguchi`];
		const accs = set === 'big' ? '-' : runners.map(r => acc(set, r)).join(' / ');
		head.push(`| ${label[set] || set} | ${Number(size[set]).toLocaleString('en-US')} |` +
			`${cells(runners.map(r => fmt(rate[`${set}|${r}`])))}${cells(peersP.map(r => ratio(m, rate[`${set}|${r}`])))} ${accs} |`);
	}
	head.push('accuracy: samples = lg_code + machiaza_id of the ABR source row; test set = 町字 where the town is in towns.csv/ABR. ' +
		'+towns = the peer on the ABR data plus towns.csv (bench/address_{abrg,geolonia}_towns.mjs)');
	lines.unshift(...head, '');
}

console.log(lines.join('\n'));
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(summary, null, 2) + '\n');
