# The subset of nixpkgs' `lib` that the project uses, with nixpkgs' names and
# semantics.  Plain builtins only: no nixpkgs is reachable on these machines.
let
  b = builtins;

  lib = rec {
    inherit (b)
      attrNames attrValues elem elemAt filter foldl' genList hasAttr getAttr head
      tail isAttrs isBool isFloat isFunction isInt isList isPath isString length
      listToAttrs mapAttrs match replaceStrings split stringLength substring
      toJSON fromJSON toString typeOf concatLists concatMap all any
      groupBy partition seq deepSeq trace pathExists readFile baseNameOf dirOf;

    # --- trivial ---------------------------------------------------------
    id = x: x;
    const = x: _: x;
    flip = f: a: b': f b' a;
    fix = f: let x = f x; in x;
    extends = overlay: f: final: let prev = f final; in prev // overlay final prev;
    warn = msg: v: b.trace "warning: ${msg}" v;
    warnIf = cond: msg: if cond then warn msg else id;
    throwIf = cond: msg: if cond then throw msg else id;
    throwIfNot = cond: msg: if cond then id else throw msg;
    assertMsg = pred: msg: pred || throw msg;
    assertOneOf = name: val: xs:
      assertMsg (b.elem val xs)
        "${name} must be one of ${b.toJSON xs}, but is: ${b.toJSON val}";
    boolToString = x: if x then "true" else "false";
    max = x: y: if x > y then x else y;
    min = x: y: if x < y then x else y;
    mod = base: int: base - (int * (base / int));
    pipe = b.foldl' (x: f: f x);
    isDerivation = v: b.isAttrs v && (v.type or null) == "derivation";
    isStorePath = v:
      let s = b.toString v; in
      isStringLike v && hasPrefix b.storeDir s
      && b.match "${b.storeDir}/[^/]+" s != null;
    isStringLike = v: b.isString v || b.isPath v || (b.isAttrs v && (v ? outPath || v ? __toString));
    versionOlder = v1: v2: b.compareVersions v2 v1 == 1;
    versionAtLeast = v1: v2: !versionOlder v1 v2;

    # --- lists -----------------------------------------------------------
    foldl = op: nul: list: b.foldl' op nul list;
    foldr = op: nul: list:
      let len = b.length list;
          fold' = n: if n == len then nul else op (b.elemAt list n) (fold' (n + 1));
      in fold' 0;
    optional = cond: elem: if cond then [ elem ] else [ ];
    optionals = cond: elems: if cond then elems else [ ];
    toList = x: if b.isList x then x else [ x ];
    flatten = x: if b.isList x then b.concatMap flatten x else [ x ];
    unique = b.foldl' (acc: e: if b.elem e acc then acc else acc ++ [ e ]) [ ];
    sort = b.sort;
    subtractLists = e: b.filter (x: !(b.elem x e));
    intersectLists = e: b.filter (x: b.elem x e);
    remove = e: b.filter (x: x != e);
    range = first: last: if first > last then [ ] else b.genList (n: first + n) (last - first + 1);
    imap0 = f: list: b.genList (n: f n (b.elemAt list n)) (b.length list);
    imap1 = f: list: b.genList (n: f (n + 1) (b.elemAt list n)) (b.length list);
    last = list: assert list != [ ]; b.elemAt list (b.length list - 1);
    init = list: assert list != [ ]; b.genList (b.elemAt list) (b.length list - 1);
    take = count: sublist 0 count;
    drop = count: list: sublist count (b.length list) list;
    sublist = start: count: list:
      let len = b.length list; in
      b.genList (n: b.elemAt list (n + start))
        (if start >= len then 0 else if start + count > len then len - start else count);
    reverseList = xs: let l = b.length xs; in b.genList (n: b.elemAt xs (l - n - 1)) l;
    findFirst = pred: default: list:
      let found = b.filter pred list; in if found == [ ] then default else b.head found;
    count = pred: b.foldl' (c: x: if pred x then c + 1 else c) 0;
    zipListsWith = f: fst: snd:
      b.genList (n: f (b.elemAt fst n) (b.elemAt snd n)) (min (b.length fst) (b.length snd));
    allUnique = list: b.length (unique list) == b.length list;

    # --- attrsets --------------------------------------------------------
    nameValuePair = name: value: { inherit name value; };
    mapAttrsToList = f: attrs: b.map (name: f name attrs.${name}) (b.attrNames attrs);
    attrsToList = mapAttrsToList nameValuePair;
    mapAttrs' = f: set: b.listToAttrs (b.map (attr: f attr set.${attr}) (b.attrNames set));
    filterAttrs = pred: set:
      b.listToAttrs (b.concatMap
        (name: let v = set.${name}; in if pred name v then [ (nameValuePair name v) ] else [ ])
        (b.attrNames set));
    optionalAttrs = cond: as: if cond then as else { };
    genAttrs = names: f: b.listToAttrs (b.map (n: nameValuePair n (f n)) names);
    attrByPath = attrPath: default: e:
      if attrPath == [ ] then e
      else let attr = b.head attrPath; in
        if e ? ${attr} then attrByPath (b.tail attrPath) default e.${attr} else default;
    hasAttrByPath = attrPath: e:
      if attrPath == [ ] then true
      else let attr = b.head attrPath; in
        if e ? ${attr} then hasAttrByPath (b.tail attrPath) e.${attr} else false;
    getAttrFromPath = attrPath: set:
      attrByPath attrPath (throw "cannot find attribute `${concatStringsSep "." attrPath}'") set;
    setAttrByPath = attrPath: value:
      if attrPath == [ ] then value
      else { ${b.head attrPath} = setAttrByPath (b.tail attrPath) value; };
    catAttrs = b.catAttrs;
    zipAttrsWith = f: sets: b.zipAttrsWith f sets;
    zipAttrs = zipAttrsWith (name: values: values);
    recursiveUpdateUntil = pred: lhs: rhs:
      let f = attrPath: b.zipAttrsWith (n: values:
            let here = attrPath ++ [ n ]; in
            if b.length values == 1
               || pred here (b.elemAt values 1) (b.head values)
            then b.head values
            else f here values);
      in f [ ] [ rhs lhs ];
    recursiveUpdate = recursiveUpdateUntil (path: lhs: rhs: !(b.isAttrs lhs && b.isAttrs rhs));
    foldAttrs = op: nul: list_of_attrs:
      b.foldl' (acc: el: b.foldl' (a: n: a // { ${n} = op el.${n} (a.${n} or nul); }) acc (b.attrNames el))
        { } (reverseList list_of_attrs);
    getOutput = output: pkg:
      if !(pkg ? outputSpecified) || !pkg.outputSpecified then pkg.${output} or pkg.out or pkg else pkg;
    chooseDevOutputs = b.map getDev;
    getBin = getOutput "bin";
    getLib = getOutput "lib";
    getDev = getOutput "dev";
    getMan = getOutput "man";
    getName = x:
      if b.isString x then (b.parseDrvName x).name
      else x.pname or (b.parseDrvName x.name).name;
    getVersion = x:
      if b.isString x then (b.parseDrvName x).version
      else x.version or (b.parseDrvName x.name).version;
    getExe = x: getExe' x (x.meta.mainProgram or (getName x));
    getExe' = x: y: "${getBin x}/bin/${y}";
    makeOverridable = f: args:
      let r = f args; in
      if b.isAttrs r then r // { override = newArgs: makeOverridable f (args // (if b.isFunction newArgs then newArgs args else newArgs)); }
      else r;

    # --- strings ---------------------------------------------------------
    concatStrings = b.concatStringsSep "";
    concatStringsSep = b.concatStringsSep;
    concatMapStrings = f: list: concatStrings (b.map f list);
    concatMapStringsSep = sep: f: list: b.concatStringsSep sep (b.map f list);
    concatImapStringsSep = sep: f: list: b.concatStringsSep sep (imap1 f list);
    concatLines = list: concatStrings (b.map (s: s + "\n") list);
    optionalString = cond: string: if cond then string else "";
    hasPrefix = pref: str: b.substring 0 (b.stringLength pref) str == pref;
    hasSuffix = suffix: content:
      let lenContent = b.stringLength content; lenSuffix = b.stringLength suffix; in
      lenContent >= lenSuffix
      && b.substring (lenContent - lenSuffix) lenContent content == suffix;
    hasInfix = infix: content: b.match ".*${escapeRegex infix}.*" "${content}" != null;
    removePrefix = prefix: str:
      let preLen = b.stringLength prefix; in
      if b.substring 0 preLen str == prefix
      then b.substring preLen (b.stringLength str - preLen) str else str;
    removeSuffix = suffix: str:
      let sufLen = b.stringLength suffix; sLen = b.stringLength str; in
      if sufLen <= sLen && suffix == b.substring (sLen - sufLen) sufLen str
      then b.substring 0 (sLen - sufLen) str else str;
    stringToCharacters = s: b.genList (p: b.substring p 1 s) (b.stringLength s);
    escape = list: b.replaceStrings list (b.map (c: "\\${c}") list);
    escapeRegex = escape (stringToCharacters "\\[{()^$?*+|.");
    splitString = sep: s:
      let splits = b.filter b.isString (b.split (escapeRegex (b.toString sep)) (b.toString s));
      in b.map (b.addErrorContext "while splitting a string") splits;
    escapeShellArg = arg:
      let string = b.toString arg; in
      if b.match "[[:alnum:],._+:@%/-]+" string == null
      then "'${b.replaceStrings [ "'" ] [ "'\\''" ] string}'"
      else string;
    escapeShellArgs = concatMapStringsSep " " escapeShellArg;
    toUpper = b.replaceStrings (stringToCharacters "abcdefghijklmnopqrstuvwxyz") (stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    toLower = b.replaceStrings (stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZ") (stringToCharacters "abcdefghijklmnopqrstuvwxyz");
    trim = s:
      let m = b.match "[[:space:]]*(.*[^[:space:]])[[:space:]]*" s; in
      if m == null then "" else b.head m;
    toInt = str:
      let m = b.match "[[:space:]]*(-?[0-9]+)[[:space:]]*" str; in
      if m == null then throw "Could not convert ${str} to int." else b.fromJSON (b.head m);
    fixedWidthString = width: filler: str:
      let strw = b.stringLength str; reqWidth = width - (b.stringLength filler); in
      assert strw <= width;
      if strw == width then str else filler + fixedWidthString reqWidth filler str;
    fixedWidthNumber = width: n: fixedWidthString width "0" (b.toString n);
    makeSearchPath = subDir: paths: b.concatStringsSep ":" (b.map (path: path + "/" + subDir) (b.filter (x: x != null) paths));
    makeSearchPathOutput = output: subDir: pkgs: makeSearchPath subDir (b.map (getOutput output) pkgs);
    makeBinPath = makeSearchPathOutput "bin" "bin";
    makeLibraryPath = makeSearchPathOutput "lib" "lib";

    # --- sources ---------------------------------------------------------
    cleanSourceFilter = name: type:
      let baseName = b.baseNameOf (b.toString name); in
      !((type == "directory" && (baseName == ".git" || baseName == ".svn" || baseName == "CVS" || baseName == ".hg"))
        || hasSuffix "~" baseName
        || b.match "^\\.sw[a-z]$" baseName != null
        || b.match "^\\..*\\.sw[a-z]$" baseName != null
        || hasSuffix ".o" baseName || hasSuffix ".so" baseName
        || (type == "symlink" && hasPrefix "result" baseName)
        || type == "unknown");
    cleanSourceWith = { src, filter ? (_: _: true), name ? null }:
      b.path {
        path = src.origSrc or src;
        name = if name != null then name else "source";
        filter = n: t: filter n t && (src.filter or (_: _: true)) n t;
      };
    cleanSource = src: cleanSourceWith { filter = cleanSourceFilter; inherit src; };
    sourceByRegex = src: regexes:
      let base = b.toString src; in
      cleanSourceWith {
        inherit src;
        filter = path: type:
          let relPath = removePrefix (base + "/") (b.toString path); in
          b.any (re: b.match re relPath != null) regexes;
      };

    # nixpkgs exposes the same functions under these namespaces too.
    strings = lib; lists = lib; attrsets = lib; trivial = lib; sources = lib;
    versions = { majorMinor = v: b.concatStringsSep "." (take 2 (b.splitVersion v)); };
  };
in
lib
