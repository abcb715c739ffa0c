# The bundled "python-plot" environment: the "python" preset plus matplotlib
# and numpy, and a matplotlib backend (plot/nsm_plot.py) with which
# plt.show() saves every open figure as /workspace/out/figure-N.png.
# Not among the default environments: a config enables it by name
# (`[environments.python-plot]`, or `preset = "python-plot"`), because its
# closure is several times the python preset's and every sandbox of an
# environment bind-mounts each store path of its closure (README, "Plots").
{ pkgs }:
let
  python3 = pkgs.python3;
  # The backend as a Python module of the env: nsm-plot.pth runs when the
  # interpreter starts (site.py, or nixpkgs' sitecustomize.py through
  # site.addsitedir), before any code, so one-shot runs, the warm launcher
  # and session agents all see MPLBACKEND; setdefault leaves a value the
  # code's own environment gives alone. MPLCONFIGDIR: matplotlib's font
  # cache goes to /tmp, not into /workspace (HOME) beside the user's files.
  backend = python3.pkgs.toPythonModule (pkgs.runCommand "nsm-plot-backend" { } ''
    d=$out/${python3.sitePackages}
    mkdir -p $d
    cp ${./plot/nsm_plot.py} $d/nsm_plot.py
    echo 'import os; os.environ.setdefault("MPLBACKEND", "module://nsm_plot"); os.environ.setdefault("MPLCONFIGDIR", "/tmp/matplotlib")' > $d/nsm-plot.pth
    ${python3.interpreter} -m compileall -q --invalidation-mode unchecked-hash $d/nsm_plot.py > /dev/null
  '');
  python = python3.withPackages (ps: [ ps.pyyaml ps.numpy ps.matplotlib backend ]);
in
{
  interpreter_type = "python";
  description = "Python 3 with matplotlib, numpy, PyYAML and coreutils; plt.show() saves each figure as /workspace/out/figure-N.png";
  packages = [ python pkgs.coreutils ];
  interpreter = "${python}/bin/python3";
}
