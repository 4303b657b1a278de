/* `madoguchi address normalize`: one address per line in, one result per
 * line (or a JSON array, a CSV table, a GeoJSON FeatureCollection) out, in
 * input order, on one core. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address/addr_internal.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flush(struct buf *out)
{
	if (out->len && fwrite(out->p, 1, out->len, stdout) != out->len)
		return -1;
	buf_reset(out);
	return 0;
}

int addr_cli_normalize(struct app *app, const char *path, enum addr_format fmt, bool timing)
{
	FILE *in = stdin;
	if (path && strcmp(path, "-") != 0) {
		in = fopen(path, "rb");
		if (!in) {
			fprintf(stderr, "madoguchi: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	double t0 = now_s();
	struct addr_index *ix = NULL;
	struct addr_index_stats ist;
	char err[512];
	struct db_conn *c = db_acquire(app->db);
	int rc = addr_index_load(c, &ix, &ist, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		fprintf(stderr, "madoguchi: %s\n", err);
		if (in != stdin)
			fclose(in);
		return 1;
	}
	double t1 = now_s();
	FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
	struct addr_work *w = addr_work_new();
	struct buf out;
	buf_init(&out, (size_t)1 << 24);
	if (fmt == ADDR_FMT_JSON)
		buf_puts(&out, "[");
	else if (fmt == ADDR_FMT_GEOJSON)
		buf_puts(&out, "{\"type\":\"FeatureCollection\",\"features\":[");
	else if (fmt == ADDR_FMT_CSV)
		addr_csv_header(&out);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t count = 0, errors = 0;
	double last = t1;
	int status = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		struct addr_result r;
		addr_normalize(ix, w, line, len, &r);
		errors += r.level == ADDR_ERROR;
		if (count && (fmt == ADDR_FMT_JSON || fmt == ADDR_FMT_GEOJSON))
			buf_putc(&out, ',');
		int wr = fmt == ADDR_FMT_CSV     ? addr_result_csv(&out, line, len, &r) :
			 fmt == ADDR_FMT_GEOJSON ? addr_result_feature(&out, line, len, &r) :
						   addr_result_json(&out, line, len, &r);
		if (wr == 0 && fmt == ADDR_FMT_NDJSON)
			wr = buf_putc(&out, '\n');
		if (wr != 0) {
			fprintf(stderr, "madoguchi: line %llu: result too large\n",
				(unsigned long long)count + 1);
			status = 1;
			break;
		}
		count++;
		if (out.len > ((size_t)1 << 20) && flush(&out) != 0) {
			fprintf(stderr, "madoguchi: writing the output failed: %s\n",
				strerror(errno));
			status = 1;
			break;
		}
		if (progress && (count & 0x3FFF) == 0) {
			double t = now_s();
			if (t - last > 0.2) {
				fprintf(progress, "\r%12llu addresses %10.0f addr/s",
					(unsigned long long)count, (double)count / (t - t1));
				fflush(progress);
				last = t;
			}
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "madoguchi: reading the input failed: %s\n", strerror(errno));
		status = 1;
	}
	if (fmt == ADDR_FMT_JSON)
		buf_puts(&out, "]\n");
	else if (fmt == ADDR_FMT_GEOJSON)
		buf_puts(&out, "]}\n");
	if (flush(&out) != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "madoguchi: writing the output failed: %s\n", strerror(errno));
		status = 1;
	}
	double t2 = now_s();
	if (progress && count >= 0x4000)
		fputc('\n', progress);
	if (timing)
		fprintf(stderr,
			"[madoguchi] n=%llu errors=%llu load_s=%.3f normalize_s=%.3f "
			"addr_per_s=%.0f towns=%zu residences=%zu parcels=%zu index_mb=%.1f\n",
			(unsigned long long)count, (unsigned long long)errors, t1 - t0, t2 - t1,
			t2 > t1 ? (double)count / (t2 - t1) : 0.0, ist.towns, ist.residences,
			ist.parcels, (double)ist.memory_bytes / 1048576.0);
	free(line);
	buf_release(&out);
	addr_work_free(w);
	addr_index_free(ix);
	if (in != stdin)
		fclose(in);
	return status;
}
