/* main.c — arguments, signals and the event loop.
 *
 * Owns: the command line (the only thing read at run time: there is no
 * config file), start-up checks, and the loop that runs until stdin closes
 * and every run has answered, or until SIGTERM/SIGINT.
 * Must not: handle requests (mcp.c) or write protocol (rpc.c). Only start-up
 * failures end the process with an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "env.h"
#include "http.h"
#include "jail.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "mounts.h"
#include "pool.h"
#include "reaper.h"
#include "reslimits.h"
#include "rpc.h"
#include "session.h"
#include "spawner.h"

static volatile int stop_signal;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: nix-sandbox-mcp [--stdio | --http ADDR:PORT [--token-file FILE] "
	    "[--allow-origin ORIGIN]...\n"
	    "                        [--http-idle-timeout SECONDS]] [--project DIR | --no-project] "
	    "[--log-level LEVEL]\n"
	    "       nix-sandbox-mcp --list-envs | --doctor | --version | --help\n"
	    "\n"
	    "An MCP server (JSON-RPC over stdin/stdout) with one tool, `run`, that runs\n"
	    "code in namespace sandboxes built by Nix. Its environments were fixed when\n"
	    "it was built; no configuration file is read at run time.\n"
	    "\n"
	    "  --stdio            serve MCP on stdin/stdout (the default)\n"
	    "  --http ADDR:PORT   serve MCP over Streamable HTTP at http://ADDR:PORT/mcp\n"
	    "                     (a non-loopback ADDR needs --token-file)\n"
	    "  --token-file FILE  require \"Authorization: Bearer TOKEN\", TOKEN read from FILE\n"
	    "                     once at start\n"
	    "  --allow-origin ORIGIN  accept browser requests from ORIGIN (exact, e.g.\n"
	    "                     https://app.example); others are refused (403)\n"
	    "  --http-idle-timeout SECONDS  end an MCP session unused this long (1800)\n"
	    "  --project DIR      mount DIR read-only in every sandbox (overrides\n"
	    "                     PROJECT_DIR and the built-in project path, by\n"
	    "                     default \".\": the directory the server starts in)\n"
	    "  --no-project       mount no project directory\n"
	    "  --log-level LEVEL  debug, info, warning or error (stderr)\n"
	    "  --list-envs        print the built-in environment table as JSON\n"
	    "  --doctor           check the kernel features the sandbox needs\n"
	    "  --version          print the version\n");
}

static int list_envs(void)
{
	const struct env_config *cfg = env_config();
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", cfg->version);
	cJSON_AddStringToObject(root, "config_hash", cfg->config_hash);
	cJSON *proj = cJSON_AddObjectToObject(root, "project");
	cJSON_AddStringToObject(proj, "path", cfg->project_path);
	cJSON_AddStringToObject(proj, "mount_point", cfg->project_mount);
	cJSON *inh = cJSON_AddArrayToObject(proj, "inherit_env"); /* names only, never values */
	for (size_t i = 0; inh && i < cfg->n_inherit_env; i++)
		cJSON_AddItemToArray(inh, cJSON_CreateString(cfg->inherit_env[i]));
	cJSON *sess = cJSON_AddObjectToObject(root, "session");
	cJSON_AddNumberToObject(sess, "idle_timeout_seconds", cfg->session.idle_timeout_seconds);
	cJSON_AddNumberToObject(sess, "max_lifetime_seconds", cfg->session.max_lifetime_seconds);
	cJSON_AddNumberToObject(sess, "max_sessions", cfg->session.max_sessions);
	cJSON *arr = cJSON_AddArrayToObject(root, "environments");
	for (size_t i = 0; i < env_count(); i++) {
		const struct env_entry *e = env_at(i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", e->name);
		cJSON_AddStringToObject(o, "interpreter_type", e->interpreter_type);
		cJSON_AddStringToObject(o, "description", e->description);
		cJSON_AddStringToObject(o, "network", e->network ? "host" : "none");
		cJSON *l = cJSON_AddObjectToObject(o, "limits");
		cJSON_AddNumberToObject(l, "timeout_seconds", e->limits.timeout_seconds);
		cJSON_AddNumberToObject(l, "memory_mb", e->limits.memory_mb);
		cJSON_AddNumberToObject(l, "max_processes", e->limits.max_processes);
		cJSON_AddNumberToObject(l, "max_open_files", e->limits.max_open_files);
		/* What runs get: clamped to the server's hard RLIMIT_NOFILE. */
		cJSON_AddNumberToObject(l, "max_open_files_effective", limits_nofile(&e->limits));
		cJSON_AddNumberToObject(l, "max_file_size_mb", e->limits.max_file_size_mb);
		cJSON_AddNumberToObject(l, "workspace_mb", e->limits.workspace_mb);
		cJSON_AddNumberToObject(l, "max_output_bytes", e->limits.max_output_bytes);
		cJSON_AddNumberToObject(o, "closure_paths", (double)e->n_closure);
		cJSON_AddNumberToObject(o, "closure_bytes", (double)e->closure_bytes);
		cJSON_AddBoolToObject(o, "sessions", env_has_sessions(e));
		/* Spares kept at most per kind (pool.h); 0: every call spawns. */
		cJSON_AddNumberToObject(o, "warm_pool", pool_bound(e));
		/* One-shot runs from a prepared spare: interpreter already started? */
		char launcher[PATH_MAX];
		const char *why = NULL;
		if (jail_warm_start(e, launcher, sizeof launcher, &why))
			cJSON_AddStringToObject(o, "one_shot_start", "warm");
		else {
			char cold[256];
			snprintf(cold, sizeof cold, "cold: %s", why);
			cJSON_AddStringToObject(o, "one_shot_start", cold);
		}
		cJSON_AddItemToArray(arr, o);
	}
	char *s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return 1;
	int rc = printf("%s\n", s) < 0 || fflush(stdout) != 0;
	free(s);
	return rc;
}

static int doctor(void)
{
	char report[4096];
	int problems = jail_doctor(report, sizeof report);
	printf("%s", report);
	char why[200];
	if (mounts_overlay_works(why, sizeof why))
		printf("ok   project: sandboxes see it as a read-only overlayfs (its sockets and "
		       "FIFOs reach "
		       "no host process), a session's made again before each call\n");
	else
		printf("warn project: %s; the project is bound read-only instead, and sockets and "
		       "FIFOs in it "
		       "can reach host processes\n",
		       why);
	if (geteuid() == 0) {
		/* As root the sandbox is host uid 65534: it reads the project
		 * as its owner through an idmapped copy. */
		char dir[] = "/tmp/nsm-doctor-idmap-XXXXXX";
		struct err ie;
		int t = -1;
		bool made = mkdtemp(dir) != NULL;
		if (!made)
			err_sys(&ie, errno, "mkdtemp");
		else
			t = mounts_project_tree(dir, JAIL_ROOT_HOST_ID, &ie);
		if (t >= 0)
			printf(
			    "ok   project: read as its owner would (idmapped mount), read-only\n");
		else
			printf("warn project: %s; the sandbox reads it as host uid %u (files only "
			       "the owner may read "
			       "are not readable)\n",
			       ie.msg, JAIL_ROOT_HOST_ID);
		if (t >= 0)
			close(t);
		if (made)
			rmdir(dir);
	}
	printf("%s\n",
	       problems ? "Some checks failed: see the hints above." : "All checks passed.");
	limits_fini();
	return problems ? 1 : 0;
}

/* The project directory: --project, else PROJECT_DIR, else the baked path.
 * A directory the user named must exist (a typo fails loudly at start-up);
 * the baked default may be absent on another host (a copied closure), so
 * there it is only a warning and no project is mounted. */
/* The original nix-sandbox-mcp read these at run time; this server is
 * configured when it is built. Say so once instead of ignoring them
 * silently. */
static void warn_original_vars(void)
{
	static const struct {
		const char *var, *instead;
	} vars[] = {
		{ "PROJECT_MOUNT", "[project] mount_point in config.toml" },
		{ "NIX_SANDBOX_ENVS",
		  "[environments.NAME] in config.toml (or mkServer { sandboxes })" },
		{ "SESSION_IDLE_TIMEOUT", "[session] idle_timeout_seconds in config.toml" },
		{ "SESSION_MAX_LIFETIME", "[session] max_lifetime_seconds in config.toml" },
		{ "NIX_SANDBOX_DIR", "nothing: each sandbox is built by the server itself" },
	};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		if (getenv(vars[i].var))
			log_msg(
			    LOG_WARNING,
			    "%s is set but ignored: this server was configured when it was built; "
			    "use %s and rebuild",
			    vars[i].var, vars[i].instead);
}

/* [project] inherit_env: which names reach the sandboxes (jail.c read
 * their values at jail_init). Names only: a value is never logged. */
static void log_inherited_vars(void)
{
	const struct env_config *cfg = env_config();
	char set[1024] = "", unset[1024] = "";
	size_t ns = 0, nu = 0;
	for (size_t i = 0; i < cfg->n_inherit_env; i++) {
		bool is = getenv(cfg->inherit_env[i]) != NULL;
		char *b = is ? set : unset;
		size_t *n = is ? &ns : &nu;
		int w =
		    snprintf(b + *n, sizeof set - *n, "%s%s", *n ? ", " : "", cfg->inherit_env[i]);
		if (w > 0)
			*n = *n + (size_t)w < sizeof set ? *n + (size_t)w : sizeof set - 1;
	}
	if (ns)
		log_msg(LOG_INFO,
		        "every sandbox gets these variables of the server's environment: %s", set);
	if (nu)
		log_msg(LOG_INFO,
		        "[project] inherit_env names variables the server was started without "
		        "(absent in the sandboxes): %s",
		        unset);
}

static const char *resolve_project(const char *arg)
{
	static char real[PATH_MAX];
	const char *dir = arg;
	bool named = true;
	if (!dir || !*dir)
		dir = getenv("PROJECT_DIR");
	if (!dir || !*dir) {
		dir = env_config()->project_path;
		named = false;
	}
	if (!dir || !*dir)
		return NULL;
	struct stat st;
	errno = 0;
	if (!realpath(dir, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (!named) {
			log_msg(LOG_WARNING,
			        "built-in project directory %s is not a directory here; "
			        "no project is mounted (use --project DIR)",
			        dir);
			return NULL;
		}
		fprintf(stderr, "nix-sandbox-mcp: project directory %s: %s\n", dir,
		        errno ? strerror(errno) : "not a directory");
		exit(2);
	}
	/* The built-in path is relative ("." by default: the directory the
	 * client started us in). A client that starts servers in / would give
	 * every sandbox the whole host file system. */
	if (!named && strcmp(real, "/") == 0) {
		log_msg(
		    LOG_WARNING,
		    "built-in project directory \"%s\" is / here (the server was started in /); "
		    "no project is mounted (start the server in the project's directory, or use "
		    "--project DIR)",
		    dir);
		return NULL;
	}
	log_msg(LOG_INFO, "project %s mounted read-only at %s%s", real, env_config()->project_mount,
	        named           ? ""
	        : dir[0] == '/' ? " (built in)"
	                        : " (the built-in path, from the directory the server "
	                          "started in)");
	/* As root, the sandbox (host uid 65534) reads the project through an
	 * idmapped copy of it (jail.c, mounts.c). */
	bool idmapped = false;
	if (geteuid() == 0) {
		struct err ie;
		int t = mounts_project_tree(real, JAIL_ROOT_HOST_ID, &ie);
		if (t >= 0) {
			close(t);
			idmapped = true;
			log_msg(LOG_INFO,
			        "project %s: the sandbox reads it as its owner (uid %u, group %u) "
			        "would, "
			        "read-only, through an idmapped mount",
			        real, (unsigned)st.st_uid, mounts_owner_group(st.st_uid));
		} else {
			log_msg(
			    LOG_WARNING,
			    "project %s: %s; the sandbox reads it as host uid %u, so files only "
			    "its owner may read are not readable",
			    real, ie.msg, JAIL_ROOT_HOST_ID);
		}
	}
	char nested[256];
	int n = mounts_project_nested(real, nested, sizeof nested);
	if (n > 0 && idmapped)
		log_msg(LOG_INFO,
		        "project %s has %d mount(s) nested in it (%s%s): one-shot runs see each "
		        "through a read-only overlay of its own",
		        real, n, nested, n > 1 ? ", ..." : "");
	else if (n > 0)
		log_msg(LOG_WARNING,
		        "project %s has %d mount(s) nested in it (%s%s): the sandbox sees them "
		        "read-only, but "
		        "overlayfs cannot cover such a tree, so sockets and FIFOs in the project "
		        "can reach host "
		        "processes; unmount them or mount a directory without nested mounts",
		        real, n, nested, n > 1 ? ", ..." : "");
	return real;
}

static void on_signal(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)revents;
	struct signalfd_siginfo si;
	ssize_t r = read(fd, &si, sizeof si);
	if (r == (ssize_t)sizeof si)
		stop_signal = (int)si.ssi_signo;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stdio", no_argument, NULL, 's' },
		{ "http", required_argument, NULL, 'H' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "allow-origin", required_argument, NULL, 'O' },
		{ "http-idle-timeout", required_argument, NULL, 'I' },
		{ "project", required_argument, NULL, 'p' },
		{ "no-project", no_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "list-envs", no_argument, NULL, 'L' },
		{ "doctor", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *project_arg = NULL;
	bool no_project = false, stdio = false;
	struct http_options http = { 0 };
	int lvl = log_level_parse(env_config()->log_level);
	int c;

	if (lvl >= 0)
		log_set_level((enum log_level)lvl);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stdio = true;
			break;
		case 'H':
			http.listen = optarg;
			break;
		case 'T':
			http.token_file = optarg;
			break;
		case 'O':
			if (http.n_origins == HTTP_MAX_ORIGINS) {
				fprintf(stderr, "nix-sandbox-mcp: at most %d --allow-origin\n",
				        HTTP_MAX_ORIGINS);
				return 2;
			}
			http.origins[http.n_origins++] = optarg;
			break;
		case 'I': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v == 0 || v > 86400 * 30) {
				fprintf(stderr, "nix-sandbox-mcp: --http-idle-timeout: seconds, 1 "
				                "to 2592000\n");
				return 2;
			}
			http.idle_seconds = (unsigned)v;
			break;
		}
		case 'p':
			project_arg = optarg;
			break;
		case 'P':
			no_project = true;
			break;
		case 'l':
			if ((lvl = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "nix-sandbox-mcp: --log-level: expected debug, "
				                "info, warning or error\n");
				return 2;
			}
			log_set_level((enum log_level)lvl);
			break;
		case 'L':
			return list_envs();
		case 'V':
			printf("nix-sandbox-mcp %s (config %.12s)\n", env_config()->version,
			       env_config()->config_hash);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'D': {
			struct err e = { 0 };
			if (jail_init(&e) < 0)
				printf("sandbox set-up: %s\n", e.msg);
			return doctor();
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (stdio && http.listen) {
		fprintf(stderr, "nix-sandbox-mcp: --stdio and --http exclude each other\n");
		return 2;
	}
	if (!http.listen && (http.token_file || http.n_origins || http.idle_seconds)) {
		fprintf(stderr, "nix-sandbox-mcp: --token-file, --allow-origin and "
		                "--http-idle-timeout need --http\n");
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "nix-sandbox-mcp: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (argc > 0)
		jail_set_cmdline_area(argv[0],
		                      (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]));

	/* A client that goes away must not kill us mid-cleanup: writes fail
	 * with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	/* Each session holds four descriptors while its sandbox lives; the
	 * usual soft limit of 1024 is below what the tables allow. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 4096 &&
	    nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max < 4096 ? nofile.rlim_max : 4096;
		if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			log_msg(LOG_WARNING, "raise RLIMIT_NOFILE: %s", strerror(errno));
	}

	struct err e = { 0 };
	if (jail_init(&e) < 0) {
		fprintf(stderr, "nix-sandbox-mcp: %s\n", e.msg);
		return 1;
	}
	warn_original_vars();
	log_inherited_vars();
	if (no_project && project_arg) {
		fprintf(stderr, "nix-sandbox-mcp: --project and --no-project exclude each other\n");
		return 2;
	}
	mcp_set_project(no_project ? NULL : resolve_project(project_arg));
	session_set_notice(mcp_session_notice);
	log_msg(LOG_INFO, "%s; %zu environments; limits enforced with %s", env_config()->version,
	        env_count(), jail_enforcement());

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	int sfd;
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "nix-sandbox-mcp: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (loop_watch(sfd, POLLIN, on_signal, NULL, &e) < 0 || spawner_init(&e) < 0 ||
	    (http.listen ? http_start(&http, &e)
	                 : rpc_start(STDIN_FILENO, STDOUT_FILENO, mcp_handle, &e)) < 0) {
		fprintf(stderr, "nix-sandbox-mcp: %s\n", e.msg);
		return 1;
	}

	/* Run until a signal, or until stdin is closed and every run in flight
	 * has answered (each is bounded by its timeout). */
	bool input_closed = false;
	while (!stop_signal && (http.listen || (!rpc_output_broken() &&
	                                        !(rpc_input_closed() && mcp_inflight() == 0)))) {
		if (!http.listen && rpc_input_closed() && !input_closed) {
			/* Calls waiting in sessions are answered now, not run;
			 * running ones finish. Then mcp_shutdown ends sessions. */
			input_closed = true;
			mcp_input_closed();
			continue;
		}
		if (loop_run_once(-1, &e) < 0) {
			log_msg(LOG_ERROR, "%s", e.msg);
			break;
		}
	}
	if (stop_signal)
		log_msg(LOG_INFO, "signal %d: stopping", stop_signal);
	/* HTTP clients first: each open request gets its answer or an error
	 * while the loop's state is whole. */
	if (http.listen)
		http_shutdown(2000);
	mcp_shutdown();
	pool_shutdown();
	spawner_shutdown(); /* after every owner let go (spawner.h) */
	reaper_shutdown();  /* the spares and sandboxes they let go of */
	jail_fini();
	limits_fini();
	rpc_flush(2000);
	close(sfd);
	return 0;
}
