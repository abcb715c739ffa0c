# nix/checks.nix — `nix flake check`: the server builds, is static, lists its
# environments and answers an MCP handshake. (The jail itself needs namespaces
# the build sandbox may not grant; tests/ exercises it.)
{ pkgs, server }:
{
  inherit server;

  list-envs = pkgs.runCommand "nsm-check-list-envs" { nativeBuildInputs = [ pkgs.jq ]; } ''
    ${server}/bin/nix-sandbox-mcp --list-envs > envs.json
    jq -e '[.environments[].name] == ["node", "python", "shell"]' envs.json
    touch $out
  '';

  handshake = pkgs.runCommand "nsm-check-handshake" { nativeBuildInputs = [ pkgs.jq ]; } ''
    printf '%s\n' \
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"check","version":"0"}}}' \
      '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
      '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
      | ${server}/bin/nix-sandbox-mcp > out.jsonl
    jq -e -s '.[1].result.tools[0].name == "run"' out.jsonl
    touch $out
  '';
}
