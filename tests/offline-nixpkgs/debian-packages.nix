# Which installed Debian packages each Debian-copy attribute is made of.
# Read by default.nix and by tests/setup.sh (which records their versions and
# the packages of the shared libraries they load into host.nix).
{
  bash = [ "bash" ];
  coreutils = [ "coreutils" ];
  gnugrep = [ "grep" ];
  gnused = [ "sed" ];
  gawk = [ "gawk" ];
  findutils = [ "findutils" ];
  jq = [ "jq" ];
  curl = [ "curl" ];
  openssl = [ "openssl" ];
  tree = [ "tree" ];
  diffutils = [ "diffutils" ];
  file = [ "file" "libmagic1" "libmagic-mgc" ];
  bc = [ "bc" ];
  gnumake = [ "make" ];
  python3 = [ "python3.11" "python3.11-minimal" "libpython3.11-minimal" "libpython3.11-stdlib" "python3" "python3-minimal" ];
  pyyaml = [ "python3-yaml" ];
  numpy = [ "python3-numpy" ];
  matplotlib = [ "python3-matplotlib" "python-matplotlib-data" ];
  pillow = [ "python3-pil" ];
  contourpy = [ "python3-contourpy" ];
  cycler = [ "python3-cycler" ];
  fonttools = [ "python3-fonttools" ];
  kiwisolver = [ "python3-kiwisolver" ];
  packaging = [ "python3-packaging" ];
  pyparsing = [ "python3-pyparsing" ];
  python-dateutil = [ "python3-dateutil" ];
  six = [ "python3-six" ];
  nodejs = [ "nodejs" ];
}
