# presets/plot/nsm_plot.py — the matplotlib backend of the "python-plot"
# preset (MPLBACKEND=module://nsm_plot, set by nsm-plot.pth at start-up).
#
# Owns: what plt.show() does in a sandbox: every open figure is saved as a
# PNG under /workspace/out/ (figure-1.png, figure-2.png, … numbered after the
# ones already there, so a later show() in the same session or a file the
# code wrote is never overwritten), then closed. Drawing is Agg's: no display
# server, no GUI toolkit, nothing interactive.
# Must not: write anywhere but /workspace/out (matplotlib's own cache goes
# where MPLCONFIGDIR says), print to stdout or stderr (they carry only the
# code's output), or import anything at start-up: this module is imported
# only when matplotlib picks its backend.
#
# As in a notebook, a figure the code made but never showed or saved is not
# lost: the end of the run (atexit) or of the session call
# (agent/python_agent.py calls end_of_cell()) saves it; fig.show() saves
# that one figure. A figure already saved (savefig, fig.show()) is not saved
# again by plt.show() or at the end.
#
# The shape is that of every module:// backend (matplotlib_inline's, the
# Jupyter one, is the same): FigureCanvas, FigureManager and show() at module
# level; matplotlib derives new_figure_manager from the canvas class.
import atexit
import os
import re

from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

OUT_DIR = "/workspace/out"
_NAME = re.compile(r"figure-([0-9]+)\.png\Z")

class FigureCanvas(FigureCanvasAgg):
    def print_figure(self, *args, **kwargs):
        """savefig (the code's or ours): the figure is saved, so the end of
        the run or call does not save it again."""
        result = super().print_figure(*args, **kwargs)
        self.figure._nsm_saved = True
        return result


class FigureManager(FigureManagerBase):
    def show(self):
        """fig.show(): save this figure now (it stays open)."""
        os.makedirs(OUT_DIR, exist_ok=True)
        _save(self.canvas.figure, OUT_DIR)


def _next_index(out_dir):
    taken = [int(m.group(1)) for m in map(_NAME.match, os.listdir(out_dir)) if m]
    return max(taken, default=0) + 1


def _save(fig, out_dir):
    """Save one figure under the next free figure-N.png; return its path."""
    n = _next_index(out_dir)
    while True:
        path = os.path.join(out_dir, "figure-%d.png" % n)
        try:
            # "x": a file that appeared since the listing (another process
            # of the sandbox) is not overwritten; take the next number.
            with open(path, "xb") as f:
                fig.savefig(f, format="png")
            return path
        except FileExistsError:
            n += 1


def show(*args, block=None, **kwargs):
    """plt.show(): save every open figure into /workspace/out, then close them
    all (a later show() saves only the figures made after this one)."""
    import matplotlib.pyplot as plt

    nums = plt.get_fignums()
    if not nums:
        return
    os.makedirs(OUT_DIR, exist_ok=True)
    try:
        for num in nums:
            fig = plt.figure(num)
            if not getattr(fig, "_nsm_saved", False):
                _save(fig, OUT_DIR)
    finally:
        plt.close("all")


def end_of_cell():
    """The run or session call is over: save the figures still open."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        show()


atexit.register(end_of_cell)
