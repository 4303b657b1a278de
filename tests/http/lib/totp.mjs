// TOTP (RFC 6238) computed independently of the server, with node's crypto,
// so the tests can act as the resident's authenticator app.
import { createHmac } from 'node:crypto';

/** Decodes RFC 4648 base32 (padding and case ignored). */
export function base32Decode(s) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	const clean = s.toUpperCase().replace(/=+$/, '').replace(/\s+/g, '');
	let bits = 0;
	let value = 0;
	const out = [];
	for (const ch of clean) {
		const v = alphabet.indexOf(ch);
		if (v < 0) throw new Error(`not base32: ${s}`);
		value = (value << 5) | v;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

/** HOTP (RFC 4226) of key at counter, `digits` long, with HMAC-`algo`. */
export function hotp(key, counter, { digits = 6, algo = 'sha1' } = {}) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(counter));
	const h = createHmac(algo, key).update(msg).digest();
	const off = h[h.length - 1] & 0x0f;
	const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
	return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The TOTP time step of a Unix time in seconds. */
export function totpStep(unixSeconds, period = 30) {
	return Math.floor(unixSeconds / period);
}

/** TOTP code for a base32 secret at a Unix time (seconds). */
export function totp(secretB32, unixSeconds = Date.now() / 1000, { period = 30, digits = 6, algo = 'sha1' } = {}) {
	return hotp(base32Decode(secretB32), totpStep(unixSeconds, period), { digits, algo });
}

/** {secret, period, digits, algo} from an otpauth://totp/… URI. */
export function parseOtpauth(uri) {
	const u = new URL(uri);
	if (u.protocol !== 'otpauth:' || u.host !== 'totp') throw new Error(`not an otpauth TOTP URI: ${uri}`);
	const q = u.searchParams;
	return {
		secret: q.get('secret'),
		period: Number(q.get('period') ?? 30),
		digits: Number(q.get('digits') ?? 6),
		algo: (q.get('algorithm') ?? 'SHA1').toLowerCase(),
		issuer: q.get('issuer'),
		label: decodeURIComponent(u.pathname.replace(/^\//, '')),
	};
}

/** The resident's authenticator app for one secret ({secret, period, digits, algo}). */
export class Authenticator {
	constructor(otp) {
		this.otp = otp;
		this.lastStep = -1;
	}

	/**
	 * A code the server has not seen yet: the current step's code, after
	 * waiting for the next step when the current one was already used (a
	 * server may refuse a code twice, as RFC 6238 §5.2 recommends).
	 */
	async fresh() {
		const { period } = this.otp;
		let now = Date.now() / 1000;
		while (totpStep(now, period) <= this.lastStep) {
			await new Promise((done) => setTimeout(done, ((this.lastStep + 1) * period - now) * 1000 + 200));
			now = Date.now() / 1000;
		}
		this.lastStep = totpStep(now, period);
		return totp(this.otp.secret, now, this.otp);
	}

	/** A well-formed code that is wrong now (not in a ±2 step window). */
	wrong() {
		const { period, digits } = this.otp;
		const now = Date.now() / 1000;
		const near = new Set([-2, -1, 0, 1, 2].map((d) => totp(this.otp.secret, now + d * period, this.otp)));
		for (let i = 0; ; i++) {
			const c = String(123456 + i * 7919).slice(-digits).padStart(digits, '0');
			if (!near.has(c)) return c;
		}
	}
}
