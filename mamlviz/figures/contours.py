"""Contour lines computed in Python: marching squares on a sampled grid.

A contour (iso-line) of a function f at level c is the curve f(x, y) = c. Given f
sampled on a grid, marching squares finds it cell by cell: each corner of a cell is
above or below c, an edge whose two corners differ is crossed by the curve at the
point found by linear interpolation along that edge, and the cell's corner pattern
(one of 16) says which of its crossed edges to join by a segment. The segments are
then stitched into polylines.

Why this exists: plotly.js draws its ``contour`` trace only in the larger
"cartesian" bundle, which costs about 270 ms more to load and compile on a new page
load on the 2-core classroom machine than the "basic" bundle (scatter, bar, pie;
see ``pages/_chart.py``). Drawing the iso-lines as ``go.Scatter`` lines, many
polylines in one trace separated by NaN, keeps the loss-landscape charts on the
basic bundle.
"""

from __future__ import annotations

import numpy as np

# A cell's corners and edges. Corner bits: bottom-left 1, bottom-right 2,
# top-right 4, top-left 8 (bottom is the smaller y). Edges: 0 bottom, 1 right,
# 2 top, 3 left.
BOTTOM, RIGHT, TOP, LEFT = 0, 1, 2, 3
# The saddle cases 5 and 10 (diagonally opposite corners above) are ambiguous; when
# the cell's centre (the mean of its corners) is above the level, the above corners
# are joined through the middle and we use these extra cases instead.
SADDLE_5_JOINED, SADDLE_10_JOINED = 16, 17

# Which edges each case joins: up to two segments per cell, -1 for none.
# The segment of a corner alone on its side cuts that corner off.
_NONE = (-1, -1)
_SEGMENTS = np.array([
    (_NONE, _NONE),                    # 0: all below
    ((LEFT, BOTTOM), _NONE),           # 1: bottom-left
    ((BOTTOM, RIGHT), _NONE),          # 2: bottom-right
    ((LEFT, RIGHT), _NONE),            # 3: bottom row
    ((RIGHT, TOP), _NONE),             # 4: top-right
    ((LEFT, BOTTOM), (RIGHT, TOP)),    # 5: saddle, centre below: cut off the above corners
    ((BOTTOM, TOP), _NONE),            # 6: right column
    ((LEFT, TOP), _NONE),              # 7: all but top-left
    ((TOP, LEFT), _NONE),              # 8: top-left
    ((BOTTOM, TOP), _NONE),            # 9: left column
    ((BOTTOM, RIGHT), (TOP, LEFT)),    # 10: saddle, centre below: cut off the above corners
    ((RIGHT, TOP), _NONE),             # 11: all but top-right
    ((LEFT, RIGHT), _NONE),            # 12: top row
    ((BOTTOM, RIGHT), _NONE),          # 13: all but bottom-right
    ((LEFT, BOTTOM), _NONE),           # 14: all but bottom-left
    (_NONE, _NONE),                    # 15: all above
    ((BOTTOM, RIGHT), (TOP, LEFT)),    # 16: case 5, centre above: cut off the below corners
    ((LEFT, BOTTOM), (RIGHT, TOP)),    # 17: case 10, centre above: cut off the below corners
])  # [case, segment, end]


def contour_levels(z: np.ndarray, n_levels: int = 18) -> np.ndarray:
    """At most ``n_levels`` levels at a round step, strictly between the finite min and
    max of ``z``: the levels plotly's contour trace picks for ``ncontours=n_levels``.

    The step is the smallest 1, 2 or 5 times a power of ten that gives no more than
    ``n_levels`` levels, so the lines look as they did when plotly drew them. Empty when
    ``z`` has no finite values or is constant (nothing to draw).
    """
    finite = np.asarray(z, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or n_levels < 1:
        return np.empty(0)
    lo, hi = float(finite.min()), float(finite.max())
    if not lo < hi:
        return np.empty(0)
    rough = (hi - lo) / n_levels
    power = 10.0 ** np.floor(np.log10(rough))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= rough)
    levels = np.arange(np.floor(lo / step) + 1, np.ceil(hi / step)) * step
    return levels[(levels > lo) & (levels < hi)]


def contour_lines(xs: np.ndarray, ys: np.ndarray, z: np.ndarray,
                  levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The iso-lines of ``z`` at ``levels`` as x and y arrays, polylines separated by NaN.

    ``z[i, j]`` is the value at ``(xs[j], ys[i])``, as in plotly's contour trace.
    Closed curves end on their first point. Cells with a non-finite corner are
    skipped, so a curve stops at them.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if z.shape != (len(ys), len(xs)):
        raise ValueError(f"z has shape {z.shape}, expected (len(ys), len(xs)) = "
                         f"({len(ys)}, {len(xs)})")
    levels = np.asarray(levels, dtype=np.float64).ravel()
    if min(z.shape) < 2 or levels.size == 0:
        return np.empty(0), np.empty(0)

    cell_edges = _cell_edge_ids(*z.shape)
    finite_cells = _finite_cells(z)
    ny, nx = z.shape
    n_edges = ny * (nx - 1) + (ny - 1) * nx  # horizontal, then vertical
    # Edge ids are unique within a level; offset them by level so they are unique
    # overall and one stitching pass handles every level.
    segments = [_level_segments(z, level, cell_edges, finite_cells) + k * n_edges
                for k, level in enumerate(levels)]
    path = _stitch(np.concatenate(segments))
    gap = path < 0
    nodes = path[~gap]
    x_out = np.full(path.size, np.nan)
    y_out = np.full(path.size, np.nan)
    x_out[~gap], y_out[~gap] = _crossings(xs, ys, z, levels[nodes // n_edges], nodes % n_edges)
    # A grid point exactly on a level is where each of its crossed edges crosses
    # (at t = 0): the same point comes two or three times in a row. Keep one.
    repeat = np.zeros(x_out.size, dtype=bool)
    repeat[1:] = (x_out[1:] == x_out[:-1]) & (y_out[1:] == y_out[:-1])
    return x_out[~repeat], y_out[~repeat]


def _cell_edge_ids(ny: int, nx: int) -> np.ndarray:
    """Each cell's four edges as global edge ids: [ny-1, nx-1, 4] (bottom, right, top, left).

    Horizontal edges (from (i, j) to (i, j+1)) come first, ``i * (nx-1) + j``; then
    vertical ones (from (i, j) to (i+1, j)), ``n_horizontal + i * nx + j``. A segment's
    ends are edge ids, so two cells sharing an edge share the very same point:
    stitching matches integers, never rounded coordinates.
    """
    i, j = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")
    n_horizontal = ny * (nx - 1)
    return np.stack([i * (nx - 1) + j,                     # bottom
                     n_horizontal + i * nx + j + 1,        # right
                     (i + 1) * (nx - 1) + j,               # top
                     n_horizontal + i * nx + j], axis=-1)  # left


def _finite_cells(z: np.ndarray) -> np.ndarray:
    """Cells whose four corners are finite: [ny-1, nx-1]."""
    ok = np.isfinite(z)
    return ok[:-1, :-1] & ok[:-1, 1:] & ok[1:, :-1] & ok[1:, 1:]


def _edge_corners(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's two corners as flat indices into ``z.ravel()``, in edge-id order."""
    flat = np.arange(ny * nx).reshape(ny, nx)
    return (np.concatenate([flat[:, :-1].ravel(), flat[:-1, :].ravel()]),
            np.concatenate([flat[:, 1:].ravel(), flat[1:, :].ravel()]))


def _crossings(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, level: np.ndarray,
               edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``level`` crosses each ``edge`` (arrays of the same length), by linear
    interpolation between the edge's two corners.

    Only the edges on the lines are computed, and each the same way whichever cell
    it came from, so both cells beside an edge share bit-identical points. Along a
    horizontal edge y is exactly the row's y (the corners' y are equal), along a
    vertical one x is exactly the column's x.
    """
    c0, c1 = _edge_corners(*z.shape)
    c0, c1 = c0[edge], c1[edge]
    zf = z.ravel()
    # A crossed edge has one corner above the level and one not, so z1 != z0.
    t = (level - zf[c0]) / (zf[c1] - zf[c0])
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    return gx[c0] + t * (gx[c1] - gx[c0]), gy[c0] + t * (gy[c1] - gy[c0])


def _level_segments(z: np.ndarray, level: float, cell_edges: np.ndarray,
                    finite_cells: np.ndarray) -> np.ndarray:
    """The marching-squares segments of one level as pairs of edge ids: [n, 2]."""
    above = z > level
    case = (above[:-1, :-1] * 1 + above[:-1, 1:] * 2
            + above[1:, 1:] * 4 + above[1:, :-1] * 8)
    # Saddles: the mean of the corners stands for the cell's centre and says whether
    # the two corners above are joined through it. One fixed rule, so the same grid
    # always gives the same lines.
    centre_above = (z[:-1, :-1] + z[:-1, 1:] + z[1:, 1:] + z[1:, :-1]) / 4 > level
    case = np.where((case == 5) & centre_above, SADDLE_5_JOINED, case)
    case = np.where((case == 10) & centre_above, SADDLE_10_JOINED, case)
    drawn = finite_cells & (case != 0) & (case != 15)
    local = _SEGMENTS[case[drawn]]  # [cells, 2 segments, 2 ends] of local edges
    edges = cell_edges[drawn]       # [cells, 4]
    has = local[:, :, 0] >= 0
    cells = np.nonzero(has)[0]
    ends = local[has]               # [n, 2]
    return edges[cells[:, None], ends]


def _stitch(segments: np.ndarray) -> np.ndarray:
    """Join segments sharing an end into polylines: node ids with -1 between polylines.

    Every crossed edge is the end of at most two segments (one per cell beside it),
    so the nodes have at most two neighbours: the pieces are open chains, walked from
    an end, and loops, walked from anywhere and closed on their first node.
    The neighbour table is built with numpy, the walk is a plain Python loop over
    the segments' nodes.
    """
    if segments.size == 0:
        return np.empty(0, dtype=np.int64)
    # Number the nodes actually used 0..n-1: the edge ids of all levels run into the
    # hundreds of thousands, a table over all of them would cost more than the walk.
    nodes, compact = np.unique(segments, return_inverse=True)
    ends = compact.ravel()
    others = compact.reshape(segments.shape)[:, ::-1].ravel()
    # Each node's first neighbour in slot 0, its second (if any) in slot 1.
    order = np.argsort(ends, kind="stable")
    ends, others = ends[order], others[order]
    slot = np.zeros(ends.size, dtype=np.int64)
    slot[1:] = ends[1:] == ends[:-1]
    neighbours = np.full((nodes.size, 2), -1, dtype=np.int64)
    neighbours[ends, slot] = others
    degree = (neighbours >= 0).sum(axis=1)

    nbr = neighbours.tolist()  # list indexing: the walk below is a Python loop
    visited = bytearray(nodes.size)
    out: list[int] = []

    def walk(start: int) -> None:
        if out:
            out.append(-1)
        node = start
        while node >= 0:
            visited[node] = 1
            out.append(node)
            a, b = nbr[node]
            node = a if a >= 0 and not visited[a] else b if b >= 0 and not visited[b] else -1

    for start in np.flatnonzero(degree == 1).tolist():  # open chains, from one end
        if not visited[start]:
            walk(start)
    for start in np.flatnonzero(degree == 2).tolist():  # what is left are loops
        if not visited[start]:
            walk(start)
            out.append(start)
    path = np.asarray(out, dtype=np.int64)
    return np.where(path < 0, -1, nodes[np.maximum(path, 0)])
