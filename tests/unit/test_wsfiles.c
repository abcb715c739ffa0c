/* Unit tests for csrc/wsfiles.c and csrc/base64.c, on a temporary directory
 * standing in for a sandbox's /workspace. As root the module acts as the
 * sandbox's host ids (65534), so the directory is made theirs, as the
 * sandbox's own tmpfs is. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "jail.h"
#include "tap.h"
#include "wsfiles.h"

static char root[64];

/* Run a shell command with each %s replaced by the directory. */
static int sh(const char *tmpl)
{
	char cmd[1024];
	size_t k = 0;
	for (const char *p = tmpl; *p && k + sizeof root < sizeof cmd; p++) {
		if (p[0] == '%' && p[1] == 's') {
			k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s", root);
			p++;
		} else {
			cmd[k++] = *p;
		}
	}
	cmd[k] = '\0';
	return system(cmd);
}

static int write_inputs(int ws, const char *path, const char *data, size_t len, struct err *e)
{
	struct ws_input in = { (char *)path, (char *)data, len };
	struct ws_inputs ins = { &in, 1, len };
	return ws_write_inputs(ws, &ins, NULL, NULL, e);
}

static const struct ws_out *find(const struct ws_outputs *o, const char *path)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].path, path))
			return &o->v[i];
	return NULL;
}

static void test_base64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
		                             "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (int i = 0; i < 7; i++) {
		char *c = base64_encode(plain[i], strlen(plain[i]));
		size_t n = 99;
		char *d = base64_decode(coded[i], strlen(coded[i]), &n);
		TAP_OK(c && !strcmp(c, coded[i]) && d && n == strlen(plain[i]) &&
		           !memcmp(d, plain[i], n),
		       "base64 of \"%s\" both ways (RFC 4648 test vector)", plain[i]);
		free(c);
		free(d);
	}
	static const char *const bad[] = { "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=", "Zm=v" };
	for (int i = 0; i < 6; i++) {
		size_t n;
		char *d = base64_decode(bad[i], strlen(bad[i]), &n);
		TAP_OK(!d && errno == EINVAL, "\"%s\" is not base64", bad[i]);
		free(d);
	}
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	char *c = base64_encode(all, 256);
	size_t n = 0;
	char *d = c ? base64_decode(c, strlen(c), &n) : NULL;
	TAP_OK(d && n == 256 && !memcmp(d, all, 256), "every byte value survives a round trip");
	free(c);
	free(d);
}

static void test_paths(void)
{
	static const char *const good[] = { "a",   "data.csv", "dir/sub/x.txt",
		                            "...", ".hidden",  "a..b" };
	for (int i = 0; i < 6; i++)
		TAP_OK(!ws_path_problem(good[i]), "path \"%s\" is accepted", good[i]);
	static const char *const bad[] = { "",  "/etc/passwd", "..", "../x", "a/../b", "a/./b",
		                           ".", "a//b",        "a/", "a\nb", "a\x7f" };
	for (int i = 0; i < 11; i++)
		TAP_OK(ws_path_problem(bad[i]) != NULL, "path \"%s\" is refused (%s)", bad[i],
		       ws_path_problem(bad[i]) ? ws_path_problem(bad[i]) : "accepted!");
	char longp[WS_PATH_MAX + 2];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	TAP_OK(ws_path_problem(longp) != NULL, "a path of %d bytes is refused", WS_PATH_MAX + 1);
	char longc[300];
	memset(longc, 'b', sizeof longc - 1);
	longc[sizeof longc - 1] = '\0';
	TAP_OK(ws_path_problem(longc) != NULL, "a component of 299 bytes is refused");
}

static void test_write(int ws)
{
	struct err e = { 0 };
	char buf[64] = "";
	TAP_OK(write_inputs(ws, "d1/d2/in.txt", "hello", 5, &e) == 0,
	       "a file in new directories is written (%s)", e.msg);
	int fd = openat(ws, "d1/d2/in.txt", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
	struct stat st;
	TAP_OK(n == 5 && !memcmp(buf, "hello", 5) && fstat(fd, &st) == 0 &&
	           st.st_uid == (geteuid() == 0 ? JAIL_ROOT_HOST_ID : geteuid()),
	       "its content is there, owned by the sandbox user");
	if (fd >= 0)
		close(fd);
	TAP_OK(write_inputs(ws, "d1/d2/in.txt", "hi", 2, &e) == 0, "an existing file is replaced");
	fd = openat(ws, "d1/d2/in.txt", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
	TAP_OK(n == 2, "... and truncated to the new content");
	if (fd >= 0)
		close(fd);

	sh("ln -s /etc %s/link");
	TAP_OK(write_inputs(ws, "link/passwd-nsm-test", "x", 1, &e) < 0 &&
	           strstr(e.msg, "symbolic link"),
	       "a symbolic link to a directory on the path is refused: %s", e.msg);
	TAP_OK(access("/etc/passwd-nsm-test", F_OK) < 0, "... and nothing was written through it");
	sh("ln -s /tmp/nsm-wsfiles-target %s/flink");
	TAP_OK(write_inputs(ws, "flink", "x", 1, &e) < 0 && strstr(e.msg, "symbolic link"),
	       "a symbolic link as the file itself is refused: %s", e.msg);
	TAP_OK(access("/tmp/nsm-wsfiles-target", F_OK) < 0,
	       "... and its dangling target was not created");
	sh("mkfifo %s/fifo && chmod 666 %s/fifo");
	TAP_OK(write_inputs(ws, "fifo", "x", 1, &e) < 0, "a FIFO is refused without blocking: %s",
	       e.msg);
	sh("mkdir %s/adir");
	TAP_OK(write_inputs(ws, "adir", "x", 1, &e) < 0, "a directory is refused: %s", e.msg);
	if (geteuid() == 0) {
		sh("mkdir %s/rootonly && chmod 700 %s/rootonly");
		TAP_OK(write_inputs(ws, "rootonly/x", "x", 1, &e) < 0,
		       "as root, a directory the sandbox user cannot write is not written: %s",
		       e.msg);
	}
}

static void test_collect(int ws)
{
	struct err e = { 0 };
	struct ws_outputs o;
	TAP_OK(ws_collect(ws, NULL, false, &o, &e) == 0 && o.n == 0, "no out/ directory: no files");
	ws_outputs_free(&o);
	sh("mkdir -p %s/out/sub && printf '\\211PNG\\r\\n\\032\\nrest' > %s/out/p.png");
	sh("printf 'a,b\\n1,2\\n' > %s/out/t.csv; printf 'x\\000y' > %s/out/b.bin");
	sh("head -c 70000 /dev/zero > %s/out/sub/big.txt; ln -s /etc/passwd %s/out/l");
	sh("chown -R 65534:65534 %s/out");
	TAP_OK(ws_collect(ws, NULL, false, &o, &e) == 0 && o.n == 5,
	       "five entries under out/ (%zu)", o.n);
	const struct ws_out *f = find(&o, "p.png");
	TAP_OK(f && f->kind == WS_IMAGE && !strcmp(f->mime, "image/png") && f->len == 12,
	       "a PNG (by its first bytes) is an image");
	f = find(&o, "t.csv");
	TAP_OK(f && f->kind == WS_TEXT && !strcmp(f->mime, "text/csv") && f->len == 8,
	       "a CSV is text/csv text");
	f = find(&o, "b.bin");
	TAP_OK(f && f->kind == WS_BLOB && f->len == 3, "bytes that are not UTF-8 are a blob");
	f = find(&o, "sub/big.txt");
	TAP_OK(f && f->kind == WS_OMITTED && f->size == 70000 && !f->data,
	       "a one-shot text file over %u bytes is omitted, with its size", WS_INLINE_MAX);
	f = find(&o, "l");
	TAP_OK(f && f->kind == WS_OMITTED && f->why && strstr(f->why, "symbolic link"),
	       "a symbolic link is listed, not followed");
	ws_outputs_free(&o);

	struct ws_seen seen = { 0 };
	TAP_OK(ws_collect(ws, &seen, true, &o, &e) == 0 && find(&o, "sub/big.txt") &&
	           find(&o, "sub/big.txt")->kind == WS_LINK,
	       "in a session, the large file is a link");
	ws_outputs_free(&o);
	TAP_OK(ws_collect(ws, &seen, true, &o, &e) == 0 && o.n == 0,
	       "nothing changed: nothing returned");
	ws_outputs_free(&o);
	sh("printf new > %s/out/t.csv; touch %s/out/n.txt; chown 65534:65534 %s/out/n.txt");
	TAP_OK(ws_collect(ws, &seen, true, &o, &e) == 0 && o.n == 2 && find(&o, "t.csv") &&
	           find(&o, "n.txt"),
	       "a changed and a new file are returned, the rest not (%zu)", o.n);
	ws_outputs_free(&o);

	char *data = NULL;
	size_t len = 0;
	uint64_t size = 0;
	const char *mime = NULL;
	TAP_OK(ws_read_out(ws, "sub/big.txt", 1u << 20, &data, &len, &size, &mime, &e) == 0 &&
	           len == 70000 && size == 70000,
	       "a kept file reads back whole");
	free(data);
	data = NULL;
	TAP_OK(ws_read_out(ws, "l", 1u << 20, &data, &len, &size, &mime, &e) < 0,
	       "reading the link is refused: %s", e.msg);
	TAP_OK(ws_read_out(ws, "../d1/d2/in.txt", 1u << 20, &data, &len, &size, &mime, &e) < 0,
	       "reading outside out/ is refused: %s", e.msg);

	/* Bounds: many files, deep directories, a byte budget. */
	sh("cd %s/out && for i in $(seq 1 80); do echo $i > f$i.txt; done; mkdir -p "
	   "a/b/c/d/e/f/g/h/i/j && echo deep > a/b/c/d/e/f/g/h/i/j/x; chown -R 65534:65534 .");
	TAP_OK(ws_collect(ws, NULL, false, &o, &e) == 0 && o.n == WS_OUT_MAX_FILES &&
	           o.not_listed > 0,
	       "at most %u files are looked at; the rest are counted (%zu, %zu)", WS_OUT_MAX_FILES,
	       o.n, o.not_listed);
	ws_outputs_free(&o);
	sh("rm -rf %s/out && mkdir -p %s/out");
	sh("cd %s/out && for i in 1 2 3 4 5; do head -c 1000000 /dev/zero | tr '\\000' x > "
	   "t$i.png; printf '\\211PNG\\r\\n\\032\\n' | dd of=t$i.png conv=notrunc 2>/dev/null; "
	   "done; chown -R 65534:65534 .");
	TAP_OK(ws_collect(ws, NULL, false, &o, &e) == 0 && o.n == 5 &&
	           o.returned <= WS_OUT_RETURN_MAX,
	       "five 1 MB images: at most %u bytes returned (%zu)", WS_OUT_RETURN_MAX, o.returned);
	size_t images = 0, omitted = 0;
	for (size_t i = 0; i < o.n; i++) {
		images += o.v[i].kind == WS_IMAGE;
		omitted += o.v[i].kind == WS_OMITTED;
	}
	TAP_OK(images == 4 && omitted == 1, "four come back, the fifth is listed as omitted");
	ws_outputs_free(&o);
	ws_seen_free(&seen);
}

int main(void)
{
	test_base64();
	test_paths();
	snprintf(root, sizeof root, "/tmp/nsm-wsfiles.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	if (geteuid() == 0 && chown(root, JAIL_ROOT_HOST_ID, JAIL_ROOT_HOST_ID) < 0)
		return 1;
	int ws = open(root, O_RDONLY | O_DIRECTORY);
	test_write(ws);
	test_collect(ws);
	close(ws);
	sh("rm -rf %s");
	return TAP_DONE();
}
