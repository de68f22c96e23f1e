"""Pure Plotly figure builders: data in, ``plotly.graph_objects.Figure`` out."""

# A horizontal legend at the bottom of the figure, under the x-axis title whatever the
# font size (presentation mode): placed in the figure's own frame ("container"), it
# makes plotly.js push the plot up by its height. Placed in the plot's frame below
# the axis, as before, a long legend or a large font drew it over the axis title.
LEGEND_BELOW = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0}
