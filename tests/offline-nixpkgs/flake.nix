{
  description = "Offline stand-in for the part of nixpkgs that nix-sandbox-mcp uses, built from the host's Debian packages";

  outputs = { self }: {
    legacyPackages.x86_64-linux = import ./default.nix { system = "x86_64-linux"; };
    lib = import ./lib.nix;
  };
}
