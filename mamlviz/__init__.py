"""mamlviz: the engine behind an interactive lecture on meta-learning.

MAML (Finn, Abbeel & Levine 2017, arXiv 1703.03400), its first-order
approximation, Reptile (Nichol, Achiam & Schulman 2018, arXiv 1803.02999) and
plain pre-training, on sinusoid regression, analytic loss landscapes and
Omniglot few-shot classification.

This package never imports streamlit: the pages depend on it, not the reverse.
"""

__version__ = "0.1.0"
