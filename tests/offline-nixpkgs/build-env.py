# Builder of buildEnv / symlinkJoin: a tree of symlinks to the files of `paths`.
# buildEnv (mode "env", like nixpkgs' builder.pl): a directory only one package
# provides is linked whole; colliding files are an error unless
# ignoreCollisions.  symlinkJoin (mode "lndir"): real directories, first wins.
import json, os, sys

attrs = json.load(open(os.environ["NIX_ATTRS_JSON_FILE"]))
out = attrs["outputs"]["out"] if isinstance(attrs.get("outputs"), dict) else os.environ["out"]
mode = attrs["mode"]
ignore = bool(attrs.get("ignoreCollisions"))
paths = [str(p) for p in attrs["paths"]]
to_link = attrs.get("pathsToLink") or ["/"]
extra_prefix = attrs.get("extraPrefix") or ""

tree = {}      # relpath -> ("dir", [sources]) or ("file", source)
children = {}  # relpath -> set of child relpaths

def add(rel, src):
    if rel:
        children.setdefault(os.path.dirname(rel), set()).add(rel)
    if os.path.isdir(src):
        for name in sorted(os.listdir(src)):
            add(os.path.join(rel, name), os.path.join(src, name))
        tree.setdefault(rel, ("dir", []))[1].append(src)
        return
    if rel in tree:
        kind, prev = tree[rel]
        if kind == "file" and os.path.realpath(prev) == os.path.realpath(src):
            return
        if mode == "lndir" or ignore:
            return
        sys.exit(f"collision between `{prev}' and `{src}'")
    tree[rel] = ("file", src)

for p in paths:
    for ptl in to_link:
        ptl = "/" + ptl.strip("/")
        src = p + ("" if ptl == "/" else ptl)
        r = ptl.strip("/")
        while r:
            children.setdefault(os.path.dirname(r), set()).add(r)
            r = os.path.dirname(r)
        if os.path.isdir(src):
            add(ptl.strip("/"), src)
        elif os.path.exists(src) and ptl != "/":
            add(ptl.strip("/"), src)

root = out + extra_prefix
os.makedirs(root, exist_ok=True)

def emit(rel):
    kind, v = tree[rel]
    dest = os.path.join(root, rel) if rel else root
    if kind == "file":
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.symlink(v, dest)
        return
    if mode == "env" and rel and len(v) == 1:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.symlink(v[0], dest)
        return
    os.makedirs(dest, exist_ok=True)
    for child in sorted(children.get(rel, ())):
        emit(child)

def emit_missing(rel):
    # Parents of a nested pathsToLink (e.g. share/ of /share/man) are real dirs.
    if rel in tree:
        emit(rel)
        return
    os.makedirs(os.path.join(root, rel) if rel else root, exist_ok=True)
    for child in sorted(children.get(rel, ())):
        emit_missing(child)

emit_missing("")
