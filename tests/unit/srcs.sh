# The server modules the C unit tests link, for tests/unit/run.sh and
# tests/mutants/run.sh (one list, so neither falls behind the other).
unit_srcs="utf8 rpc jsonraw loop log err agent_ipc outcap capture sysfilter wsfiles base64 fsutil strbuf sse"
