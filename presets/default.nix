# Index of the bundled presets: name → ({ pkgs } → environment spec).
{
  shell = import ./shell.nix;
  python = import ./python.nix;
  node = import ./node.nix;
  python-plot = import ./python-plot.nix;
}
