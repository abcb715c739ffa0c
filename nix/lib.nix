# nix/lib.nix — the public Nix API: mkServer and mkSandbox.
#
# Owns: resolving each configured environment (preset, flake reference,
# mkSandbox value or the project's devShell) into packages, and wiring
# nix/server.nix.
# Must not: validate config.toml (nix/config.nix) or build C (nix/server.nix).
let
  configLib = import ./config.nix;
  presets = import ../presets;
  version = "0.1.0";

  inherit (builtins)
    attrNames concatStringsSep elem filter functionArgs head isAttrs isPath
    isString listToAttrs match pathExists substring tail;

  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  getPath = set: path:
    builtins.foldl' (acc: k: if acc != null && isAttrs acc && acc ? ${k} then acc.${k} else null) set path;

  # ---- local flakes, evaluated in-process ---------------------------------
  #
  # `path:./envs`, `./envs`, `path:/abs/envs`, `/abs/envs`: a flake on the
  # local file system. Relative ones are relative to the directory of
  # config.toml. builtins.getFlake refuses such (unlocked) references in pure
  # evaluation, so they are not fetched: their flake.nix is imported and its
  # `outputs` called here, with
  #   - the input `nixpkgs` (or any input whose url or follows names nixpkgs):
  #     the package set the server is built with (legacyPackages.<system> =
  #     pkgs), so the environments share the server's nixpkgs;
  #   - the input `nix-sandbox-mcp` (or a url naming it): this library;
  #   - any other input: its locked entry in the flake's flake.lock, through
  #     builtins.getFlake (pure, since the reference is locked).
  # This works in pure evaluation (inside a flake, or nix-build) as long as
  # the directory is readable: inside the flake's own source, or anywhere
  # with --impure.
  isLocalRef = ref: match "(path:.*|\\.|\\./.*|\\.\\./.*|/.*)" ref != null;

  localDir = { base, where }: ref:
    let
      p0 = if match "path:.*" ref != null then substring 5 (-1) ref else ref;
      p = let m = match "(.*)\\?.*" p0; in if m != null then head m else p0;
      rel = let m = match "\\./(.*)" p; in if m != null then head m else p;
    in
    if substring 0 1 p == "/" then p
    else if base == null then
      throw "config.toml: ${where}: ${ref} is relative to the directory of config.toml: give mkServer the configuration as a path (config = ./config.toml) or set configDir"
    else if rel == "." || rel == "" then base
    else base + "/${rel}";

  lockedRef = where: name: l:
    let
      q = if l ? narHash then "narHash=${l.narHash}" else "";
      withDir = s: if l ? dir then s + (if match ".*\\?.*" s != null then "&" else "?") + "dir=${l.dir}" else s;
    in
    withDir (
      if elem l.type [ "github" "gitlab" "sourcehut" ] then "${l.type}:${l.owner}/${l.repo}/${l.rev}?${q}"
      else if l.type == "path" then "path:${l.path}?${q}"
      else if l.type == "git" then "git+${l.url}?rev=${l.rev}&${q}"
      else if l.type == "tarball" || l.type == "file" then "${l.type}+${l.url}?${q}"
      else throw "config.toml: ${where}: input ${name} has a lock entry of type ${l.type}, which nix-sandbox-mcp does not resolve; make it follow nixpkgs or use a non-local flake reference (with --impure)");

  mkNixpkgsInput = pkgs: {
    legacyPackages.${pkgs.stdenv.hostPlatform.system} = pkgs;
    lib = pkgs.lib;
    outPath = pkgs.path or (throw "nix-sandbox-mcp: this package set has no `path`; use nixpkgs.legacyPackages.<system> in the environments flake");
    _type = "flake";
  };

  callLocalFlake = { pkgs, where }: dir:
    let
      flakeFile = dir + "/flake.nix";
      flake =
        if pathExists flakeFile then import flakeFile
        else throw "config.toml: ${where}: ${toString dir} has no flake.nix";
      lock =
        if pathExists (dir + "/flake.lock")
        then builtins.fromJSON (builtins.readFile (dir + "/flake.lock")) else null;
      specs = flake.inputs or { };
      names = filter (n: n != "self")
        (attrNames (specs // functionArgs flake.outputs));
      spec = n: let s = specs.${n} or { }; in if isString s then { url = s; } else s;
      mentions = pat: n:
        let s = spec n; in
        n == pat
        || (s ? url && match ".*${pat}.*" s.url != null)
        || (s ? follows && match "(.*/)?${pat}" s.follows != null);
      fromLock = n:
        let
          node = getPath lock [ "nodes" "root" "inputs" n ];
        in
        if isString node && lock.nodes.${node} ? locked
        then builtins.getFlake (lockedRef where n lock.nodes.${node}.locked)
        else throw "config.toml: ${where}: input ${n} of ${toString dir} is neither nixpkgs nor nix-sandbox-mcp and is not locked in its flake.lock (run nix flake lock there)";
      input = n:
        if mentions "nix-sandbox-mcp" n then nsmInput
        else if mentions "nixpkgs" n then mkNixpkgsInput pkgs
        else fromLock n;
      inputs = listToAttrs (map (n: { name = n; value = input n; }) names);
      outputs = flake.outputs (inputs // { inherit self; });
      self = outputs // {
        outPath = dir;
        sourceInfo = { outPath = dir; };
        inherit inputs outputs;
        _type = "flake";
      };
    in
    self;

  # The flake named by a reference: local ones as above, everything else
  # through builtins.getFlake (pure evaluation accepts only locked
  # references, e.g. github:org/envs/<rev>; unlocked ones need --impure).
  flakeOf = { pkgs, base, where }: flakeRef:
    if isLocalRef flakeRef
    then callLocalFlake { inherit pkgs where; } (localDir { inherit base where; } flakeRef)
    else builtins.getFlake flakeRef;

  # Resolve "ref#attr" for an environment. `nixpkgs` means the package set the
  # server is built with; attr is looked up as packages.<system>.attr,
  # legacyPackages.<system>.attr, then as an attribute path of the outputs.
  resolveFlake = { pkgs, base, where }: ref:
    let
      parts = match "([^#]+)#(.+)" ref;
      flakeRef = builtins.elemAt parts 0;
      attr = builtins.elemAt parts 1;
      attrPath = pkgs.lib.splitString "." attr;
      system = pkgs.stdenv.hostPlatform.system;
      fromFlake = flake:
        let
          found = filter (x: x != null) [
            (getPath flake ([ "packages" system ] ++ attrPath))
            (getPath flake ([ "legacyPackages" system ] ++ attrPath))
            (getPath flake attrPath)
          ];
        in
        if found == [ ] then throw "config.toml: ${where}: ${ref}: no attribute ${attr} for ${system} (tried packages.${system}.${attr}, legacyPackages.${system}.${attr}, ${attr})"
        else head found;
    in
    if flakeRef == "nixpkgs" then
      (let v = getPath pkgs attrPath; in
        if v == null then throw "config.toml: ${where}: ${ref}: nixpkgs has no attribute ${attr}" else v)
    else fromFlake (flakeOf { inherit pkgs base where; } flakeRef);

  # [project] use_flake: the packages of a flake's devShell
  # (devShells.<system>.<name>, default "default"; or the older
  # devShell.<system>): what mkShell was given as packages, nativeBuildInputs
  # and buildInputs (and their propagated inputs).
  devShellSpec = { pkgs, base }: ref:
    let
      where = "project.flake";
      parts = match "([^#]+)(#(.+))?" ref;
      flakeRef = builtins.elemAt parts 0;
      shellName = let n = builtins.elemAt parts 2; in if n == null then "default" else n;
      system = pkgs.stdenv.hostPlatform.system;
      flake = flakeOf { inherit pkgs base where; } flakeRef;
      shell =
        let
          a = getPath flake [ "devShells" system shellName ];
          b = if shellName == "default" then getPath flake [ "devShell" system ] else null;
        in
        if a != null then a else if b != null then b
        else throw "config.toml: ${where}: ${ref}: no devShells.${system}.${shellName}";
      packages = pkgs.lib.unique (filter isDerivation (
        (shell.packages or [ ]) ++ (shell.nativeBuildInputs or [ ]) ++ (shell.buildInputs or [ ])
        ++ (shell.propagatedNativeBuildInputs or [ ]) ++ (shell.propagatedBuildInputs or [ ])));
      shown = map (p: p.pname or p.name) packages;
      few = if builtins.length shown > 8 then pkgs.lib.take 8 shown ++ [ "…" ] else shown;
    in
    {
      inherit packages;
      interpreter_type = "bash";
      description = "The project's devShell (${flakeRef}): ${concatStringsSep ", " few}";
    };

  # An environment spec (input of nix/environment.nix) from a normalized
  # config entry. `rawEnv` is the entry as written, to tell the keys the
  # configuration sets from defaults.
  specOf = { pkgs, base, cfg, rawEnvs }: e:
    let
      where = "environments.${e.name}";
      rawEnv = rawEnvs.${e.name} or { };
      base' =
        if e.source.kind == "preset" then presets.${e.source.preset} { inherit pkgs; }
        else if e.source.kind == "devshell" then devShellSpec { inherit pkgs base; } e.source.flake
        else
          let v = resolveFlake { inherit pkgs base where; } e.source.flake; in
          if v ? sandbox then v.sandbox.spec            # a mkSandbox value
          else if isDerivation v then {
            packages = [ v ];
            description = "${v.pname or v.name or "package"} (${e.source.flake})";
          }
          else throw "config.toml: ${where}.flake: ${e.source.flake} is neither a package nor a mkSandbox value";
      # A mkSandbox value keeps its own limits, network and description
      # unless this entry sets them (not [defaults]).
      isSandbox = base' ? limits;
      setLimits = filter (k: rawEnv ? ${k}) configLib.limitKeys;
      interpreterType =
        if e.interpreter_type != null then e.interpreter_type else base'.interpreter_type;
    in
    {
      inherit (e) name;
      interpreter_type = interpreterType;
      packages = base'.packages;
      limits =
        if isSandbox then base'.limits // listToAttrs (map (k: { name = k; value = e.limits.${k}; }) setLimits)
        else e.limits;
      network = if isSandbox && !(rawEnv ? network) then base'.network else e.network;
      description = if e.description != null then e.description else base'.description or null;
      interpreter =
        if e.interpreter != null then e.interpreter
        else if e.interpreter_type != null && e.interpreter_type != (base'.interpreter_type or null) then null
        else base'.interpreter or null;
    };

  mkServer =
    { pkgs
    , config ? null          # path to config.toml, or an attribute set of the same shape
    , sandboxes ? [ ]        # values of mkSandbox; one named like a config environment replaces it
    , configDir ? null       # base of relative flake references (default: the directory of config)
    }:
    let
      raw = configLib.load config;
      cfg = configLib.normalize raw;
      base =
        if configDir != null then configDir
        else if isPath config || (isString config && match "/.*" config != null) then dirOf config
        else null;
      rawEnvs = if isAttrs (raw.environments or null) then raw.environments else { };
      fromConfig = map (specOf { inherit pkgs base cfg rawEnvs; }) cfg.environments;
      sandboxSpecs = map (s:
        if s ? sandbox then s.sandbox.spec
        else throw "mkServer: sandboxes: expected values of mkSandbox, got ${builtins.typeOf s}") sandboxes;
      sandboxNames = map (s: s.name) sandboxSpecs;
      dup = filter (n: builtins.length (filter (m: m == n) sandboxNames) > 1) sandboxNames;
      specs = filter (s: !(elem s.name sandboxNames)) fromConfig ++ sandboxSpecs;
      sorted = builtins.sort (a: b: a.name < b.name) specs;
      environments = map (import ./environment.nix { inherit pkgs; }) sorted;
      # Hash of what decides the table: the normalized config and every
      # environment's packages (by store path).
      configHash = builtins.hashString "sha256" (builtins.toJSON {
        config = cfg // { environments = null; };
        environments = map (s: s // { packages = map toString s.packages; }) sorted;
      });
    in
    if dup != [ ] then throw "mkServer: sandboxes: two sandboxes are named ${head dup}"
    else if sorted == [ ] then throw "config.toml: environments: at least one environment is needed"
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
      e = head checked.environments;
      spec = {
        inherit name interpreter_type packages interpreter;
        inherit (e) limits network description;
      };
      server = mkServer { inherit pkgs; config = { environments = { }; }; sandboxes = [ { sandbox.spec = spec; } ]; };
    in
    server // { sandbox = { inherit spec; }; };

  # What a local flake's `nix-sandbox-mcp` input is (see callLocalFlake).
  nsmInput = {
    lib = { inherit mkServer mkSandbox; };
    outPath = ../.;
    _type = "flake";
  };
in
{
  inherit mkServer mkSandbox version;
  inherit (configLib) fromConfig;
  # Evaluate a local flake the way config.toml's path: references are
  # (its nixpkgs input = pkgs); for tests and for building its outputs
  # without fetching: (lib.callLocalFlake { inherit pkgs; } ./envs).packages…
  callLocalFlake = { pkgs }: dir: callLocalFlake { inherit pkgs; where = "callLocalFlake"; } dir;
}
