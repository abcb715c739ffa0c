# nix/environment.nix — one sandbox environment: its packages, the tools the
# jail itself needs, and the runtime closure the server bakes in.
#
# Owns: turning an environment spec into { root, sh, env_bin, argv, closure … }.
# Must not: validate config (nix/config.nix did) or know about the C table
# layout beyond the keys of env.json (docs/env-json.md).
{ pkgs }:
{ name
, interpreter_type
, packages
, description ? null
, interpreter ? null
, network ? "none"
, warm_pool # spares kept at most (nix/config.nix)
, limits
}:
let
  # What code is handed to, by interpreter_type, unless the spec says otherwise.
  defaultProgram = {
    bash = "bash";
    python = "python3";
    node = "node";
  }.${interpreter_type};

  # Flags before the code file's path (the jail appends it).
  interpreterFlags = {
    bash = [ "--noprofile" "--norc" ];
    python = [ ];
    node = [ ];
  }.${interpreter_type};

  # The jail binds /bin/sh and /usr/bin/env; they belong to every environment
  # whatever its packages, so add them last (the environment's own win).
  jailTools = [ pkgs.bash pkgs.coreutils ];

  # `interpreter`: null (the default program of interpreter_type), or a
  # command line "PROGRAM [ARG…]": PROGRAM is an absolute path, or a path
  # relative to the environment's root ("bin/python3.12"), or a name in its
  # bin/ ("python3"); the ARGs replace the default flags before the code
  # file in one-shot runs (sessions start PROGRAM with the agent).
  words = if interpreter == null then [ ]
    else builtins.filter (w: builtins.isString w && w != "") (builtins.split "[ \t]+" interpreter);
  prog0 = if words == [ ] then "bin/${defaultProgram}" else builtins.head words;
  absolute = builtins.substring 0 1 prog0 == "/";
  relProgram = if builtins.match ".*/.*" prog0 != null then prog0 else "bin/${prog0}";
  # The original nix-sandbox-mcp's forms hand code over on stdin ("bash -s")
  # or as an argument ("python3 -c", "node -e"); here it is always a file,
  # which those interpreters run the same way: the flag is dropped.
  codeFlags = {
    bash = [ "-s" "-c" ];
    python = [ "-c" "-" ];
    node = [ "-e" "--eval" "-p" "--print" "-" ];
  }.${interpreter_type};
  args0 = if words == [ ] then [ ] else builtins.tail words;
  extraArgs =
    if args0 != [ ] && builtins.elem (pkgs.lib.last args0) codeFlags
    then pkgs.lib.init args0 else args0;

  root = pkgs.buildEnv {
    name = "sandbox-env-${name}";
    paths = packages ++ jailTools;
    ignoreCollisions = true;
    # A program inside the root must exist: fail the build naming the
    # environment, not the first run. (Empty for the presets, which name an
    # absolute path: their roots stay as they were.)
    postBuild = if absolute then "" else ''
      if [ ! -x "$out/${relProgram}" ]; then
        echo "environment ${name}: ${relProgram} is not in the environment; add the package providing it to packages (or set interpreter)" >&2
        exit 1
      fi
    '';
  };

  program = if absolute then prog0 else "${root}/${relProgram}";
  sessionCapable = interpreter == null || builtins.match {
    bash = "(ba)?sh";
    python = "(python|pypy)[0-9.]*m?";
    node = "node(js)?[0-9.]*";
  }.${interpreter_type} (baseNameOf prog0) != null;

  # The session agent (agent/, PROTOCOL.md) for this interpreter_type: a
  # derivation holding only that one file, so a node environment carries no
  # Python and the other way round. It runs on the environment's own
  # interpreter.
  agentFile = {
    bash = ../agent/bash_agent.sh;
    python = ../agent/python_agent.py;
    node = ../agent/node_agent.js;
  }.${interpreter_type};
  agentName = baseNameOf (toString agentFile);
  # The warm one-shot launcher (agent/*_warm.*) sits beside the agent: the
  # server finds it there (csrc/jail.c, jail_warm_start). Bash has none.
  warmFile = {
    bash = null;
    python = ../agent/python_warm.py;
    node = ../agent/node_warm.js;
  }.${interpreter_type};
  agent = pkgs.runCommand "nsm-agent-${interpreter_type}" { preferLocalBuild = true; } (''
    mkdir -p $out/share/nix-sandbox-mcp
    cp ${agentFile} $out/share/nix-sandbox-mcp/${agentName}
    chmod 0444 $out/share/nix-sandbox-mcp/${agentName}
  '' + pkgs.lib.optionalString (warmFile != null) ''
    cp ${warmFile} $out/share/nix-sandbox-mcp/${baseNameOf (toString warmFile)}
    chmod 0444 $out/share/nix-sandbox-mcp/${baseNameOf (toString warmFile)}
  '');

  # The closure is everything the sandbox may see: the environment and its
  # agent. The interpreter must be inside it (its package among `packages`):
  # nix/server.nix checks that.
  closure = pkgs.closureInfo { rootPaths = [ root agent ]; };
in
{
  inherit name interpreter_type root closure limits agent warm_pool;
  description =
    if description != null then description
    else "Custom ${interpreter_type} environment";
  network = network == "host";
  sh = "${pkgs.bash}/bin/bash";
  env_bin = "${pkgs.coreutils}/bin/env";
  argv = [ program ] ++ (if extraArgs != [ ] then extraArgs else interpreterFlags);
  # Sessions keep the agent alive as the sandbox's interpreter (fd 3 is its
  # control channel; see agent/PROTOCOL.md). Only a program of the type's
  # own kind can run its agent (a bash script, a Python or a Node module):
  # another one (`interpreter = "jq -n -f"`) gets no sessions, and the
  # server says so in its tool description and refuses them by name.
  agent_argv = if sessionCapable
    then [ program ] ++ interpreterFlags ++ [ "${agent}/share/nix-sandbox-mcp/${agentName}" ]
    else [ ];
}
