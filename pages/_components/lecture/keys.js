// mamlviz's lecture keys (pages/_lecture.py): one keydown listener per page load.
//
// ArrowRight / PageDown ask Python for the next step, ArrowLeft / PageUp for the
// previous one (clickers send PageUp/PageDown). PageUp/PageDown only in presentation
// mode: elsewhere they scroll the page as a reader expects. Keys typed into a widget
// (a focused slider, radio, text box, tab list, chart) are the widget's.
// Python sends {"page", "step", "target", "presentation"}: on a new page or step the
// page scrolls to the point's target ("h2": its third heading, "c0": its first chart).
// It also narrows the charts to A4's width while a chapter is printed.

const OWN_KEYS = 'input, textarea, select, [contenteditable="true"], [role="slider"], '
  + '[role="radiogroup"], [role="radio"], [role="listbox"], [role="combobox"], '
  + '[role="tablist"], [role="tab"], [role="menu"], .js-plotly-plot';
const PRINT_WIDTH = 680;  // px: A4's 210 mm less 12 mm margins, at 96 px per inch

function onKey(event) {
  const state = window.__mamlvizLecture;
  if (!state || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey
      || event.shiftKey) return;
  const moves = { ArrowRight: "next", ArrowLeft: "prev" };
  if (state.presentation) Object.assign(moves, { PageDown: "next", PageUp: "prev" });
  const move = moves[event.key];
  if (!move) return;
  const target = event.target;
  if (target && target.closest && target.closest(OWN_KEYS)) return;
  event.preventDefault();
  state.setTriggerValue("move", move);
}

function charts() {
  return [...document.querySelectorAll(".mamlviz-chart .js-plotly-plot")]
    .filter((gd) => gd.__mamlvizPlotly);
}

function beforePrint() {
  for (const gd of charts()) {
    gd.__mamlvizPrintWidth = gd._fullLayout && gd._fullLayout.width;
    if (gd.__mamlvizPrintWidth > PRINT_WIDTH) {
      gd.__mamlvizPlotly.relayout(gd, { width: PRINT_WIDTH });
    }
  }
}

function afterPrint() {
  for (const gd of charts()) {
    if (gd.__mamlvizPrintWidth > PRINT_WIDTH) {
      gd.__mamlvizPlotly.relayout(gd, { width: null, autosize: true });
    }
  }
}

function scrollTo(target) {
  const kind = target[0];
  const index = Number(target.slice(1));
  const selector = kind === "c" ? '[data-testid="stMain"] .mamlviz-chart'
    : '[data-testid="stMain"] [data-testid="stHeading"]';
  let tries = 0;
  (function attempt() {
    const found = document.querySelectorAll(selector);
    // The page may still be drawing (a new chapter): wait for its element, at most 10 s,
    // then take the last one there (a chapter without data shows fewer headings).
    if (found.length > index || tries > 40) {
      const element = found[Math.min(index, found.length - 1)];
      if (element) element.scrollIntoView({ behavior: "smooth", block: "start" });
      return;
    }
    tries += 1;
    setTimeout(attempt, 250);
  })();
}

export default function ({ data, setTriggerValue }) {
  if (typeof data !== "string") return undefined;
  const spec = JSON.parse(data);
  window.__mamlvizLecture = { setTriggerValue, presentation: spec.presentation };
  document.documentElement.dataset.mamlvizStep = `${spec.page}:${spec.step}`;
  if (!window.__mamlvizLectureListening) {
    window.__mamlvizLectureListening = true;
    document.addEventListener("keydown", onKey);
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
  }
  const mark = `${spec.page}:${spec.step}`;
  if (spec.presentation && window.__mamlvizScrolled !== mark) {
    window.__mamlvizScrolled = mark;
    scrollTo(spec.target);
  }
  return undefined;
}
