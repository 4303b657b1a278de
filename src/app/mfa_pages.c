/* The no-JavaScript pages where a signed-in resident (or member of staff)
 * turns on the TOTP second factor (確認コード) and registers a log-in
 * certificate. The work is done by the same account_* functions as the JSON
 * API (certlogin.c); this file only renders and redirects. */
#include <errno.h>
#include <qrencode.h>
#include <sodium.h>
#include <string.h>

#include "app/dispatch.h"
#include "app/pages.h"
#include "app/platform.h"
#include "app/render.h"
#include "auth/cert.h"
#include "auth/totp.h"
#include "common/buf.h"
#include "http/req_internal.h"

/* Room for a base32 secret of TOTP_KEY_MAX bytes, and for it in groups. */
#define B32_SIZE (8 * ((TOTP_KEY_MAX + 4) / 5) + 1)
#define URI_MAX 2048
/* Module count of the largest QR code (version 40) plus the quiet zones;
 * with one path command per run of dark modules the SVG stays far below. */
#define QR_QUIET 4
#define SVG_MAX (1u << 20)

static void unavailable(struct req *r, struct res *s)
{
	res_problem(r, s, 503, http_status_title_ja(503), NULL);
}

/* ---- 確認コード (TOTP) ---- */

static void page_totp(struct req *r, struct res *s)
{
	struct account acc;
	if (account_get(app_db(r), r->arena, r->who.lg_code, r->who.account_id, &acc) != 0) {
		unavailable(r, s);
		return;
	}
	json_t *ctx = json_object();
	json_object_set_new(ctx, "enabled", json_boolean(acc.totp_enabled));
	if (!acc.totp_enabled)
		json_object_set_new(ctx, "pending",
				    json_boolean(account_totp_pending(r, NULL, 0, NULL) == 0));
	page_render(r, s, 200, "me_totp", "確認コード（2段階認証）", "account", ctx);
}

static void page_totp_begin(struct req *r, struct res *s)
{
	int rc = account_totp_begin(r, NULL, 0, NULL);
	if (rc == -EALREADY) {
		res_redirect(r, s, "/me/totp");
		return;
	}
	if (rc != 0) {
		unavailable(r, s);
		return;
	}
	res_redirect(r, s, "/me/totp/setup");
}

/* "ABCD EFGH …" from "ABCDEFGH…", for typing into an app. */
static void group4(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; in[i] && o + 2 < outsz; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = in[i];
	}
	out[o] = '\0';
}

/* The setup page for the pending secret; errors (stolen, may be NULL) are
 * shown beside the code field. Without a pending secret, back to /me/totp. */
static void render_setup(struct req *r, struct res *s, int status, json_t *errors)
{
	char b32[B32_SIZE], grouped[B32_SIZE + B32_SIZE / 4 + 1];
	struct buf uri;
	buf_init(&uri, URI_MAX);
	int rc = account_totp_pending(r, b32, sizeof b32, &uri);
	if (rc == -ENOENT) {
		res_redirect(r, s, "/me/totp");
	} else if (rc != 0) {
		unavailable(r, s);
	} else {
		group4(b32, grouped, sizeof grouped);
		json_t *ctx = json_object();
		json_object_set_new(ctx, "secret_grouped", json_string(grouped));
		json_object_set_new(ctx, "otpauth_uri", json_string(buf_cstr(&uri)));
		if (errors && json_object_size(errors)) {
			json_object_set_new(ctx, "errors", errors);
			errors = NULL;
		}
		page_render(r, s, status, "me_totp_setup", "確認コードの設定", "account", ctx);
	}
	json_decref(errors);
	sodium_memzero(b32, sizeof b32);
	sodium_memzero(grouped, sizeof grouped);
	if (uri.p)
		sodium_memzero(uri.p, uri.len);
	buf_release(&uri);
}

static void page_totp_setup(struct req *r, struct res *s)
{
	render_setup(r, s, 200, NULL);
}

static void page_totp_confirm(struct req *r, struct res *s)
{
	const char *code = req_form(r, "code");
	int rc = account_totp_confirm(r, code && *code ? code : NULL);
	if (rc == 0) {
		res_redirect(r, s, "/me?totp=on");
		return;
	}
	if (rc == -ENOENT) {
		res_redirect(r, s, "/me/totp");
		return;
	}
	if (rc == -EIO) {
		unavailable(r, s);
		return;
	}
	const char *msg = !code || !*code ?
				  "認証アプリに表示されている6けたの数字を入力してください。" :
				  totp_message_ja(rc);
	render_setup(r, s, 400, json_pack("{s:s}", "code", msg));
}

/* The QR code as SVG: one <path> of the dark modules (runs along each row),
 * in module units, with a quiet zone of QR_QUIET modules. */
static int qr_svg(const QRcode *qr, struct buf *out)
{
	int w = qr->width, size = w + 2 * QR_QUIET;
	/* buf_* leave the buffer unchanged on failure: remember any */
	int rc = buf_printf(
		out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		"width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
		"<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		size, size, size * 4, size * 4, size, size);
	for (int y = 0; y < w; y++) {
		for (int x = 0; x < w;) {
			if (!(qr->data[y * w + x] & 1)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < w && (qr->data[y * w + x + run] & 1))
				run++;
			rc |= buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run,
					 run);
			x += run;
		}
	}
	rc |= buf_puts(out, "\"/></svg>\n");
	return rc ? -E2BIG : 0;
}

static void page_totp_qr(struct req *r, struct res *s)
{
	struct buf uri, svg;
	buf_init(&uri, URI_MAX);
	buf_init(&svg, SVG_MAX);
	QRcode *qr = NULL;
	int rc = account_totp_pending(r, NULL, 0, &uri);
	if (rc == -ENOENT) {
		res_problem(r, s, 404, http_status_title_ja(404), NULL);
		goto out;
	}
	if (rc != 0) {
		unavailable(r, s);
		goto out;
	}
	qr = QRcode_encodeString(buf_cstr(&uri), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr || qr_svg(qr, &svg) != 0) {
		res_problem(r, s, 500, http_status_title_ja(500), NULL);
		goto out;
	}
	res_text(r, s, 200, "image/svg+xml", buf_cstr(&svg), svg.len);
out:
	if (qr) {
		sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	if (uri.p)
		sodium_memzero(uri.p, uri.len);
	if (svg.p)
		sodium_memzero(svg.p, svg.len);
	buf_release(&uri);
	buf_release(&svg);
}

/* ---- log-in certificates ---- */

static void render_certs(struct req *r, struct res *s, int status, json_t *errors, const char *pem)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "certificates", me_certificates(r));
	json_object_set_new(ctx, "accepting", json_boolean(r->app->certs != NULL));
	json_object_set_new(ctx, "form", json_pack("{s:s}", "certificate", pem ? pem : ""));
	if (errors && json_object_size(errors))
		json_object_set_new(ctx, "errors", errors);
	else
		json_decref(errors);
	if (status == 200 && req_query(r, "added"))
		json_object_set_new(ctx, "notice", json_string("電子証明書を登録しました。"));
	page_render(r, s, status, "me_certificates", "ログイン用の電子証明書", "account", ctx);
}

static void page_certs(struct req *r, struct res *s)
{
	render_certs(r, s, 200, NULL, NULL);
}

static void page_certs_post(struct req *r, struct res *s)
{
	const char *pem = req_form(r, "certificate");
	struct cert_info info;
	int rc = account_cert_register(r, pem, &info);
	if (rc == 0) {
		res_redirect(r, s, "/me/certificates?added=1");
		return;
	}
	if (rc == -EIO) {
		unavailable(r, s);
		return;
	}
	/* what was pasted goes back into the field, unless it was too large */
	render_certs(r, s, 400, json_pack("{s:s}", "certificate", account_cert_message_ja(rc)),
		     pem && strlen(pem) <= CERT_INPUT_MAX ? pem : NULL);
}

const struct route mfa_routes[] = {
	{HTTP_GET, "/me/totp", page_totp, NULL, ROUTE_HTML, NULL},
	{HTTP_POST, "/me/totp", page_totp_begin, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me/totp/setup", page_totp_setup, NULL, ROUTE_HTML, NULL},
	{HTTP_POST, "/me/totp/confirm", page_totp_confirm, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me/totp/qr.svg", page_totp_qr, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me/certificates", page_certs, NULL, ROUTE_HTML, NULL},
	{HTTP_POST, "/me/certificates", page_certs_post, NULL, ROUTE_HTML, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};
