/* env.h — the shape of the baked environment table.
 *
 * Owns: the types that codegen/ emits into env_table.gen.h and the lookup API.
 * Must not: hold any data (the table lives in the generated header, which only
 * env.c includes) or parse anything at run time.
 */
#ifndef NSM_ENV_H
#define NSM_ENV_H

#include <stdbool.h>
#include <stddef.h>

enum env_interp {
	ENV_INTERP_BASH = 0,
	ENV_INTERP_PYTHON = 1,
	ENV_INTERP_NODE = 2,
};

/* Every limit is enforced by the jail; 0 never means "unlimited" here:
 * Nix validation rejects non-positive values. */
struct env_limits {
	unsigned timeout_seconds;  /* wall clock, whole sandbox killed */
	unsigned memory_mb;        /* cgroup memory limit, or RLIMIT_DATA per process */
	unsigned max_processes;    /* cgroup pids.max or RLIMIT_NPROC */
	unsigned max_open_files;   /* RLIMIT_NOFILE */
	unsigned max_file_size_mb; /* RLIMIT_FSIZE */
	unsigned workspace_mb;     /* size= of the /workspace tmpfs */
	unsigned max_output_bytes; /* captured per stream; rest counted */
};

struct env_entry {
	const char *name;             /* [A-Za-z0-9_-]{1,64} */
	const char *interpreter_type; /* "bash" | "python" | "node" */
	enum env_interp interp;
	const char *description;          /* one line for the tool description */
	const char *root;                 /* buildEnv output: $root/bin goes first in PATH */
	const char *sh;                   /* absolute path bound at /bin/sh */
	const char *env_bin;              /* absolute path bound at /usr/bin/env */
	const char *const *argv;          /* one-shot interpreter argv, NULL-terminated;
	                                     the jail appends the code file's path */
	unsigned long long closure_bytes; /* total NAR size of the closure (--list-envs) */
	const char *const *agent_argv;    /* session agent argv, NULL-terminated; empty when
	                                     the interpreter cannot host the agent: no sessions */
	const char *const *closure;       /* runtime closure store paths, sorted */
	size_t n_closure;
	int network;        /* 0: own net ns with lo; 1: host network */
	unsigned warm_pool; /* spares kept at most, per kind (pool.h); 0: none */
	struct env_limits limits;
};

struct env_session_config {
	unsigned idle_timeout_seconds;
	unsigned max_lifetime_seconds;
	unsigned max_sessions;
};

struct env_config {
	const char *version;       /* server version string */
	const char *config_hash;   /* sha256 of the evaluated configuration */
	const char *log_level;     /* "debug" | "info" | "warning" | "error" */
	const char *project_path;  /* "" when none baked */
	const char *project_mount; /* default "/project" */
	/* Names of the server's environment variables whose values (read at
	 * start) every sandbox gets; NULL-terminated. */
	const char *const *inherit_env;
	size_t n_inherit_env;
	struct env_session_config session;
};

size_t env_count(void);
const struct env_entry *env_at(size_t i);
const struct env_entry *env_find(const char *name);
/* Whether sessions work in env (its interpreter can host the agent). */
bool env_has_sessions(const struct env_entry *env);
const struct env_config *env_config(void);

#endif
