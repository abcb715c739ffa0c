# The server tests/deploy ships to a second store: examples/config.toml (the
# presets, a preset replaced from config.toml, custom environments from the
# local flake examples/envs and from nixpkgs, the project's devShell) plus a
# mkSandbox value listed in `sandboxes` that replaces the "shell" preset.
# `added` = a nonce: one more environment (a new one each run), to measure
# what adding an environment rebuilds.
{ pkgs, nsm ? import ../../nix/lib.nix, added ? "" }:
let
  marker = pkgs.writeShellScriptBin "nsm-deploy-marker" ''
    echo "shell replaced through mkServer { sandboxes }"
  '';
  shell = nsm.mkSandbox {
    inherit pkgs;
    name = "shell";
    interpreter_type = "bash";
    packages = [ pkgs.bashInteractive pkgs.coreutils pkgs.gnugrep marker ];
    description = "Bash, replaced through mkServer sandboxes";
  };
  addedEnv = nsm.mkSandbox {
    inherit pkgs;
    name = "added";
    interpreter_type = "bash";
    packages = [ pkgs.bash pkgs.coreutils (pkgs.writeTextDir "share/nonce" added) ];
  };
in
nsm.mkServer {
  inherit pkgs;
  config = ../../examples/config.toml;
  sandboxes = [ shell ] ++ (if added != "" then [ addedEnv ] else [ ]);
}
