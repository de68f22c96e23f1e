"""Pure Plotly figure builders: data in, ``plotly.graph_objects.Figure`` out."""

# A horizontal legend under the plot, below the x-axis title. Anchored by its top:
# plotly.js anchors a legend with y < 1/3 by its bottom, so a long legend grew upwards
# over the axis title.
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.25}
