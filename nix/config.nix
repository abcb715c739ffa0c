# nix/config.nix — config.toml (or an attrset of the same shape) → a validated,
# normalized configuration with every default filled in.
#
# Owns: the schema, the defaults and the evaluation-time error messages.
# Must not: build anything or touch pkgs (builtins only, so `nix-instantiate
# --eval` checks a config in milliseconds and the tests need no package set).
#
# Errors name the key: `config.toml: environments.py.timeout_seconds: must be a
# positive integer, got -1`.
let
  inherit (builtins)
    attrNames concatStringsSep elem filter foldl' isAttrs isBool isInt isString
    match length mapAttrs toJSON typeOf head;

  presetNames = [ "shell" "python" "node" "python-plot" ];
  # The environments of a config with no [environments] table (and of the
  # flake's default package). python-plot is opt-in: see presets/python-plot.nix.
  defaultPresets = [ "shell" "python" "node" ];
  interpreterTypes = [ "python" "bash" "node" ];
  logLevels = [ "debug" "info" "warning" "error" ];
  networkModes = [ "none" "host" ];

  limitKeys = [
    "timeout_seconds" "memory_mb" "max_processes" "max_open_files"
    "max_file_size_mb" "workspace_mb" "max_output_bytes"
  ];

  # Sandbox limits that hold unless [defaults] or an environment says otherwise.
  limitDefaults = {
    timeout_seconds = 30;
    memory_mb = 512;
    max_processes = 128;
    max_open_files = 256;
    max_file_size_mb = 64;
    workspace_mb = 256;
    max_output_bytes = 1048576;
  };

  # Largest value the C table holds (unsigned, 32 bits) and a sane ceiling per key.
  limitMax = {
    timeout_seconds = 86400;
    memory_mb = 1048576;
    max_processes = 65536;
    max_open_files = 1048576;
    max_file_size_mb = 1048576;
    workspace_mb = 1048576;
    max_output_bytes = 1073741824;
  };

  # Spares (sandboxes made ahead of a call, csrc/pool.c) an environment keeps
  # at most, per kind (one-shot, session): the pool grows to this on
  # back-to-back calls and shrinks after a minute unused. 0: none; the
  # default 1 keeps one, as a client that pauses between calls needs.
  warmPoolDefault = 1;
  warmPoolMax = 8; # POOL_SPARES_MAX in csrc/pool.h

  fail = where: msg: throw "config.toml: ${where}: ${msg}";

  show = v:
    if isString v then toJSON v
    else if isAttrs v then "a table"
    else if builtins.isList v then "a list"
    else if isBool v then (if v then "true" else "false")
    else toString v;

  checkKeys = where: allowed: attrs:
    let unknown = filter (k: !(elem k allowed)) (attrNames attrs);
    in if unknown == [ ] then attrs
       else fail (if where == "" then (builtins.head unknown) else "${where}.${builtins.head unknown}")
         (if allowed == [ ] then "unknown key (this table takes none)"
          else "unknown key (allowed here: ${concatStringsSep ", " allowed})");

  checkTable = where: v:
    if isAttrs v then v else fail where "must be a table, got ${show v}";

  positiveInt = where: max: v:
    if !(isInt v) then fail where "must be a positive integer, got ${show v}"
    else if v <= 0 then fail where "must be a positive integer, got ${toString v}"
    else if v > max then fail where "must be at most ${toString max}, got ${toString v}"
    else v;

  warmPool = where: v:
    if isInt v && v >= 0 && v <= warmPoolMax then v
    else fail where "must be an integer from 0 (no spares) to ${toString warmPoolMax}, got ${show v}";

  oneOf = where: choices: v:
    if isString v && elem v choices then v
    else fail where "must be one of ${concatStringsSep ", " (map toJSON choices)}, got ${show v}";

  nonEmptyString = where: v:
    if isString v && v != "" then v else fail where "must be a non-empty string, got ${show v}";

  absolutePath = where: v:
    if isString v && match "/.*" v != null && match ".*(^|/)\\.\\.(/|$).*" v == null then v
    else fail where "must be an absolute path without '..', got ${show v}";

  # The project's mount point may not be a path the sandbox itself is made
  # of (csrc/mounts.c): covering it would break every run with a misleading
  # message.
  reservedMounts = [ "nix" "proc" "dev" "etc" "run" "workspace" "tmp" "bin" "usr/+bin" ];
  mountPoint = v:
    let
      p = absolutePath "project.mount_point" v;
      reserved = match "/*" p != null
        || builtins.any (r: match "/+${r}(/.*)?" p != null) reservedMounts;
    in
    if reserved then
      fail "project.mount_point" "${show v} is part of the sandbox itself (/, /nix, /proc, /dev, /etc, /run, /workspace, /tmp, /bin, /usr/bin); choose another path such as /project"
    else p;

  # How code is handed over: a program (an absolute path, or a name / a path
  # relative to the environment's root, e.g. "python3" or "bin/python3.12")
  # and optional arguments that go before the code file's path.
  interpreterCmd = where: v:
    let
      words = if isString v then filter (w: isString w && w != "") (builtins.split "[ \t]+" v) else [ ];
      prog = builtins.head words;
      progOk = match ".*(^|/)\\.\\.(/|$).*" prog == null
        && (match "/[^[:space:]]+" prog != null || match "[A-Za-z0-9._+-][A-Za-z0-9._+/-]*" prog != null);
    in
    if words != [ ] && progOk then concatStringsSep " " words
    else fail where "must be a program of the environment (\"python3\", \"bin/python3.12\" or an absolute path) with optional arguments, got ${show v}";

  # Project path: "" means none; "." (the default, as in the original) the
  # directory the server is started in (MCP clients start servers in the
  # project's root); another relative path is resolved against that
  # directory at start; an absolute one is taken as it is.
  projectPath = where: v:
    if !isString v then fail where "must be a path string (\"\" for none, \".\", \"sub/dir\" or \"/abs/path\"), got ${show v}"
    else if v == "" || match "/.*" v != null then (if v == "" then v else absolutePath where v)
    else if match "[^\n]*" v != null && match ".*//.*" v == null then v
    else fail where "must be \"\" (none), \".\" (the directory the server starts in), a relative path or an absolute one, got ${show v}";

  # [project] inherit_env.vars: names of the server's environment variables
  # whose values (read when the server starts) every sandbox gets. The
  # sandbox's own variables and the loader's are refused (codegen checks the
  # same list: codegen/parse.c, reserved_vars).
  reservedVars = [ "PATH" "HOME" "TMPDIR" "USER" "LOGNAME" "SHELL" "LANG" "TERM" "NO_COLOR"
    "PYTHONDONTWRITEBYTECODE" "PYTHONUNBUFFERED" "NSM_AGENT_TOKEN" "LD_PRELOAD" "LD_LIBRARY_PATH" "LD_AUDIT" ];
  inheritEnv = v:
    let
      t = checkKeys "project.inherit_env" [ "vars" ] (checkTable "project.inherit_env" v);
      vars = t.vars or [ ];
      where = "project.inherit_env.vars";
      check = n:
        if !isString n || match "[A-Za-z_][A-Za-z0-9_]{0,127}" n == null then fail where "${show n} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
        else if elem n reservedVars then fail where "${show n} is set by the sandbox itself (or changes how its programs load); it cannot be inherited"
        else n;
      names = map check vars;
      dups = filter (n: length (filter (m: m == n) names) > 1) names;
    in
    if !builtins.isList vars then fail where "must be a list of variable names, got ${show vars}"
    else if length vars > 64 then fail where "must hold at most 64 names, got ${toString (length vars)}"
    else if dups != [ ] then fail where "${show (head dups)} is listed twice"
    else names;

  limitsOf = where: base: attrs:
    foldl' (acc: k:
      acc // (if attrs ? ${k} then { ${k} = positiveInt "${where}.${k}" limitMax.${k} attrs.${k}; } else { }))
      base limitKeys;

  envNameOk = name: match "[A-Za-z0-9_-]{1,64}" name != null;

  # One [environments.NAME] table → normalized environment (without packages:
  # nix/environments.nix resolves preset / flake / sandbox into derivations).
  envAllowed = [ "preset" "flake" "interpreter_type" "interpreter" "description" "network" "warm_pool" "backend" ] ++ limitKeys;

  # The original's keys for what it planned beyond namespace sandboxes
  # ([daemon] transport, backend = "jail" | "microvm", [backends.*]): what
  # this server does is accepted as written, the rest refused by name.
  backendKey = where: v:
    if v == "jail" then v
    else if v == "microvm" then fail where "\"microvm\" is not available: this server runs namespace sandboxes only; remove the key or write \"jail\""
    else fail where "must be \"jail\", got ${show v}";
  transportKey = v:
    if v == "stdio" then v
    else fail "daemon.transport" "must be \"stdio\" (MCP on stdin/stdout), got ${show v}";
  checkBackends = b:
    let
      t = checkKeys "backends" [ "jail" "microvm" ] (checkTable "backends" b);
      jail = if t ? jail then checkKeys "backends.jail" [ ] (checkTable "backends.jail" t.jail) else { };
      vm = if t ? microvm then checkKeys "backends.microvm" [ "hypervisor" ] (checkTable "backends.microvm" t.microvm) else { };
      hv = if vm ? hypervisor then oneOf "backends.microvm.hypervisor" [ "cloud-hypervisor" "qemu" "firecracker" ] vm.hypervisor else null;
    in builtins.seq jail (builtins.seq hv true);

  # `projectSource`: the source of the environment named "project" when
  # [project] use_flake = true (its devShell), else null.
  normalizeEnv = defaults: projectSource: name: raw0:
    let
      where = "environments.${name}";
      raw1 = checkKeys where envAllowed (checkTable where raw0);
      raw = if raw1 ? backend then builtins.seq (backendKey "${where}.backend" raw1.backend) raw1 else raw1;
      hasPreset = raw ? preset;
      hasFlake = raw ? flake;
      source =
        if projectSource != null && name == "project" then
          (if hasPreset || hasFlake then
             fail "${where}.${if hasPreset then "preset" else "flake"}" "\"project\" is the devShell environment of project.use_flake = true: remove this key (the table may still set interpreter_type and limits) or rename the environment"
           else projectSource)
        else if hasPreset && hasFlake then fail where "set either preset or flake, not both"
        else if hasPreset then { kind = "preset"; preset = oneOf "${where}.preset" presetNames raw.preset; }
        else if hasFlake then {
          kind = "flake";
          flake =
            let f = nonEmptyString "${where}.flake" raw.flake;
            in if match "[^#]+#[^#]+" f != null then f
               else fail "${where}.flake" "must look like \"flakeref#attribute\", got ${toJSON f}";
        }
        else if elem name presetNames then { kind = "preset"; preset = name; }
        else fail where "needs preset = \"…\" (one of ${concatStringsSep ", " presetNames}) or flake = \"ref#attr\"";
      # The original nix-sandbox-mcp infers the type from the interpreter
      # ("bash -s", "python3 -c"): so do we, from the program's name.
      inferred =
        if !(raw ? interpreter) then null
        else
          let
            prog = baseNameOf (builtins.head (filter (w: isString w && w != "") (builtins.split "[ \t]+" (interpreterCmd "${where}.interpreter" raw.interpreter))));
          in
          if match "(ba|da|z|k)?sh" prog != null then "bash"
          else if match "python[0-9.]*" prog != null then "python"
          else if match "node(js)?[0-9.]*" prog != null then "node"
          else null;
      interpreterType =
        if raw ? interpreter_type then oneOf "${where}.interpreter_type" interpreterTypes raw.interpreter_type
        else if source.kind == "flake" && inferred != null then inferred
        else if source.kind == "flake" then fail "${where}.interpreter_type" "is required for a flake environment (one of ${concatStringsSep ", " interpreterTypes}; it is inferred only from an interpreter named bash, sh, python3 or node)"
        else if source.kind == "devshell" then "bash"
        else null; # the preset supplies it
    in
    if !(envNameOk name) then
      fail "environments.${toJSON name}" "environment name must match [A-Za-z0-9_-]{1,64}"
    else {
      inherit name source;
      interpreter_type = interpreterType;
      interpreter = if raw ? interpreter then interpreterCmd "${where}.interpreter" raw.interpreter else null;
      description = if raw ? description then nonEmptyString "${where}.description" raw.description else null;
      network = if raw ? network then oneOf "${where}.network" networkModes raw.network else defaults.network;
      warm_pool = if raw ? warm_pool then warmPool "${where}.warm_pool" raw.warm_pool else defaults.warm_pool;
      limits = limitsOf where defaults.limits raw;
    };

  topAllowed = [ "daemon" "defaults" "project" "session" "environments" "backends" ];

  normalize = cfg0:
    let
      cfg = checkKeys "" topAllowed (checkTable "(top level)" cfg0);
      section = n: if cfg ? ${n} then checkTable n cfg.${n} else { };

      daemon0 = checkKeys "daemon" [ "log_level" "transport" ] (section "daemon");
      daemon = if daemon0 ? transport then builtins.seq (transportKey daemon0.transport) daemon0 else daemon0;
      defaultsRaw0 = checkKeys "defaults" (limitKeys ++ [ "network" "warm_pool" "backend" ]) (section "defaults");
      defaultsRaw = if defaultsRaw0 ? backend then builtins.seq (backendKey "defaults.backend" defaultsRaw0.backend) defaultsRaw0 else defaultsRaw0;
      project = checkKeys "project" [ "path" "mount_point" "use_flake" "flake" "inherit_env" ] (section "project");
      session = checkKeys "session" [ "idle_timeout_seconds" "max_lifetime_seconds" "max_sessions" ] (section "session");
      # No [environments] at all: the bundled presets. An explicit empty
      # table: none from config (mkServer { sandboxes } supplies them).
      envsRaw = section "environments";

      defaults = {
        limits = limitsOf "defaults" limitDefaults defaultsRaw;
        network = if defaultsRaw ? network then oneOf "defaults.network" networkModes defaultsRaw.network else "none";
        warm_pool = if defaultsRaw ? warm_pool then warmPool "defaults.warm_pool" defaultsRaw.warm_pool else warmPoolDefault;
      };

      # [project] use_flake = true: an environment "project" made of the
      # packages of a flake's devShell (by default the flake in the directory
      # of config.toml: flake = "path:.").
      useFlake =
        if !(project ? use_flake) then false
        else if isBool project.use_flake then project.use_flake
        else fail "project.use_flake" "must be true or false, got ${show project.use_flake}";
      projectFlake =
        if !(project ? flake) then (if useFlake then "path:." else null)
        else if !useFlake then fail "project.flake" "is only read with use_flake = true"
        else
          let f = nonEmptyString "project.flake" project.flake;
          in if match "[^#]+(#[^#]+)?" f != null then f
             else fail "project.flake" "must look like \"flakeref\" or \"flakeref#devShell\", got ${toJSON f}";
      projectSource = if useFlake then { kind = "devshell"; flake = projectFlake; } else null;

      envs0 =
        if !(cfg ? environments) then
          map (p: normalizeEnv defaults null p { preset = p; }) defaultPresets
        else
          map (n: normalizeEnv defaults projectSource n envsRaw.${n}) (attrNames envsRaw);
      envs1 = envs0
        ++ (if useFlake && !(envsRaw ? project) then [ (normalizeEnv defaults projectSource "project" { }) ] else [ ]);
      # Names that differ only in case would confuse a model choosing `env`.
      lower = n: builtins.replaceStrings
        (builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26)
        (builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26) n;
      clash = filter (a: length (filter (b: lower b.name == lower a.name) envs1) > 1) envs1;
      envs = if clash == [ ] then envs1
        else fail "environments" "${concatStringsSep " and " (map (e: toJSON e.name) clash)} differ only in case; rename one";
    in {
      daemon.log_level = builtins.seq (if cfg ? backends then checkBackends cfg.backends else true)
        (if daemon ? log_level then oneOf "daemon.log_level" logLevels daemon.log_level else "info");
      inherit defaults;
      project = {
        path = if project ? path then projectPath "project.path" project.path else ".";
        mount_point = if project ? mount_point then mountPoint project.mount_point else "/project";
        use_flake = useFlake;
        flake = projectFlake;
        inherit_env = if project ? inherit_env then inheritEnv project.inherit_env else [ ];
      };
      session = {
        idle_timeout_seconds = if session ? idle_timeout_seconds then positiveInt "session.idle_timeout_seconds" 604800 session.idle_timeout_seconds else 300;
        max_lifetime_seconds = if session ? max_lifetime_seconds then positiveInt "session.max_lifetime_seconds" 2592000 session.max_lifetime_seconds else 3600;
        max_sessions = if session ? max_sessions then positiveInt "session.max_sessions" 256 session.max_sessions else 16;
      };
      environments = envs;
    };

  # Accept a path to a TOML file, a TOML string's parsed attrset, or null.
  load = config:
    if config == null then { }
    else if isAttrs config then config
    else if builtins.isPath config || (isString config && match "/.*" config != null) then
      # The TOML parser's own message shows the bad line but not the file;
      # this context names it under --show-trace (Nix prints contexts only
      # there; a parse error cannot be caught to say it otherwise).
      builtins.addErrorContext "while reading the configuration file ${toString config} (TOML)"
        (builtins.fromTOML (builtins.readFile config))
    else throw "config: expected a path to config.toml or an attribute set, got ${typeOf config}";
in
{
  inherit normalize load limitDefaults limitKeys presetNames defaultPresets interpreterTypes envNameOk warmPoolDefault;
  fromConfig = config: normalize (load config);
}
