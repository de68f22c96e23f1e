"""Each chart's layout measured in the page: what a projected figure must not get wrong.

Read from plotly.js's own result (``gd._fullLayout._size``: the plot area after
automargin) and the bounding boxes of what it drew: the title, axis titles, tick
labels, legend, annotations with text, an animation's controls and the modebar.
``faults`` turns one chart's measurement into sentences: a plot area under half the
chart, two texts that overlap, text cut off at the chart's edge, a chart wider than its
column, a modebar over the legend. Shared by tests/browser/test_layout_browser.py and
benchmarks/screenshots.py.
"""

from __future__ import annotations

from typing import Any

# Overlaps smaller than this (px, each way) are glyph bounding boxes touching, not text
# drawn over text.
SLACK = 2.0
MIN_PLOT_SHARE = 0.5

MEASURE_JS = """() => [...document.querySelectorAll('.mamlviz-chart .js-plotly-plot')]
.map((gd, index) => {
  const fl = gd._fullLayout;
  if (!fl || !fl._size) return null;
  const box = (el) => { const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; };
  const visible = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).display !== 'none'; };
  const texts = [];
  const add = (kind, selector) => gd.querySelectorAll(selector).forEach((el, i) => {
    if (visible(el) && (el.textContent || '').trim())
      texts.push({kind, id: kind + i, text: el.textContent.trim().slice(0, 40), box: box(el)});
  });
  add('title', '.gtitle');
  add('axis title', '.g-xtitle text, .g-ytitle text, .g-x2title text, .g-y2title text');
  add('tick label', '.xtick text, .ytick text');
  add('annotation', '.annotation-text-g text');
  // An animation's controls: the slider's value and step labels, the play button.
  add('slider label', '.slider-current-value, .slider-label');
  add('button', '.updatemenu-item-text');
  const legend = gd.querySelector('.legend .bg');
  const modebar = gd.querySelector('.modebar');
  const size = fl._size;
  // The plot area is what the margins leave; a plot drawn to scale ("constrain:
  // domain") draws its axes in part of it, as large as its shape allows.
  const xa = fl.xaxis, ya = fl.yaxis;
  const axes = xa && ya ? [xa._length, ya._length] : [size.w, size.h];
  const slot = gd.closest('.mamlviz-chart') || gd.parentElement;
  return {index, width: fl.width, height: fl.height, chart: box(gd), slot: box(slot),
          size: {l: size.l, r: size.r, t: size.t, b: size.b, w: size.w, h: size.h},
          plot: [size.w, size.h], axes,
          // One plot only: in a grid of pictures each subplot is drawn to scale in its cell.
          to_scale: !!(ya && ya.scaleanchor) && Object.keys(fl._plots || {}).length === 1,
          title: (gd.querySelector('.gtitle') || {}).textContent || '',
          has_axes: !!(xa && xa.visible !== false),
          texts, legend: legend && visible(legend) ? box(legend) : null,
          modebar: modebar ? box(modebar) : null};
})"""


def overlap(a: list[float], b: list[float], slack: float = SLACK) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > slack
            and min(a[3], b[3]) - max(a[1], b[1]) > slack)


def faults(chart: dict[str, Any]) -> list[str]:
    """What is wrong with one measured chart, as sentences (empty: nothing)."""
    found = []
    name = f"chart {chart['index']} ({chart['title'][:50]!r}, {chart['width']}x{chart['height']})"
    if chart["has_axes"]:
        pw, ph = chart["plot"]
        share = pw * ph / (chart["width"] * chart["height"])
        if share < MIN_PLOT_SHARE:
            found.append(f"{name}: plot area {pw:.0f}x{ph:.0f} is {share:.0%} of the chart")
        aw, ah = chart["axes"]
        if chart["to_scale"] and max(aw / pw, ah / ph) < 0.95:
            found.append(f"{name}: a plot drawn to scale takes {aw:.0f}x{ah:.0f} of its "
                         f"{pw:.0f}x{ph:.0f} plot area")
    if chart.get("slot") is not None and chart["chart"][2] - chart["slot"][2] > SLACK:
        found.append(f"{name}: {chart['chart'][2] - chart['slot'][2]:.0f} px wider than its "
                     "column, cut off on the right")
    for text in chart["texts"]:
        # Text past the chart's edge is cut off: plotly.js clips to the figure.
        a, b = text["box"], chart.get("chart")
        if b is not None and (a[0] < b[0] - SLACK or a[2] > b[2] + SLACK
                              or a[1] < b[1] - SLACK or a[3] > b[3] + SLACK):
            found.append(f"{name}: {text['kind']} {text['text']!r} runs past the chart's edge")
    texts = chart["texts"]
    if chart["legend"] is not None:
        texts = [*texts, {"kind": "legend", "id": "legend", "text": "legend",
                          "box": chart["legend"]}]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            # Tick labels of one axis are plotly's to space; a label and its neighbour
            # never come from two figures' settings.
            if a["kind"] == b["kind"] and a["kind"] in ("tick label", "slider label"):
                continue
            if overlap(a["box"], b["box"]):
                found.append(f"{name}: {a['kind']} {a['text']!r} overlaps "
                             f"{b['kind']} {b['text']!r}")
    if chart["legend"] is not None and chart["modebar"] is not None \
            and overlap(chart["legend"], chart["modebar"], 0.0):
        found.append(f"{name}: the modebar covers the legend")
    return found
