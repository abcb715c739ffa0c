# Default builder of stdenv.mkDerivation ($1 = setup.sh): run the phases.
. "$1"
genericBuild
