/* libFuzzer driver for the configuration parser: config_load_text on the
 * input, then the input split at NULs as command-line arguments (without
 * --config, which would read files). Every config must release cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	err[0] = '\0';
	if (config_load_text(&cfg, (const char *)data, size, "fuzz", err, sizeof err) < 0 &&
	    !err[0])
		abort();
	if (!cfg.listen || !cfg.data_dir || !cfg.db_url || !cfg.log_level)
		abort(); /* required strings can never be unset */
	if (cfg.port < 0 || cfg.port > 65535)
		abort();
	config_release(&cfg);

	/* as argv */
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)"serve";
	for (char *s = copy; s < copy + size && argc < 63; s += strlen(s) + 1) {
		if (strstr(s, "config"))
			goto out; /* would read a file named by the input */
		argv[argc++] = s;
	}
	argv[argc] = NULL;
	config_defaults(&cfg);
	config_from_args(&cfg, argc, argv, 1, err, sizeof err);
	config_release(&cfg);
out:
	free(copy);
	return 0;
}
