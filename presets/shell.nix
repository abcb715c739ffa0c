# The bundled "shell" environment: Bash and the everyday text tools.
{ pkgs }:
{
  interpreter_type = "bash";
  description = "Bash 5 with coreutils, grep, sed, awk, find, jq, tree, diff, file, bc";
  packages = with pkgs; [
    bashInteractive coreutils gnugrep gnused gawk findutils jq tree diffutils file bc
  ];
  interpreter = "${pkgs.bashInteractive}/bin/bash";
}
