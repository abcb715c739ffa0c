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
  # evaluation, so the flake is evaluated here the way Nix does it (and
  # edolstra/flake-compat, whose algorithm this follows): every node of its
  # flake.lock is fetched with builtins.fetchTree from its `locked` entry
  # (pure: the entry is locked), `follows` are resolved through the root
  # node, and an input with `flake = false` is its source tree. Two inputs
  # of the flake itself are not fetched:
  #   - the one named `nixpkgs` (exactly that name, or `nixpkgsInput` given to
  #     mkServer): the server's own nixpkgs, so environments share its
  #     package set and nothing is fetched twice. Every input that follows it
  #     (`inputs.x.inputs.nixpkgs.follows = "nixpkgs"`) gets the same;
  #   - the one named `nix-sandbox-mcp`: this library.
  # No other input is matched or replaced: `nixpkgs-python` or a second
  # pinned `nixpkgs-24_11` are fetched as locked.
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

  epochInfo = { lastModified = 0; lastModifiedDate = "19700101000000"; };

  # The flake's own source (self.sourceInfo). A `path:` reference is the
  # whole directory, as Nix copies it. A plain one inside a git work tree is
  # what git tracks (git+file semantics: untracked files are not part of
  # the flake), which needs the work tree, i.e. impure evaluation; a
  # directory already in the store (the usual case: config.toml inside a
  # flake, whose source Nix copied with git's file list) is taken as it is.
  findGitRoot = p:
    if pathExists (p + "/.git") then p
    else if toString p == "/" then null
    else findGitRoot (dirOf p);
  rootSourceInfo = { ref, dir }:
    let
      d = toString dir;
      inStore = substring 0 (builtins.stringLength builtins.storeDir + 1) d == builtins.storeDir + "/";
      gitRoot = if inStore || match "path:.*" ref != null then null else findGitRoot dir;
    in
    if gitRoot != null then
      let
        g = builtins.fetchGit (toString gitRoot);
        sub = substring (builtins.stringLength (toString gitRoot)) (-1) d;
      in
      (removeAttrs g [ "outPath" ]) // { outPath = g.outPath + sub; }
    else if inStore then epochInfo // { outPath = d; }
    else epochInfo // { outPath = builtins.path { path = dir; name = "source"; }; };

  # The input the flake names `nixpkgs`, given the server's package set:
  # the nixpkgs flake itself when mkServer has it (the flake's own input),
  # else a flake value made from pkgs (legacyPackages for every system, lazily
  # imported from pkgs.path; lib; its source as outPath).
  mkNixpkgsInput = pkgs: nixpkgsFlake:
    if nixpkgsFlake != null then nixpkgsFlake
    else
      let
        system = pkgs.stdenv.hostPlatform.system;
        path = pkgs.path;
        sourceInfo = epochInfo // { outPath = path; };
      in
      sourceInfo // {
        legacyPackages = pkgs.lib.genAttrs flakeSystems
          (s: if s == system then pkgs else import path { system = s; });
        lib = pkgs.lib;
        inherit sourceInfo;
        _type = "flake";
      };
  # lib.systems.flakeExposed
  flakeSystems = [
    "x86_64-linux" "aarch64-linux" "x86_64-darwin" "armv6l-linux" "armv7l-linux"
    "i686-linux" "aarch64-darwin" "powerpc64le-linux" "riscv64-linux" "x86_64-freebsd"
  ];

  callLocalFlake = { pkgs, where, ref ? "path:.", nixpkgsInput ? "nixpkgs", nixpkgsFlake ? null }: dir:
    let
      rootFlake =
        if pathExists (dir + "/flake.nix") then import (dir + "/flake.nix")
        else throw "config.toml: ${where}: ${toString dir} has no flake.nix";
      lock =
        if pathExists (dir + "/flake.lock")
        then builtins.fromJSON (builtins.readFile (dir + "/flake.lock"))
        else { root = "root"; nodes.root = { }; };
      rootKey = lock.root;
      nodes = lock.nodes;
      # The names the flake asks for: its flake.lock's root inputs, and
      # what flake.nix declares (a declared input missing from the lock
      # file is an error below, unless it is one of the two replaced ones).
      declared = filter (n: n != "self")
        (attrNames ((rootFlake.inputs or { }) // functionArgs rootFlake.outputs));
      rootInputs = (nodes.${rootKey}.inputs or { })
        // listToAttrs (map (n: { name = n; value = null; })
             (filter (n: !((nodes.${rootKey}.inputs or { }) ? ${n})) declared));
      # An input spec is a node key, or a follows path from the root.
      resolve = spec: if builtins.isList spec then byPath rootKey spec else spec;
      byPath = key: path:
        if path == [ ] then key
        else byPath (resolve nodes.${key}.inputs.${head path}) (tail path);
      special = {
        ${nixpkgsInput} = mkNixpkgsInput pkgs nixpkgsFlake;
        nix-sandbox-mcp = nsmInput;
      };
      # Node keys the two replaced inputs resolve to: whatever follows them
      # gets the replacement too.
      specialKeys = listToAttrs (filter (x: x.name != null)
        (map (n: { name = let s = rootInputs.${n} or null; in if s == null then null else resolve s; value = special.${n}; })
          (filter (n: rootInputs ? ${n}) (attrNames special))));
      fetchNode = key:
        let
          node = nodes.${key};
          locked = node.locked or (throw "config.toml: ${where}: ${toString dir}/flake.lock: node ${key} is not locked (run nix flake lock there)");
          l = removeAttrs locked [ "dir" ];
          l' = if l.type == "path" && substring 0 1 l.path != "/"
               then l // { path = toString dir + "/" + l.path; } else l;
          src = builtins.fetchTree l';
          subdir = locked.dir or "";
        in
        src // { outPath = if subdir == "" then src.outPath else src.outPath + "/" + subdir; };
      nodeValue = key:
        if specialKeys ? ${key} then specialKeys.${key}
        else
          let
            node = nodes.${key};
            sourceInfo = fetchNode key;
          in
          if node.flake or true
          then mkFlake { flake = import (sourceInfo.outPath + "/flake.nix"); inherit sourceInfo; inputSpecs = node.inputs or { }; }
          else sourceInfo;
      allNodes = builtins.mapAttrs (key: _: nodeValue key) nodes;
      inputOf = specs: name:
        let spec = specs.${name}; in
        if spec == null then
          special.${name} or (throw "config.toml: ${where}: input ${name} of ${toString dir} is not in its flake.lock (run nix flake lock there)")
        else allNodes.${resolve spec};
      mkFlake = { flake, sourceInfo, inputSpecs }:
        let
          inputs = listToAttrs (map (n: { name = n; value = inputOf inputSpecs n; }) (attrNames inputSpecs));
          outputs = flake.outputs (inputs // { self = result; });
          result = outputs // sourceInfo // {
            inherit inputs outputs sourceInfo;
            _type = "flake";
          };
        in
        result;
      rootInputOf = n: if special ? ${n} then special.${n} else inputOf rootInputs n;
      rootInputsValue = listToAttrs (map (n: { name = n; value = rootInputOf n; }) (attrNames rootInputs));
      rootSource = rootSourceInfo { inherit ref dir; };
      rootOutputs = rootFlake.outputs (rootInputsValue // { self = rootResult; });
      rootResult = rootOutputs // rootSource // {
        inputs = rootInputsValue;
        outputs = rootOutputs;
        sourceInfo = rootSource;
        _type = "flake";
      };
    in
    rootResult;

  # The flake named by a reference: local ones as above, everything else
  # through builtins.getFlake (pure evaluation accepts only locked
  # references, e.g. github:org/envs/<rev>; unlocked ones need --impure).
  flakeOf = { pkgs, base, where, nixpkgsInput ? "nixpkgs", nixpkgsFlake ? null }: flakeRef:
    if isLocalRef flakeRef
    then callLocalFlake { inherit pkgs where nixpkgsInput nixpkgsFlake; ref = flakeRef; } (localDir { inherit base where; } flakeRef)
    else builtins.getFlake flakeRef;

  # Resolve "ref#attr" for an environment. `nixpkgs` means the package set the
  # server is built with; attr is looked up as packages.<system>.attr,
  # legacyPackages.<system>.attr, then as an attribute path of the outputs.
  resolveFlake = ctx@{ pkgs, where, ... }: ref:
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
    else fromFlake (flakeOf ctx flakeRef);

  # [project] use_flake: the packages of a flake's devShell
  # (devShells.<system>.<name>, default "default"; or the older
  # devShell.<system>): its nativeBuildInputs (mkShell folds `packages` into
  # them), buildInputs and their propagated counterparts.
  devShellSpec = ctx@{ pkgs, ... }: ref:
    let
      where = "project.flake";
      parts = match "([^#]+)(#(.+))?" ref;
      flakeRef = builtins.elemAt parts 0;
      shellName = let n = builtins.elemAt parts 2; in if n == null then "default" else n;
      system = pkgs.stdenv.hostPlatform.system;
      flake = flakeOf (ctx // { inherit where; }) flakeRef;
      shell =
        let
          a = getPath flake [ "devShells" system shellName ];
          b = if shellName == "default" then getPath flake [ "devShell" system ] else null;
        in
        if a != null then a else if b != null then b
        else throw "config.toml: ${where}: ${ref}: no devShells.${system}.${shellName}";
      inputs = pkgs.lib.unique (filter isDerivation (
        (shell.nativeBuildInputs or [ ]) ++ (shell.buildInputs or [ ])
        ++ (shell.propagatedNativeBuildInputs or [ ]) ++ (shell.propagatedBuildInputs or [ ])));
      # mkDerivation exposes its inputs as their dev outputs
      # (lib.chooseDevOutputs, outputSpecified = true), and buildEnv links a
      # chosen output alone: jq would give the environment jq.dev and no
      # bin/jq. Each input counts as the outputs a user installs
      # (meta.outputsToInstall: bin and man for jq, curl, openssl).
      installed = p:
        if (p.meta.outputsToInstall or null) != null
        then map (o: p.${o}) p.meta.outputsToInstall
        else [ p ];
      packages = pkgs.lib.unique (builtins.concatMap installed inputs);
      shown = pkgs.lib.unique (map (p: p.pname or p.name) inputs);
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
  specOf = { pkgs, flakeCtx, rawEnvs }: e:
    let
      where = "environments.${e.name}";
      rawEnv = rawEnvs.${e.name} or { };
      base' =
        if e.source.kind == "preset" then presets.${e.source.preset} { inherit pkgs; }
        else if e.source.kind == "devshell" then devShellSpec flakeCtx e.source.flake
        else
          let v = resolveFlake (flakeCtx // { inherit where; }) e.source.flake; in
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
      warm_pool = if isSandbox && !(rawEnv ? warm_pool) then base'.warm_pool or e.warm_pool else e.warm_pool;
      description = if e.description != null then e.description else base'.description or null;
      interpreter =
        if e.interpreter != null then e.interpreter
        else if e.interpreter_type != null && e.interpreter_type != (base'.interpreter_type or null) then null
        else base'.interpreter or null;
    };

  # mkServer, with attributes for the result's passthru (mkSandbox's spec:
  # in passthru it survives overrideAttrs).
  mkServerWith = extraPassthru:
    { pkgs
    , config ? null          # path to config.toml, or an attribute set of the same shape
    , sandboxes ? [ ]        # values of mkSandbox; one named like a config environment replaces it
    , configDir ? null       # base of relative flake references (default: the directory of config)
    , nixpkgs ? null         # the nixpkgs flake pkgs comes from: what local flakes get as their nixpkgs input
    , nixpkgsInput ? "nixpkgs" # the name of that input in local flakes
    }:
    let
      flakeCtx = { inherit pkgs base nixpkgsInput; nixpkgsFlake = nixpkgs; };
      raw = configLib.load config;
      cfg = configLib.normalize raw;
      base =
        if configDir != null then configDir
        else if isPath config || (isString config && match "/.*" config != null) then dirOf config
        else null;
      rawEnvs = if isAttrs (raw.environments or null) then raw.environments else { };
      fromConfig = map (specOf { inherit pkgs flakeCtx rawEnvs; }) cfg.environments;
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
      passthru = extraPassthru;
    };

  mkServer = mkServerWith { };

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
    , warm_pool ? configLib.warmPoolDefault # (not in the original: spares kept, see config.nix)
    }:
    let
      # Validate through the same code as config.toml so the messages match.
      checked = configLib.normalize {
        environments.${name} = {
          preset = "shell"; # placeholder source; only name, type and limits are used
          inherit interpreter_type network timeout_seconds memory_mb warm_pool;
        } // limits // (if description != null then { inherit description; } else { });
      };
      e = head checked.environments;
      spec = {
        inherit name interpreter_type packages interpreter;
        inherit (e) limits network description warm_pool;
      };
    in
    mkServerWith { sandbox = { inherit spec; }; } {
      inherit pkgs;
      config = { environments = { }; };
      sandboxes = [ { sandbox.spec = spec; } ];
    };

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
  # `ref`: how the flake is named (a path: reference is the whole directory,
  # a plain one inside a git work tree what git tracks).
  callLocalFlake = { pkgs, nixpkgs ? null, nixpkgsInput ? "nixpkgs", ref ? "path:." }: dir:
    callLocalFlake { inherit pkgs nixpkgsInput ref; nixpkgsFlake = nixpkgs; where = "callLocalFlake"; } dir;
}
