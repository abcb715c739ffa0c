# nix/server.nix — the per-configuration static server.
#
# Owns: env.json (docs/env-json.md), the codegen run and the musl-static
# compile of csrc/. Must not: let a build-only path (sources, codegen, static
# libraries) into the binary: disallowedReferences enforces it.
{ pkgs, version, configHash, config, environments, passthru ? { } }:
let
  lib = pkgs.lib;
  static = pkgs.pkgsStatic;
  # Build-platform tools: they run during the build, never in the output.
  buildPkgs = pkgs.buildPackages;

  # Every output of the static libraries that the compile or the link reads:
  # the dev output (headers; what mkDerivation puts in buildInputs) propagates
  # lib (libseccomp.a), and out is the package itself.
  staticLibs = [ static.cjson static.libseccomp static.libmicrohttpd ];
  staticOutputs = lib.unique (lib.concatMap (p: [ p (lib.getDev p) (lib.getLib p) ]) staticLibs);

  codegen = buildPkgs.stdenv.mkDerivation {
    pname = "nsm-codegen";
    inherit version;
    src = ../codegen;
    buildInputs = [ buildPkgs.cjson ];
    installFlags = [ "PREFIX=${placeholder "out"}" ];
  };

  # env.json minus the closure lists, which only exist once closureInfo ran:
  # each environment carries `closure_file` until the env-json build inlines it.
  partial = builtins.toJSON {
    generator_input = "env.json";
    inherit version;
    config_hash = configHash;
    daemon = { inherit (config.daemon) log_level; };
    project = { inherit (config.project) path mount_point inherit_env; };
    session = { inherit (config.session) idle_timeout_seconds max_lifetime_seconds max_sessions; };
    environments = map (e: {
      inherit (e) name interpreter_type description sh env_bin argv agent_argv network warm_pool limits;
      root = "${e.root}";
      closure_file = "${e.closure}/store-paths";
      closure_size_file = "${e.closure}/total-nar-size";
    }) environments;
  };

  envJson = pkgs.runCommand "nsm-env.json" {
    nativeBuildInputs = [ buildPkgs.jq ];
    inherit partial;
    passAsFile = [ "partial" ];
  } ''
    cp "$partialPath" env.json
    n=$(jq '.environments | length' env.json)
    i=0
    while [ "$i" -lt "$n" ]; do
      f=$(jq -r ".environments[$i].closure_file" env.json)
      b=$(cat "$(jq -r ".environments[$i].closure_size_file" env.json)")
      jq --rawfile paths "$f" --argjson i "$i" --argjson bytes "$b" \
        '.environments[$i] |= (del(.closure_file, .closure_size_file)
           | .closure = ($paths | split("\n") | map(select(length > 0)) | sort)
           | .closure_bytes = $bytes)' \
        env.json > env.json.new
      mv env.json.new env.json
      i=$((i + 1))
    done
    # Every program the jail starts must be inside its environment's closure,
    # or the sandbox could not see it.
    jq -r '.environments[] | .name as $n | .closure as $c
      | ([.argv[0], .agent_argv[0], .agent_argv[-1], .sh, .env_bin][] | select(. != null)
         | select(. as $p | any($c[]; . as $s | $p == $s or ($p | startswith($s + "/"))) | not)
         | "environment \($n): \(.) is not in its closure; add its package to packages")' \
      env.json > outside.txt
    if [ -s outside.txt ]; then cat outside.txt >&2; exit 1; fi
    jq -S . env.json > "$out"
  '';
in
static.stdenv.mkDerivation {
  pname = "nix-sandbox-mcp";
  inherit version;
  src = ../csrc;

  nativeBuildInputs = [ codegen ];
  buildInputs = staticLibs;

  buildPhase = ''
    runHook preBuild
    nsm-codegen -o env_table.gen.h ${envJson}
    make -j"''${NIX_BUILD_CORES:-1}" nix-sandbox-mcp STATIC=1
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    install -Dm755 nix-sandbox-mcp "$out/bin/nix-sandbox-mcp"
    $STRIP --strip-all "$out/bin/nix-sandbox-mcp"
    install -Dm644 ${envJson} "$out/share/nix-sandbox-mcp/env.json"
    runHook postInstall
  '';

  # pkgsStatic's stdenv propagates every buildInput (stdenvAdapters.makeStatic
  # includes propagateBuildInputs), and fixupPhase records them in
  # $out/nix-support/propagated-build-inputs: a reference to the static
  # libraries that disallowedReferences would refuse (nixpkgs issue 83667).
  # A static executable propagates nothing to anyone.
  postFixup = ''
    rm -rf "$out/nix-support"
  '';

  # The binary's closure is itself plus every environment: nothing used only
  # to build it may stay referenced.
  disallowedReferences = [ codegen ] ++ staticOutputs;

  passthru = {
    inherit envJson codegen environments;
  } // passthru;

  meta = {
    description = "MCP server that runs code in Nix-built namespace sandboxes";
    mainProgram = "nix-sandbox-mcp";
    platforms = [ "x86_64-linux" "aarch64-linux" ];
  };
}
