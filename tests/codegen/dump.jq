# dump.jq — the JSON side of the round-trip test: the same dump as dump.c,
# made from env.json by jq, independently of cJSON and of the generated C.
def s($k): "\($k)\t\(utf8bytelength)\t\(.)\n";
def interp: {"bash": 0, "python": 1, "node": 2}[.];
def limit_keys: ["timeout_seconds", "memory_mb", "max_processes", "max_open_files",
                 "max_file_size_mb", "workspace_mb", "max_output_bytes"];

(.version | s("version")),
(.config_hash | s("config_hash")),
(.daemon.log_level | s("log_level")),
(.project.path | s("project_path")),
(.project.mount_point | s("project_mount")),
(.project.inherit_env | to_entries[] | .key as $k | .value | s("inherit_env[\($k)]")),
"session\t\(.session.idle_timeout_seconds)\t\(.session.max_lifetime_seconds)\t\(.session.max_sessions)\n",
"n_envs\t\(.environments | length)\n",
(.environments | to_entries[] | .key as $i | .value |
  (.name | s("env[\($i)].name")),
  (.interpreter_type | s("env[\($i)].interpreter_type")),
  "env[\($i)].interp\t\(.interpreter_type | interp)\n",
  (.description | s("env[\($i)].description")),
  (.root | s("env[\($i)].root")),
  (.sh | s("env[\($i)].sh")),
  (.env_bin | s("env[\($i)].env_bin")),
  (.argv | to_entries[] | .key as $k | .value | s("env[\($i)].argv[\($k)]")),
  (.agent_argv | to_entries[] | .key as $k | .value | s("env[\($i)].agent_argv[\($k)]")),
  "env[\($i)].n_closure\t\(.closure | length)\n",
  "env[\($i)].closure_bytes\t\(.closure_bytes)\n",
  (.closure | to_entries[] | .key as $k | .value | s("env[\($i)].closure[\($k)]")),
  "env[\($i)].network\t\(if .network then 1 else 0 end)\n",
  "env[\($i)].warm_pool\t\(.warm_pool)\n",
  (.limits as $l | limit_keys[] | "env[\($i)].limits.\(.)\t\($l[.])\n")
)
