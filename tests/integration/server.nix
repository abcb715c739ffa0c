# The server the integration tests drive: the bundled presets plus a
# test-only "probe" environment holding a static probe program (tests/probe)
# that checks the sandbox's walls from inside.
{ pkgs, nsm ? import ../../nix/lib.nix }:
let
  probe = pkgs.pkgsStatic.stdenv.mkDerivation {
    pname = "nsm-probe";
    version = "1";
    src = ../probe;
    buildPhase = ''
      $CC -O2 -Wall -Wextra -Werror -static -o probe probe.c
    '';
    installPhase = ''
      install -Dm755 probe $out/bin/probe
    '';
  };
  probeEnv = nsm.mkSandbox {
    inherit pkgs;
    name = "probe";
    interpreter_type = "bash";
    packages = [ probe pkgs.bash pkgs.coreutils pkgs.gnugrep ];
    timeout_seconds = 5;
    memory_mb = 256;
    limits = { max_processes = 32; workspace_mb = 16; max_output_bytes = 65536; };
  };
  netEnv = nsm.mkSandbox {
    inherit pkgs;
    name = "hostnet";
    interpreter_type = "bash";
    packages = [ probe pkgs.bash pkgs.coreutils ];
    network = "host";
  };
in
nsm.mkServer {
  inherit pkgs;
  config = ../../config.example.toml;
  sandboxes = [ probeEnv netEnv ];
}
