# The bundled "python" environment: CPython 3 with PyYAML.
{ pkgs }:
let
  python = pkgs.python3.withPackages (ps: [ ps.pyyaml ]);
in
{
  interpreter_type = "python";
  description = "Python 3 with PyYAML and coreutils";
  packages = [ python pkgs.coreutils ];
  interpreter = "${python}/bin/python3";
}
