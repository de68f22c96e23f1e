// One plotly.js per bundle URL per page: window.__mamlvizPlotly maps a URL to the promise
// of the Plotly object that bundle defines. Shared by the router's early start (an
// st.html script in the sidebar) and by every chart (chart.js), so a bundle is fetched
// and compiled once however many of them ask.
function mamlvizLoadPlotly(url) {
  const bundles = (window.__mamlvizPlotly = window.__mamlvizPlotly || {});
  if (!bundles[url]) {
    bundles[url] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      // Every bundle ends with `window.Plotly = Plotly`; its load event fires right
      // after it ran, so this is the Plotly it defined even if another bundle (basic,
      // then cartesian) loads later on the same page.
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        delete bundles[url];  // a later chart may try again
        reject(new Error(`plotly.js did not load from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return bundles[url];
}
