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
  nodejs = [ "nodejs" ];
}
