# The bundled "node" environment: Node.js (no Python in its closure).
{ pkgs }:
{
  interpreter_type = "node";
  description = "Node.js with coreutils";
  packages = [ pkgs.nodejs pkgs.coreutils ];
  interpreter = "${pkgs.nodejs}/bin/node";
}
