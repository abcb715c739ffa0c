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
, limits
}:
let
  lib = pkgs.lib;

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

  root = pkgs.buildEnv {
    name = "sandbox-env-${name}";
    paths = packages ++ jailTools;
    ignoreCollisions = true;
  };

  program = if interpreter != null then interpreter else "${root}/bin/${defaultProgram}";

  # The closure is everything the sandbox may see. An interpreter given as a
  # store path with context joins the roots; a bare string must live in root.
  closure = pkgs.closureInfo {
    rootPaths = [ root ] ++ lib.optional (builtins.hasContext program) program;
  };
in
{
  inherit name interpreter_type root closure limits;
  description =
    if description != null then description
    else "Custom ${interpreter_type} environment";
  network = network == "host";
  sh = "${pkgs.bash}/bin/bash";
  env_bin = "${pkgs.coreutils}/bin/env";
  argv = [ program ] ++ interpreterFlags;
  # Sessions keep an in-sandbox agent alive (agent/); until that lands the
  # session argv is the one-shot interpreter and the server refuses `session`.
  agent_argv = [ program ] ++ interpreterFlags;
}
