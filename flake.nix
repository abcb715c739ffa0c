{
  description = "nix-sandbox-mcp: an MCP server that runs code in Nix-built, namespace-isolated sandboxes";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      nsm = import ./nix/lib.nix;
      # aarch64-linux where the package set provides it (the offline test set
      # is x86_64 only).
      systems = builtins.filter (s: nixpkgs.legacyPackages ? ${s}) [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      lib = {
        # mkServer { pkgs; config ? ./config.toml (or an attrset); sandboxes ? [ mkSandbox … ]; }
        inherit (nsm) mkServer mkSandbox;
      };

      packages = forAllSystems (pkgs: {
        # The bundled presets (shell, python, node) with default limits.
        default = nsm.mkServer { inherit pkgs nixpkgs; };
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/nix-sandbox-mcp";
          meta.description = "Serve MCP on stdio with the bundled presets (shell, python, node)";
        };
      });

      checks = forAllSystems (pkgs:
        import ./nix/checks.nix {
          inherit pkgs;
          server = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        });

      devShells = forAllSystems (pkgs: {
        # For working on csrc/ and codegen/ with the host toolchain: the glibc
        # cJSON, libseccomp and libmicrohttpd (the server's own inputs are
        # pkgsStatic's musl builds, which a host compiler cannot link).
        default = pkgs.mkShell {
          packages = [ pkgs.gnumake pkgs.jq ];
          buildInputs = [ pkgs.cjson pkgs.libseccomp pkgs.libmicrohttpd ];
        };
      });
    };
}
