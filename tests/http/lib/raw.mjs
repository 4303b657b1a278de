// Raw TCP exchanges for what fetch cannot send: slow clients, oversized
// headers, bodies the server refuses before reading, half-sent requests.
import net from 'node:net';

/** Joins the chunks of a chunked body (as far as it has arrived). */
function dechunk(buf) {
	const parts = [];
	let i = 0;
	while (i < buf.length) {
		const eol = buf.indexOf('\r\n', i);
		if (eol < 0) break;
		const n = parseInt(buf.subarray(i, eol).toString('latin1'), 16);
		if (!(n > 0)) break;
		parts.push(buf.subarray(eol + 2, eol + 2 + n));
		i = eol + 2 + n + 2;
	}
	return Buffer.concat(parts);
}

/** Parses the first HTTP response in buf: {status, headers, body} or null. */
export function parseResponse(buf) {
	const text = buf.toString('latin1');
	const end = text.indexOf('\r\n\r\n');
	if (end < 0) return null;
	const lines = text.slice(0, end).split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
	if (!m) return null;
	const headers = {};
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
	}
	const start = end + 4;
	let body = buf.subarray(start);
	let complete = false;
	if (headers['content-length'] !== undefined) {
		const n = Number(headers['content-length']);
		complete = body.length >= n;
		body = body.subarray(0, n);
	} else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
		const end2 = body.indexOf('\r\n0\r\n\r\n');
		complete = end2 >= 0 || body.subarray(0, 5).toString() === '0\r\n\r\n';
		body = Buffer.from(dechunk(body));
	}
	return { status: Number(m[1]), headers, body: body.toString('utf8'), complete };
}

/**
 * Opens a connection to 127.0.0.1:port and writes `steps` in order: a string
 * or Buffer is written, {delay: ms} waits, {until: 'response', max?: ms}
 * waits for a complete response (at most max ms). Finishes when the server closes the connection, when
 * opts.stopOnResponse and a complete response arrived, or after opts.timeout
 * ms. Returns {data, response, serverClosed, elapsed, writeError}.
 */
export function exchange(port, steps, { timeout = 10_000, stopOnResponse = false } = {}) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		const sock = net.connect({ host: '127.0.0.1', port });
		const chunks = [];
		let serverClosed = false;
		let writeError = null;
		let done = false;
		let responseWaiter = null;

		const finish = () => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			const data = Buffer.concat(chunks);
			resolve({ data, response: parseResponse(data), serverClosed, elapsed: Date.now() - t0, writeError });
		};
		const timer = setTimeout(finish, timeout);

		sock.on('data', (d) => {
			chunks.push(d);
			const r = parseResponse(Buffer.concat(chunks));
			if (r?.complete) {
				if (responseWaiter) responseWaiter();
				if (stopOnResponse) finish();
			}
		});
		sock.on('end', () => {
			serverClosed = true;
			finish();
		});
		sock.on('close', () => {
			serverClosed = true;
			finish();
		});
		sock.on('error', (e) => {
			// ECONNRESET/EPIPE: the server closed while we were still sending.
			writeError = e.code ?? e.message;
			serverClosed = true;
			finish();
		});

		sock.on('connect', async () => {
			for (const s of steps) {
				if (done) return;
				if (typeof s === 'string' || Buffer.isBuffer(s)) {
					// The callback runs once the bytes are handed to the kernel
					// (or with an error); if the socket dies first, this loop is
					// simply abandoned.
					await new Promise((res) => sock.write(s, () => res()));
				} else if (s.delay) {
					await new Promise((res) => setTimeout(res, s.delay));
				} else if (s.until === 'response') {
					if (!parseResponse(Buffer.concat(chunks))?.complete) {
						await new Promise((res) => {
							responseWaiter = res;
							if (s.max) setTimeout(res, s.max);
						});
					}
					responseWaiter = null;
				}
			}
		});
	});
}

/** One whole request on a fresh connection; resolves like exchange(). */
export function rawRequest(port, request, opts = {}) {
	return exchange(port, [request], { stopOnResponse: true, ...opts });
}
