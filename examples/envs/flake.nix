# examples/envs — custom environments for nix-sandbox-mcp, in a flake of
# their own: mkSandbox values (each also builds alone as a one-environment
# server), plain packages, and a devShell for [project] use_flake.
#
# Referenced from ../config.toml as flake = "path:./envs#NAME". There, the
# input `nixpkgs` is the package set the server is built with and
# `nix-sandbox-mcp` is the server's own library (see README.md, "Custom
# environments"), so nothing is fetched. Built on its own:
#   nix build ./examples/envs#calc          (a one-environment server; offline:
#     add --no-write-lock-file --override-input nixpkgs path:$PWD/build/offline-nixpkgs
#     --override-input nix-sandbox-mcp path:$PWD, as README.md shows)
{
  description = "Example custom environments for nix-sandbox-mcp";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.nix-sandbox-mcp.url = "github:nix-sandbox-mcp/nix-sandbox-mcp";
  inputs.nix-sandbox-mcp.inputs.nixpkgs.follows = "nixpkgs";

  outputs = { self, nixpkgs, nix-sandbox-mcp }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      inherit (nix-sandbox-mcp.lib) mkSandbox;

      # A tool of our own, to show that an environment holds exactly its
      # packages.
      greet = pkgs.writeShellScriptBin "greet" ''
        echo "hello from ''${1:-the toolbox}"
      '';
    in
    {
      packages.${system} = {
        # A plain package: config.toml gives it interpreter_type (and limits).
        toolbox = pkgs.buildEnv {
          name = "toolbox";
          paths = [ greet pkgs.jq pkgs.tree pkgs.bc pkgs.coreutils ];
        };

        # mkSandbox values: a server each, and an environment for another one.
        calc = mkSandbox {
          inherit pkgs;
          name = "calc";
          interpreter_type = "bash";
          packages = [ pkgs.bash pkgs.coreutils pkgs.bc greet ];
          timeout_seconds = 10;
          memory_mb = 256;
          description = "bc and a greeting, for arithmetic";
        };

        # Named like a preset: listed in mkServer { sandboxes } or named
        # [environments.python] in config.toml, it replaces the bundled one.
        python = mkSandbox {
          inherit pkgs;
          name = "python";
          interpreter_type = "python";
          packages = [ (pkgs.python3.withPackages (ps: [ ps.pyyaml ])) pkgs.coreutils greet ];
          timeout_seconds = 20;
          description = "Python 3 with PyYAML and greet (examples/envs)";
        };
      };

      # For [project] use_flake = true: the environment "project" gets the
      # packages of this shell.
      devShells.${system}.default = pkgs.mkShell {
        packages = [ pkgs.gnumake pkgs.jq greet ];
        buildInputs = [ pkgs.diffutils ];
      };
    };
}
