/* mkcerts: writes the standard test PKI (see certgen_make_set) into a
 * directory, and signs challenges with one of its keys, for the HTTP and
 * browser tests. Test tool only; it is never installed. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "certgen.h"

#define MSG_MAX (1024 * 1024)

static void usage(FILE *f)
{
	fputs("usage: mkcerts DIR\n"
	      "         write ca.pem/.key, leaf-rsa, leaf-ec, revoked, expired,\n"
	      "         other-ca, other-leaf (.pem/.key) and crl.pem into DIR\n"
	      "       mkcerts sign KEY.pem [--hex | --b64url]\n"
	      "         sign standard input with SHA-256 (RSA PKCS#1 v1.5 or ECDSA DER)\n"
	      "         and print the signature (base64 by default)\n",
	      f);
}

static int do_sign(const char *keypath, const char *format)
{
	static unsigned char msg[MSG_MAX + 1];
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	size_t n = fread(msg, 1, sizeof msg, stdin);
	EVP_PKEY *k = NULL;
	int rc = 1;

	if (ferror(stdin) || n > MSG_MAX) {
		fputs("mkcerts: cannot read the message (at most 1 MiB) from stdin\n", stderr);
		goto out;
	}
	if (!(k = certgen_read_key(keypath))) {
		fprintf(stderr, "mkcerts: cannot read private key %s\n", keypath);
		goto out;
	}
	if (certgen_sign(k, NULL, msg, n, sig, &siglen)) {
		fputs("mkcerts: signing failed\n", stderr);
		goto out;
	}
	if (format && strcmp(format, "--hex") == 0) {
		for (size_t i = 0; i < siglen; i++)
			printf("%02x", sig[i]);
		putchar('\n');
	} else {
		unsigned char b64[4 * (sizeof sig + 2) / 3 + 1];
		int len = EVP_EncodeBlock(b64, sig, (int)siglen);
		if (format && strcmp(format, "--b64url") == 0) {
			while (len > 0 && b64[len - 1] == '=')
				len--;
			for (int i = 0; i < len; i++)
				b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
		}
		printf("%.*s\n", len, (const char *)b64);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	EVP_PKEY_free(k);
	return rc;
}

int main(int argc, char **argv)
{
	char err[512];

	if (argc >= 3 && strcmp(argv[1], "sign") == 0) {
		if (argc > 4 || (argc == 4 && strcmp(argv[3], "--hex") != 0 &&
				 strcmp(argv[3], "--b64url") != 0)) {
			usage(stderr);
			return 2;
		}
		return do_sign(argv[2], argc == 4 ? argv[3] : NULL);
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkcerts: cannot create %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (certgen_make_set(argv[1], time(NULL), err, sizeof err) != 0) {
		fprintf(stderr, "mkcerts: %s\n", err);
		return 1;
	}
	return 0;
}
