/* reslimits.c — cgroup v2 per run where delegated, rlimits otherwise.
 *
 * Owns: detection of a usable cgroup v2 subtree, the per-run group and the
 * child's rlimits. Must not: spawn, signal anything but through cgroup.kill,
 * or leave a group behind (limits_cg_destroy is called on every path).
 *
 * Detection (start-up): the cgroup2 mount from /proc/self/mountinfo, our
 * group from the "0::" line of /proc/self/cgroup, "memory" and "pids" in its
 * cgroup.controllers. To hand them to children they must be in our
 * cgroup.subtree_control; the kernel refuses that (EBUSY, "no internal
 * processes") while processes sit in the group itself, so like crun/podman
 * we move ourselves into a leaf "server" child first. A probe group must then
 * be creatable. Anything failing → rlimits, and we say so.
 *
 * Fallback: RLIMIT_DATA (not RLIMIT_AS: V8 reserves its code range and cages
 * up front, node aborts at start-up under RLIMIT_AS=512M; measured, see
 * tests/jail) and RLIMIT_NPROC. Since Linux 5.14 RLIMIT_NPROC counts the
 * processes of the uid *in its user namespace* (ucounts), and every sandbox
 * has its own user namespace, so one sandbox's fork bomb does not eat
 * another's budget; the sandbox init counts too, hence +1.
 */
#include "reslimits.h"
#include "env.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static enum limits_mode mode = LIMITS_RLIMIT;

/* snprintf that reports truncation (-1) instead of warning about it. */
static int sfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
static char cg_base[400];  /* group under which runs get their groups */
static char cg1_mem[400];  /* v1: the server's parent group in the memory hierarchy */
static char cg1_pids[400]; /* v1: ... and in the pids hierarchy */
static bool cg1_memsw;     /* v1: memory.memsw.* exists (swap accounting) */
static char cg_reason[256] = "not checked";
static unsigned long cg_seq; /* (one writer: the spawner thread; atomic all the same) */

enum limits_mode limits_mode(void)
{
	return mode;
}

const char *limits_describe(void)
{
	switch (mode) {
	case LIMITS_CGROUP2:
		return "cgroup v2 (memory.max + memory.swap.max=0 and pids.max per sandbox), "
		       "rlimits (RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_CORE=0)";
	case LIMITS_CGROUP1:
		return cg1_memsw
		           ? "cgroup v1 (memory.limit_in_bytes + memory.memsw.limit_in_bytes and "
		             "pids.max per "
		             "sandbox), rlimits (RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK, "
		             "RLIMIT_CORE=0)"
		           : "cgroup v1 (memory.limit_in_bytes, no swap accounting, and pids.max "
		             "per sandbox), "
		             "rlimits (RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_CORE=0)";
	case LIMITS_RLIMIT:
		break;
	}
	return "rlimits (RLIMIT_DATA per process, RLIMIT_NPROC per sandbox user namespace, "
	       "RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_CORE=0); no usable cgroup";
}

static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '+') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return 1;
	return 0;
}

/* Mount point of a cgroup file system, from mountinfo: fstype "cgroup2", or
 * "cgroup" (v1) whose super options name `controller`. */
static int find_cgroup_mount(const char *fstype, const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = 0;
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - ");
		char type[32], opts[1024];
		if (!sep || sscanf(sep + 3, "%31s %*s %1023s", type, opts) != 2 ||
		    strcmp(type, fstype) != 0)
			continue;
		bool has = !controller;
		/* super options: rw,memory / rw,nosuid,...,pids */
		for (char *t = strtok(opts, ","); t && !has; t = strtok(NULL, ","))
			has = strcmp(t, controller) == 0;
		char *mnt = has ? fs_mountinfo_point(line) : NULL;
		/* mountinfo escapes spaces as \040: such a path is not worth
		 * supporting. */
		if (mnt && !strchr(mnt, '\\') && strlen(mnt) < len) {
			sfmt(out, len, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static void remove_stale(const char *dir);

static int detect(void)
{
	char mnt[256], buf[4096], path[512], own[300] = "";
	char *p;

	if (find_cgroup_mount("cgroup2", NULL, mnt, sizeof mnt) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "no cgroup2 file system mounted");
		return -1;
	}
	if (fs_read_small("/proc/self/cgroup", buf, sizeof buf) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "cannot read /proc/self/cgroup");
		return -1;
	}
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "0::", 3) == 0) {
			size_t n = strcspn(p + 3, "\n");
			if (n >= sizeof own)
				break;
			memcpy(own, p + 3, n);
			own[n] = '\0';
			break;
		}
	if (!own[0]) {
		sfmt(cg_reason, sizeof cg_reason, "not in a cgroup v2 group (hybrid or v1 host)");
		return -1;
	}
	if (sfmt(cg_base, sizeof cg_base, "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "cgroup path too long");
		return -1;
	}
	sfmt(path, sizeof path, "%s/cgroup.controllers", cg_base);
	if (fs_read_small(path, buf, sizeof buf) < 0 || !has_word(buf, "memory") ||
	    !has_word(buf, "pids")) {
		sfmt(cg_reason, sizeof cg_reason,
		     "memory and pids controllers not available in %.200s (delegate them, "
		     "e.g. systemd Delegate=yes)",
		     cg_base);
		return -1;
	}
	sfmt(path, sizeof path, "%s/cgroup.subtree_control", cg_base);
	if (fs_read_small(path, buf, sizeof buf) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "cannot read %.200s", path);
		return -1;
	}
	if (!has_word(buf, "memory") || !has_word(buf, "pids")) {
		if (fs_write_str_at(AT_FDCWD, path, "+memory +pids") < 0 && errno == EBUSY) {
			/* "No internal processes": move ourselves to a leaf first. */
			char leaf[512], pid[32];
			sfmt(leaf, sizeof leaf, "%s/nsm-server", cg_base);
			if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
				sfmt(cg_reason, sizeof cg_reason, "mkdir %.200s: %s", leaf,
				     strerror(errno));
				return -1;
			}
			sfmt(leaf, sizeof leaf, "%s/nsm-server/cgroup.procs", cg_base);
			sfmt(pid, sizeof pid, "%d", (int)getpid());
			if (fs_write_str_at(AT_FDCWD, leaf, pid) < 0) {
				sfmt(cg_reason, sizeof cg_reason,
				     "cannot move the server into %.200s: %s", leaf,
				     strerror(errno));
				return -1;
			}
			if (fs_write_str_at(AT_FDCWD, path, "+memory +pids") < 0) {
				sfmt(cg_reason, sizeof cg_reason,
				     "enable controllers in %.200s: %s", path, strerror(errno));
				return -1;
			}
		} else if (fs_read_small(path, buf, sizeof buf) < 0 || !has_word(buf, "memory") ||
		           !has_word(buf, "pids")) {
			sfmt(cg_reason, sizeof cg_reason, "cannot enable memory,pids in %.200s: %s",
			     path, strerror(errno));
			return -1;
		}
	}
	remove_stale(cg_base);
	/* Probe: a child group with the files we write. */
	sfmt(path, sizeof path, "%s/nsm-probe-%d", cg_base, (int)getpid());
	if (mkdir(path, 0755) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "cannot create groups in %.200s: %s", cg_base,
		     strerror(errno));
		return -1;
	}
	char f[600];
	sfmt(f, sizeof f, "%s/memory.max", path);
	int ok = access(f, W_OK) == 0;
	sfmt(f, sizeof f, "%s/pids.max", path);
	ok = ok && access(f, W_OK) == 0;
	rmdir(path);
	if (!ok) {
		sfmt(cg_reason, sizeof cg_reason, "memory.max/pids.max not writable under %.200s",
		     cg_base);
		return -1;
	}
	sfmt(cg_reason, sizeof cg_reason, "delegated: %.200s", cg_base);
	return 0;
}

/* The server's own group in a v1 hierarchy ("N:controller:/path"). */
static int own_cgroup1(const char *controller, char *out, size_t len)
{
	char buf[4096];
	if (fs_read_small("/proc/self/cgroup", buf, sizeof buf) < 0)
		return -1;
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *c = strchr(p, ':');
		char *d = c ? strchr(c + 1, ':') : NULL;
		if (!d)
			continue;
		size_t n = strcspn(d + 1, "\n");
		bool match = false;
		for (char *q = c + 1; q < d;) { /* "cpu,cpuacct" lists */
			size_t w = strcspn(q, ",:");
			if (w == strlen(controller) && strncmp(q, controller, w) == 0)
				match = true;
			q += w + 1;
		}
		if (match && n < len) {
			memcpy(out, d + 1, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Groups a server that was killed (SIGKILL: no limits_fini) left in dir:
 * nix-sandbox-mcp-PID with PID gone. Their sandboxes died with that server
 * (parent-death signal, their own deadline), so the groups are empty. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	if (!d)
		return;
	while ((ent = readdir(d))) {
		char path[1024], sub[1200], proc[64];
		int pid;
		unsigned long seq;
		/* v2: sandbox-PID-N directly under the server's group */
		if (sscanf(ent->d_name, "sandbox-%d-%lu", &pid, &seq) == 2 && pid > 0) {
			sfmt(proc, sizeof proc, "/proc/%d", pid);
			if (access(proc, F_OK) < 0 &&
			    sfmt(path, sizeof path, "%s/%s", dir, ent->d_name) >= 0 &&
			    rmdir(path) == 0)
				log_msg(LOG_INFO,
				        "cgroup: removed %s, left by a server that is gone", path);
			continue;
		}
		if (sscanf(ent->d_name, "nix-sandbox-mcp-%d", &pid) != 1 || pid <= 0)
			continue;
		sfmt(proc, sizeof proc, "/proc/%d", pid);
		if (access(proc, F_OK) == 0 ||
		    sfmt(path, sizeof path, "%s/%s", dir, ent->d_name) < 0)
			continue;
		DIR *g = opendir(path);
		struct dirent *c;
		while (g && (c = readdir(g)))
			if (strncmp(c->d_name, "sandbox-", 8) == 0 &&
			    sfmt(sub, sizeof sub, "%s/%s", path, c->d_name) >= 0)
				rmdir(sub);
		if (g)
			closedir(g);
		if (rmdir(path) == 0)
			log_msg(LOG_INFO, "cgroup: removed %s, left by a server that is gone",
			        path);
	}
	closedir(d);
}

/* v1: the server's parent group "nix-sandbox-mcp-PID" under its own group
 * in the hierarchy of controller (never at the hierarchy's root itself). */
static int cgroup1_parent(const char *controller, char *out, size_t len)
{
	char mnt[256], own[300];
	if (find_cgroup_mount("cgroup", controller, mnt, sizeof mnt) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "no cgroup v1 %s hierarchy mounted", controller);
		return -1;
	}
	if (own_cgroup1(controller, own, sizeof own) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "not in a cgroup v1 %s group", controller);
		return -1;
	}
	char dir[700];
	if (sfmt(dir, sizeof dir, "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own) >= 0)
		remove_stale(dir);
	if (sfmt(out, len, "%s%s/nix-sandbox-mcp-%d", mnt, strcmp(own, "/") == 0 ? "" : own,
	         (int)getpid()) < 0) {
		sfmt(cg_reason, sizeof cg_reason, "cgroup v1 path too long");
		return -1;
	}
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		sfmt(cg_reason, sizeof cg_reason,
		     "cannot create groups in the v1 %s hierarchy (%.150s): %s", controller, out,
		     strerror(errno));
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int detect_v1(void)
{
	char f[600], v2why[sizeof cg_reason];
	memcpy(v2why, cg_reason, sizeof v2why);
	if (cgroup1_parent("memory", cg1_mem, sizeof cg1_mem) < 0)
		goto no;
	if (cgroup1_parent("pids", cg1_pids, sizeof cg1_pids) < 0)
		goto no;
	sfmt(f, sizeof f, "%s/memory.limit_in_bytes", cg1_mem);
	int ok = access(f, W_OK) == 0;
	sfmt(f, sizeof f, "%s/pids.max", cg1_pids);
	ok = ok && access(f, W_OK) == 0;
	if (!ok) {
		sfmt(cg_reason, sizeof cg_reason, "cgroup v1 limit files not writable");
		goto no;
	}
	sfmt(f, sizeof f, "%s/memory.memsw.limit_in_bytes", cg1_mem);
	cg1_memsw = access(f, W_OK) == 0;
	sfmt(cg_reason, sizeof cg_reason,
	     "cgroup v2: %.100s; cgroup v1 memory and pids under %.60s", v2why, cg1_mem);
	return 0;
no:
	if (cg1_mem[0])
		rmdir(cg1_mem);
	if (cg1_pids[0])
		rmdir(cg1_pids);
	cg1_mem[0] = cg1_pids[0] = '\0';
	return -1;
}

void limits_fini(void)
{
	if (mode != LIMITS_CGROUP1)
		return;
	if (rmdir(cg1_mem) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "cgroup: rmdir %s: %s", cg1_mem, strerror(errno));
	if (rmdir(cg1_pids) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "cgroup: rmdir %s: %s", cg1_pids, strerror(errno));
}

unsigned limits_nofile(const struct env_limits *l)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_max != RLIM_INFINITY &&
	    r.rlim_max < l->max_open_files)
		return (unsigned)r.rlim_max;
	return l->max_open_files;
}

/* "environment NAME: max_open_files N is above the server's hard limit of M"
 * for each environment whose limit is clamped; returns how many. */
static int nofile_report(char *buf, size_t len, size_t *off, bool to_log)
{
	int clamped = 0;
	for (size_t i = 0; i < env_count(); i++) {
		const struct env_entry *env = env_at(i);
		unsigned eff = limits_nofile(&env->limits);
		if (eff == env->limits.max_open_files)
			continue;
		clamped++;
		if (to_log)
			log_msg(LOG_WARNING,
			        "environment %s: max_open_files %u is above the server's hard "
			        "limit of %u open files "
			        "(ulimit -Hn); its runs get %u",
			        env->name, env->limits.max_open_files, eff, eff);
		else if (*off < len) {
			int n = snprintf(buf + *off, len - *off,
			                 "warn max_open_files: environment %s asks for %u, the "
			                 "server's hard limit is %u "
			                 "(runs get %u; raise it with ulimit -Hn, or LimitNOFILE= "
			                 "in a systemd unit)\n",
			                 env->name, env->limits.max_open_files, eff, eff);
			*off = n < 0 || (size_t)n >= len - *off ? len - 1 : *off + (size_t)n;
		}
	}
	return clamped;
}

int limits_init(struct err *e)
{
	(void)e;
	mode = detect() == 0 ? LIMITS_CGROUP2 : LIMITS_RLIMIT;
	if (mode == LIMITS_RLIMIT) {
		log_msg(LOG_INFO, "limits: cgroup v2 not usable (%s)", cg_reason);
		if (detect_v1() == 0)
			mode = LIMITS_CGROUP1;
		else
			log_msg(LOG_INFO, "limits: cgroup v1 not usable (%s)", cg_reason);
	}
	log_msg(LOG_INFO, "limits: enforcing with %s", limits_describe());
	nofile_report(NULL, 0, NULL, true);
	return 0;
}

int limits_doctor(char *buf, size_t len, size_t *off)
{
	if (*off < len) {
		int n = snprintf(buf + *off, len - *off, "%s cgroups: %s\n",
		                 mode != LIMITS_RLIMIT ? "ok  " : "warn", cg_reason);
		*off = n < 0 || (size_t)n >= len - *off ? len - 1 : *off + (size_t)n;
	}
	nofile_report(buf, len, off, false);
	return 0;
}

void limits_cg_init(struct limits_cg *cg)
{
	cg->dirfd = -1;
	cg->path[0] = '\0';
	cg->pids_path[0] = '\0';
}

static int write_file(const char *dir, const char *name, const char *v, struct err *e)
{
	char f[600];
	if (sfmt(f, sizeof f, "%s/%s", dir, name) < 0)
		return err_set(e, ENAMETOOLONG, "cgroup: path too long");
	if (fs_write_str_at(AT_FDCWD, f, v) < 0)
		return err_sys(e, errno, "cgroup: %s", f);
	return 0;
}

/* v1: a memory group and a pids group, limits written. tmpfs and shared
 * memory pages are charged to the group of the process that touches them,
 * so /workspace, /tmp, SysV shm and memfd count too. */
static int cg1_create(const struct env_limits *l, struct limits_cg *cg, struct err *e)
{
	char v[64];
	unsigned long seq = __atomic_add_fetch(&cg_seq, 1, __ATOMIC_RELAXED);
	if (sfmt(cg->path, sizeof cg->path, "%s/sandbox-%lu", cg1_mem, seq) < 0 ||
	    sfmt(cg->pids_path, sizeof cg->pids_path, "%s/sandbox-%lu", cg1_pids, seq) < 0) {
		limits_cg_init(cg);
		return err_set(e, ENAMETOOLONG, "cgroup: path too long");
	}
	if (mkdir(cg->path, 0755) < 0) {
		err_sys(e, errno, "cgroup: mkdir %s", cg->path);
		limits_cg_init(cg);
		return -1;
	}
	if (mkdir(cg->pids_path, 0755) < 0) {
		err_sys(e, errno, "cgroup: mkdir %s", cg->pids_path);
		cg->pids_path[0] = '\0';
		goto fail;
	}
	sfmt(v, sizeof v, "%llu", (unsigned long long)l->memory_mb << 20);
	/* memsw (memory + swap) must stay >= the memory limit: memory first. */
	if (write_file(cg->path, "memory.limit_in_bytes", v, e) < 0 ||
	    (cg1_memsw && write_file(cg->path, "memory.memsw.limit_in_bytes", v, e) < 0))
		goto fail;
	sfmt(v, sizeof v, "%u", l->max_processes + 1);
	if (write_file(cg->pids_path, "pids.max", v, e) < 0)
		goto fail;
	return 0;
fail:
	limits_cg_destroy(cg);
	return -1;
}

int limits_cg_create(const struct env_limits *l, struct limits_cg *cg, struct err *e)
{
	char v[64];
	limits_cg_init(cg);
	if (mode == LIMITS_CGROUP1)
		return cg1_create(l, cg, e);
	if (mode != LIMITS_CGROUP2)
		return 0;
	if (sfmt(cg->path, sizeof cg->path, "%s/sandbox-%d-%lu", cg_base, (int)getpid(),
	         __atomic_add_fetch(&cg_seq, 1, __ATOMIC_RELAXED)) < 0) {
		cg->path[0] = '\0';
		return err_set(e, ENAMETOOLONG, "cgroup: path too long");
	}
	if (mkdir(cg->path, 0755) < 0) {
		err_sys(e, errno, "cgroup: mkdir %s", cg->path);
		cg->path[0] = '\0';
		return -1;
	}
	cg->dirfd = open(cg->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0) {
		err_sys(e, errno, "cgroup: open %s", cg->path);
		goto fail;
	}
	sfmt(v, sizeof v, "%llu", (unsigned long long)l->memory_mb << 20);
	if (fs_write_str_at(cg->dirfd, "memory.max", v) < 0) {
		err_sys(e, errno, "cgroup: %s/memory.max", cg->path);
		goto fail;
	}
	/* Without this a hog swaps instead of being stopped; absent when the
	 * kernel has no swap accounting, which is fine. */
	if (fs_write_str_at(cg->dirfd, "memory.swap.max", "0") < 0 && errno != ENOENT) {
		err_sys(e, errno, "cgroup: %s/memory.swap.max", cg->path);
		goto fail;
	}
	sfmt(v, sizeof v, "%u", l->max_processes + 1);
	if (fs_write_str_at(cg->dirfd, "pids.max", v) < 0) {
		err_sys(e, errno, "cgroup: %s/pids.max", cg->path);
		goto fail;
	}
	return 0;
fail:
	limits_cg_destroy(cg);
	return -1;
}

int limits_cg_attach(const struct limits_cg *cg, int pid, struct err *e)
{
	char v[32];
	if (mode == LIMITS_CGROUP1 && cg->path[0]) {
		sfmt(v, sizeof v, "%d", pid);
		if (write_file(cg->path, "cgroup.procs", v, e) < 0 ||
		    write_file(cg->pids_path, "cgroup.procs", v, e) < 0)
			return err_wrap(e, "cgroup: move %d into the sandbox's groups", pid);
		return 0;
	}
	if (cg->dirfd < 0)
		return 0;
	sfmt(v, sizeof v, "%d", pid);
	if (fs_write_str_at(cg->dirfd, "cgroup.procs", v) < 0)
		return err_sys(e, errno, "cgroup: move %d into %s", pid, cg->path);
	return 0;
}

void limits_cg_kill(const struct limits_cg *cg)
{
	if (cg->dirfd >= 0 && fs_write_str_at(cg->dirfd, "cgroup.kill", "1") < 0 && errno != ENOENT)
		log_msg(LOG_DEBUG, "cgroup: kill %s: %s", cg->path, strerror(errno));
}

bool limits_cg_oom_killed(const struct limits_cg *cg)
{
	char path[600], buf[1024];
	if (mode == LIMITS_CGROUP1 && cg->path[0]) {
		/* memory.oom_control: "oom_kill N" (Linux 4.13+); failcnt as a
		 * fallback says the limit was hit. */
		sfmt(path, sizeof path, "%s/memory.oom_control", cg->path);
		if (fs_read_small(path, buf, sizeof buf) >= 0) {
			const char *p = strstr(buf, "oom_kill ");
			if (p)
				return strtoul(p + 9, NULL, 10) > 0;
		}
		return false;
	}
	if (cg->dirfd < 0)
		return false;
	sfmt(path, sizeof path, "%s/memory.events", cg->path);
	if (fs_read_small(path, buf, sizeof buf) < 0)
		return false;
	const char *p = strstr(buf, "oom_kill ");
	return p && strtoul(p + 9, NULL, 10) > 0;
}

void limits_cg_destroy(struct limits_cg *cg)
{
	if (cg->dirfd >= 0) {
		close(cg->dirfd);
		cg->dirfd = -1;
	}
	/* Called after the sandbox init was reaped, so the group is empty;
	 * EBUSY would mean a process escaped the pid namespace kill. */
	if (cg->path[0] && rmdir(cg->path) < 0)
		log_msg(LOG_WARNING, "cgroup: rmdir %s: %s", cg->path, strerror(errno));
	if (cg->pids_path[0] && rmdir(cg->pids_path) < 0)
		log_msg(LOG_WARNING, "cgroup: rmdir %s: %s", cg->pids_path, strerror(errno));
	cg->path[0] = '\0';
	cg->pids_path[0] = '\0';
}

static int set1(int res, const char *name, rlim_t v, struct err *e)
{
	struct rlimit r = { v, v };
	return setrlimit(res, &r) < 0 ? err_sys(e, errno, "setrlimit %s", name) : 0;
}

/* At most v: a lower hard limit the server inherited stays. */
static int cap1(int res, const char *name, rlim_t v, struct err *e)
{
	struct rlimit r;
	if (getrlimit(res, &r) < 0)
		return err_sys(e, errno, "getrlimit %s", name);
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < v)
		v = r.rlim_max;
	return set1(res, name, v, e);
}

int limits_child_apply(const struct env_limits *l, struct err *e)
{
	/* Clamped to the hard limit the server inherited (limits_init warned):
	 * without CAP_SYS_RESOURCE a higher one is refused. */
	if (set1(RLIMIT_NOFILE, "RLIMIT_NOFILE", limits_nofile(l), e) < 0 ||
	    set1(RLIMIT_FSIZE, "RLIMIT_FSIZE", (rlim_t)l->max_file_size_mb << 20, e) < 0)
		return -1;
	/* Pending signals and POSIX message queue bytes are counted per user
	 * up the chain of user namespaces (the server user's budget, host
	 * root's for a root server: 96k signals, 800 KiB by default): each
	 * sandbox gets a share the most sandboxes at once stay under. */
	if (cap1(RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 1024, e) < 0 ||
	    cap1(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 8192, e) < 0)
		return -1;
	/* No core files into /workspace (a pipe core_pattern still runs its
	 * helper on the host; that is the host's policy). */
	if (set1(RLIMIT_CORE, "RLIMIT_CORE", 0, e) < 0)
		return -1;
	/* A finite hard stack: an unlimited one lets a process grow its stack
	 * past any per-process data limit (RLIMIT_DATA does not count it). */
	struct rlimit st;
	rlim_t cap = (rlim_t)l->memory_mb << 20;
	if (getrlimit(RLIMIT_STACK, &st) == 0 &&
	    (st.rlim_max == RLIM_INFINITY || st.rlim_max > cap)) {
		st.rlim_max = cap;
		if (st.rlim_cur == RLIM_INFINITY || st.rlim_cur > cap)
			st.rlim_cur = cap < (8u << 20) ? cap : (8u << 20);
		if (setrlimit(RLIMIT_STACK, &st) < 0)
			return err_sys(e, errno, "setrlimit RLIMIT_STACK");
	}
	if (mode == LIMITS_CGROUP2 || mode == LIMITS_CGROUP1)
		return 0;
	if (set1(RLIMIT_DATA, "RLIMIT_DATA", (rlim_t)l->memory_mb << 20, e) < 0 ||
	    set1(RLIMIT_NPROC, "RLIMIT_NPROC", (rlim_t)l->max_processes + 1, e) < 0)
		return -1;
	return 0;
}
