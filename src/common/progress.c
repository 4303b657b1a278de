/* The importers' progress line (see progress.h): one format for the ABR,
 * corporate-number and resident imports and the demo populator, so that
 * they look alike on the terminal. */
#include "progress.h"

#include <time.h>

double progress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool progress_due(double *last)
{
	double t = progress_now();
	if (t - *last <= 0.1)
		return false;
	*last = t;
	return true;
}

int progress_pct(uint64_t done, uint64_t total)
{
	int pct = total ? (int)(done * 100 / total) : 0;
	return pct > 100 ? 100 : pct;
}

void progress_show(FILE *out, const char *label, int pct, uint64_t rows, double secs)
{
	char bar[21];
	for (int i = 0; i < 20; i++)
		bar[i] = i < pct / 5 ? '#' : '.';
	bar[20] = '\0';
	if (label)
		fprintf(out, "\r%-36.36s ", label);
	else
		fputc('\r', out);
	fprintf(out, "[%s] %3d%% %10llu rows %8.0f rows/s", bar, pct, (unsigned long long)rows,
		secs > 0 ? (double)rows / secs : 0.0);
	fflush(out);
}
