# nix/lib.nix — the public Nix API: mkServer and mkSandbox.
#
# Owns: resolving each configured environment (preset, flake reference or
# mkSandbox value) into packages, and wiring nix/server.nix.
# Must not: validate config.toml (nix/config.nix) or build C (nix/server.nix).
let
  configLib = import ./config.nix;
  presets = import ../presets;
  version = "0.1.0";

  # Resolve "ref#attr" for an environment. `nixpkgs` means the package set the
  # server is built with; anything else goes through builtins.getFlake (pinned
  # refs evaluate purely; others need --impure, as with any flake reference).
  resolveFlake = pkgs: where: ref:
    let
      parts = builtins.match "([^#]+)#(.+)" ref;
      flakeRef = builtins.elemAt parts 0;
      attrPath = pkgs.lib.splitString "." (builtins.elemAt parts 1);
      system = pkgs.stdenv.hostPlatform.system;
      getPath = set: path:
        builtins.foldl' (acc: k: if acc != null && builtins.isAttrs acc && acc ? ${k} then acc.${k} else null) set path;
      fromFlake = flake:
        let
          candidates = [
            (getPath flake ([ "packages" system ] ++ attrPath))
            (getPath flake ([ "legacyPackages" system ] ++ attrPath))
            (getPath flake attrPath)
          ];
          found = builtins.filter (x: x != null) candidates;
        in
        if found == [ ] then throw "config.toml: ${where}: ${ref}: no attribute ${builtins.elemAt parts 1} for ${system}"
        else builtins.head found;
    in
    if flakeRef == "nixpkgs" then
      (let v = getPath pkgs attrPath; in
        if v == null then throw "config.toml: ${where}: ${ref}: nixpkgs has no attribute ${builtins.elemAt parts 1}" else v)
    else fromFlake (builtins.getFlake flakeRef);

  # An environment spec (input of nix/environment.nix) from a normalized
  # config entry.
  specOf = pkgs: e:
    let
      where = "environments.${e.name}";
      base =
        if e.source.kind == "preset" then presets.${e.source.preset} { inherit pkgs; }
        else
          let v = resolveFlake pkgs where e.source.flake; in
          if v ? sandbox then v.sandbox.spec            # a mkSandbox value
          else if v ? type && v.type == "derivation" then { packages = [ v ]; }
          else throw "config.toml: ${where}.flake: ${e.source.flake} is neither a package nor a mkSandbox value";
      interpreterType =
        if e.interpreter_type != null then e.interpreter_type else base.interpreter_type;
    in
    {
      inherit (e) name network limits;
      interpreter_type = interpreterType;
      packages = base.packages;
      description = if e.description != null then e.description else base.description or null;
      interpreter =
        if e.interpreter != null then e.interpreter
        else if e.interpreter_type != null && e.interpreter_type != (base.interpreter_type or null) then null
        else base.interpreter or null;
    };

  mkServer =
    { pkgs
    , config ? null          # path to config.toml, or an attribute set of the same shape
    , sandboxes ? [ ]        # values of mkSandbox; one named like a config environment replaces it
    }:
    let
      cfg = configLib.fromConfig config;
      fromConfig = map (specOf pkgs) cfg.environments;
      sandboxSpecs = map (s: s.sandbox.spec) sandboxes;
      sandboxNames = map (s: s.name) sandboxSpecs;
      specs = builtins.filter (s: !(builtins.elem s.name sandboxNames)) fromConfig ++ sandboxSpecs;
      sorted = builtins.sort (a: b: a.name < b.name) specs;
      environments = map (import ./environment.nix { inherit pkgs; }) sorted;
      # Hash of what decides the table: the normalized config and every
      # environment's packages (by store path).
      configHash = builtins.hashString "sha256" (builtins.toJSON {
        config = cfg // { environments = null; };
        environments = map (s: s // { packages = map toString s.packages; }) sorted;
      });
    in
    if sorted == [ ] then throw "config.toml: environments: at least one environment is needed"
    else import ./server.nix {
      inherit pkgs version configHash environments;
      config = cfg;
    };

  # The original nix-sandbox-mcp's mkSandbox, same arguments. The value is a
  # one-environment server (build it alone) that carries its spec in
  # passthru.sandbox, so it can also be listed in mkServer { sandboxes } or
  # named from config.toml with flake = "…#attr".
  mkSandbox =
    { pkgs
    , name
    , interpreter_type
    , packages
    , timeout_seconds ? 30
    , memory_mb ? 512
    , description ? null
    , network ? "none"
    , limits ? { }
    , interpreter ? null
    }:
    let
      # Validate through the same code as config.toml so the messages match.
      checked = configLib.normalize {
        environments.${name} = {
          preset = "shell"; # placeholder source; only name, type and limits are used
          inherit interpreter_type network timeout_seconds memory_mb;
        } // limits // (if description != null then { inherit description; } else { });
      };
      e = builtins.head checked.environments;
      spec = {
        inherit name interpreter_type packages interpreter;
        inherit (e) limits network description;
      };
      server = mkServer { inherit pkgs; config = { environments = { }; }; sandboxes = [ { sandbox.spec = spec; } ]; };
    in
    server // { sandbox = { inherit spec; }; };
in
{
  inherit mkServer mkSandbox version;
  inherit (configLib) fromConfig;
}
