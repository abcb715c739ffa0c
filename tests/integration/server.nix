# The server the integration tests drive: the bundled presets (and the
# opt-in python-plot one) plus a
# test-only "probe" environment holding a static probe program (tests/probe)
# that checks the sandbox's walls from inside, and short-timeout Python and
# Node environments for the session tests.
# maxLifetime: a short max_lifetime_seconds for the lifetime test's server.
{ pkgs, nsm ? import ../../nix/lib.nix, maxLifetime ? null }:
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
    # One spare, never more (test_warm_pool.py; the session soak counts
    # the server's descriptors, spares' included, before and after).
    warm_pool = 1;
  };
  netEnv = nsm.mkSandbox {
    inherit pkgs;
    name = "hostnet";
    interpreter_type = "bash";
    packages = [ probe pkgs.bash pkgs.coreutils ];
    network = "host";
    # test_warm_pool.py: no spares at all here.
    warm_pool = 0;
  };
  # Short timeouts, for the session tests' interrupts (the probe env is the
  # bash one).
  pyShort = nsm.mkSandbox {
    inherit pkgs;
    name = "pyshort";
    interpreter_type = "python";
    packages = [ (pkgs.python3.withPackages (ps: [ ps.pyyaml ])) pkgs.coreutils ];
    timeout_seconds = 3;
    warm_pool = 1;
  };
  nodeShort = nsm.mkSandbox {
    inherit pkgs;
    name = "nodeshort";
    interpreter_type = "node";
    packages = [ pkgs.nodejs pkgs.coreutils ];
    timeout_seconds = 3;
    warm_pool = 1;
  };
  # The example configuration (presets, defaults), with session limits the
  # tests can reach: 24 sessions (the soak uses 20), a 10 s idle timeout.
  example = builtins.fromTOML (builtins.readFile ../../config.example.toml);
  config = example // {
    # test_plot.py: the opt-in plotting preset beside the default three.
    # test_warm_pool.py: python keeps up to 3 spares on back-to-back calls.
    environments = example.environments // {
      python-plot = { preset = "python-plot"; };
      python = example.environments.python // { warm_pool = 3; };
    };
    # test_inherit_env.py: one variable set when the tests start the server,
    # one never set.
    project = example.project // { inherit_env.vars = [ "NSM_TEST_INHERITED" "NSM_TEST_UNSET" ]; };
    session = example.session // { max_sessions = 24; idle_timeout_seconds = 10; }
      // (if maxLifetime == null then { } else { max_lifetime_seconds = maxLifetime; });
  };
in
nsm.mkServer {
  inherit pkgs config;
  sandboxes = [ probeEnv netEnv pyShort nodeShort ];
}
