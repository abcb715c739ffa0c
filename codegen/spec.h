/* spec.h — the validated content of env.json, ready to be emitted.
 *
 * Owns: the in-memory model shared by parse.c (which fills it) and emit.c
 * (which prints it), the limits codegen enforces, and struct cg_err.
 * Must not: depend on cJSON (the model borrows strings from the parsed
 * document, which struct cg_doc keeps alive).
 */
#ifndef NSM_CODEGEN_SPEC_H
#define NSM_CODEGEN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define CG_MAX_ENVS 256      /* matches the _Static_assert in the header */
#define CG_MAX_STRING 4095   /* longest literal ISO C requires compilers to take */
#define CG_MAX_ARGV 256      /* per argv / agent_argv */
#define CG_MAX_CLOSURE 65536 /* store paths per environment */
#define CG_MAX_INHERIT 64    /* project.inherit_env names */
#define CG_MAX_WARM_POOL 8   /* spares per environment: csrc/pool.h POOL_SPARES_MAX */
#define CG_MAX_INPUT (64u * 1024 * 1024)

/* Member names here are the member names of struct env_limits and
 * struct env_session_config in csrc/env.h, so emit.c can print them as is. */
#define CG_N_LIMITS 7
extern const char *const cg_limit_keys[CG_N_LIMITS];
#define CG_N_SESSION 3
extern const char *const cg_session_keys[CG_N_SESSION];

struct cg_err {
	char msg[512]; /* complete line for stderr, without the newline */
};

struct cg_strv {
	const char **v; /* owned array of borrowed strings */
	size_t n;
};

struct cg_env {
	const char *name;
	const char *interpreter_type;
	const char *interp_enum; /* "ENV_INTERP_BASH", ... (a constant, not input) */
	const char *description;
	const char *root;
	const char *sh;
	const char *env_bin;
	struct cg_strv argv;
	struct cg_strv agent_argv;
	struct cg_strv closure;
	uint64_t closure_bytes; /* total NAR size of the closure */
	int network;
	uint32_t warm_pool; /* 0..CG_MAX_WARM_POOL */
	uint32_t limits[CG_N_LIMITS];
};

struct cg_spec {
	const char *version;
	const char *config_hash;
	const char *log_level;
	const char *project_path;
	const char *project_mount;
	struct cg_strv inherit_env; /* names of the server's variables passed into sandboxes */
	uint32_t session[CG_N_SESSION];
	struct cg_env *envs; /* owned */
	size_t n_envs;
};

#endif
