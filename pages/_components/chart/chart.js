// mamlviz's chart: one Plotly figure, drawn in the app's own page (st.components.v2).
//
// It runs in the page itself (not an iframe per chart), so each plotly.js bundle is
// fetched and compiled once per page load, whatever the number of charts (loader.js).
// Python sends a JSON string:
// {"bundle": URL of the smallest plotly.js that draws the figure, "height": px,
//  "config": Plotly config, "figure": {"data": [...], "layout": {...}, "frames": [...]}}.

// mamlvizLoadPlotly(url) comes from loader.js, which pages/_chart.py puts before this.

// Charts draw one at a time, each in a task of its own with a frame after it. React
// mounts every chart of a page in one task; drawn there together, none showed until the
// last had drawn (the Omniglot chapter has ten).
let turns = Promise.resolve();

function inTurn(draw) {
  const turn = turns.then(draw);
  turns = turn.catch(() => {}).then(
    () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  return turn;
}

export default function ({ data, parentElement }) {
  if (typeof data !== "string") return undefined;
  const spec = JSON.parse(data);
  // Rerunning with the same figure does not call this again (Streamlit compares the
  // JSON string); a new figure for the same chart updates it in place: no blink.
  let box = parentElement.querySelector(":scope > .mamlviz-chart");
  if (!box) {
    box = document.createElement("div");
    box.className = "mamlviz-chart";
    box.innerHTML = '<div class="mamlviz-chart-plot"></div>'
      + '<div class="mamlviz-chart-error" role="alert"></div>';
    parentElement.appendChild(box);
  }
  const plot = box.firstElementChild;
  const error = box.lastElementChild;
  const figure = spec.figure || {};
  // The height is set before plotly.js has loaded, so the page does not jump.
  plot.style.height = `${spec.height}px`;
  box.dataset.version = String(Number(box.dataset.version || 0) + 1);
  const version = box.dataset.version;

  mamlvizLoadPlotly(spec.bundle).then((Plotly) => inTurn(async () => {
    if (box.dataset.version !== version) return;  // a newer figure arrived meanwhile
    if (plot.__mamlvizPlotly && plot.__mamlvizPlotly !== Plotly) {
      plot.__mamlvizPlotly.purge(plot);  // drawn before by another bundle
    }
    plot.__mamlvizPlotly = Plotly;
    const layout = { ...(figure.layout || {}), height: spec.height, autosize: true };
    // A figure drawn to a fixed width (Omniglot's drawings, grown for a projector) wider
    // than its column shrinks whole, its shape kept: else its right side is cut off.
    const room = box.clientWidth;
    if (layout.width && room > 0 && layout.width > room) {
      layout.height = Math.round(spec.height * room / layout.width);
      layout.width = room;
      plot.style.height = `${layout.height}px`;
    }
    // react() with frames replaces the animation frames too (the 1-D landscape's play).
    await Plotly.react(plot, { data: figure.data || [], layout, frames: figure.frames || [],
                               config: { responsive: true, ...spec.config } });
    // A trace type the bundle lacks is not an exception in plotly.js: it quietly draws
    // the trace as a scatter. Say so on the page (pages/_chart.py's TRACES is wrong).
    const drawn = (plot._fullData || []).map((trace) => trace.type);
    const missing = (figure.data || []).map((trace) => trace.type || "scatter")
      .filter((type, i) => drawn[i] !== type);
    error.textContent = missing.length
      ? `This chart needs trace types that ${spec.bundle} lacks: ${missing.join(", ")}` : "";
  })).catch((err) => {
    error.textContent = `This chart could not be drawn: ${err.message}`;
  });

  // Called when Streamlit removes the chart: free plotly.js's listeners and DOM.
  return () => {
    if (plot.__mamlvizPlotly) plot.__mamlvizPlotly.purge(plot);
  };
}
