/* main.c — nsm-codegen: env.json → env_table.gen.h.
 *
 * Owns: the command line, reading the input, writing the output (stdout, or
 * -o FILE replaced atomically) and the exit codes: 0 done, 1 bad input or
 * I/O failure (message on stderr, nothing on stdout, no FILE), 2 usage.
 * Must not: know the schema (parse.c) or the header layout (emit.c).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "emit.h"
#include "parse.h"
#include "spec.h"

#ifndef NSM_CODEGEN_VERSION
#define NSM_CODEGEN_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

struct args {
	const char *input;  /* path, or "-" for stdin */
	const char *output; /* NULL: stdout */
};

static const char usage_text[] =
    "usage: nsm-codegen [-o FILE] ENV_JSON\n"
    "       nsm-codegen --help | --version\n"
    "\n"
    "Reads ENV_JSON (\"-\" for stdin), validates it against docs/env-json.md and\n"
    "writes env_table.gen.h to stdout, or atomically to FILE with -o.\n"
    "Exit status: 0 done, 1 invalid input or I/O error, 2 usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nsm-codegen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	return -1;
}

/* Returns 1 when the program should stop with status 0 (--help, --version),
 * 0 to go on, -1 after a usage message. */
static int parse_args(int argc, char **argv, struct args *a)
{
	int i, only_operands = 0;

	a->input = NULL;
	a->output = NULL;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!only_operands && strcmp(s, "--") == 0) {
			only_operands = 1;
		} else if (!only_operands && (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0)) {
			fputs(usage_text, stdout);
			return 1;
		} else if (!only_operands && strcmp(s, "--version") == 0) {
			puts("nsm-codegen " NSM_CODEGEN_VERSION);
			return 1;
		} else if (!only_operands && strcmp(s, "-o") == 0) {
			if (i + 1 >= argc)
				return usage_error("%s needs a file name", s);
			if (a->output)
				return usage_error("%s given twice", s);
			a->output = argv[++i];
		} else if (!only_operands && s[0] == '-' && s[1] != '\0') {
			return usage_error("unknown option %s", s);
		} else if (a->input) {
			return usage_error("unexpected argument %s (one input only)", s);
		} else {
			a->input = s;
		}
	}
	if (!a->input)
		return usage_error("missing input (a path, or - for stdin)");
	return 0;
}

static int read_fd(int fd, const char *name, struct buf *b)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "nsm-codegen: reading %s: %s\n", name, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > CG_MAX_INPUT) {
			fprintf(stderr, "nsm-codegen: %s: larger than %u bytes\n", name,
			        CG_MAX_INPUT);
			return -1;
		}
		if (buf_append(b, chunk, (size_t)n) < 0) {
			fprintf(stderr, "nsm-codegen: reading %s: out of memory\n", name);
			return -1;
		}
	}
}

static int read_input(const char *path, struct buf *b)
{
	int fd, r;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, "stdin", b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nsm-codegen: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	r = read_fd(fd, path, b);
	close(fd);
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write to a temporary file beside path, then rename it over path, so that
 * readers (and make) see either the old file or the whole new one. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof ".XXXXXX");
	const char *step;
	int fd, saved;

	if (!tmp) {
		fprintf(stderr, "nsm-codegen: writing %s: out of memory\n", path);
		return -1;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", sizeof ".XXXXXX");
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "nsm-codegen: cannot create a temporary file beside %s: %s\n", path,
		        strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp makes 0600; a generated source is an ordinary readable file. */
	step = fchmod(fd, 0644) < 0           ? "fchmod"
	       : write_all(fd, data, len) < 0 ? "write"
	       : fsync(fd) < 0                ? "fsync"
	                                      : NULL;
	saved = errno;
	if (close(fd) < 0 && !step) {
		step = "close";
		saved = errno;
	}
	if (!step && rename(tmp, path) < 0) {
		step = "rename";
		saved = errno;
	}
	if (step) {
		fprintf(stderr, "nsm-codegen: writing %s: %s: %s\n", path, step, strerror(saved));
		unlink(tmp);
	}
	free(tmp);
	return step ? -1 : 0;
}

static int write_output(const struct args *a, const struct buf *out)
{
	if (a->output)
		return write_atomic(a->output, out->data, out->len);
	if (write_all(STDOUT_FILENO, out->data, out->len) < 0) {
		fprintf(stderr, "nsm-codegen: writing stdout: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Input is read, parsed and rendered in full before a byte is written. */
static int run(const struct args *a)
{
	struct buf in, out;
	struct cg_doc doc;
	struct cg_err e;
	int r = -1;

	buf_init(&in);
	buf_init(&out);
	if (read_input(a->input, &in) < 0)
		goto done;
	if (buf_append(&in, "", 1) < 0) {
		fputs("nsm-codegen: out of memory\n", stderr);
		goto done;
	}
	if (cg_parse(in.data, in.len - 1, &doc, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		goto done;
	}
	if (cg_emit(&doc.spec, &out, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	else
		r = write_output(a, &out);
	cg_doc_free(&doc);
done:
	buf_free(&in);
	buf_free(&out);
	return r;
}

int main(int argc, char **argv)
{
	struct args a;
	int r = parse_args(argc, argv, &a);

	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	return run(&a) < 0 ? EXIT_INPUT : EXIT_OK;
}
