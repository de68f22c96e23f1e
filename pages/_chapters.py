"""The lecture's chapters in order: (file in pages/, icon).

Plain data, shared by the router (streamlit_app.py), the home page's links and the
browser tests. Each chapter's title, in every language, is in the catalogues
(``pages/locales/<code>.json``, section ``chapters``, keyed by the file's stem).
"""

CHAPTERS = [
    ("home.py", "🏠"),
    ("three_steps.py", "🪜"),
    ("omniglot.py", "🔤"),
    ("maml_vs_pretraining.py", "⛰️"),
    ("sinusoid.py", "〰️"),
    ("first_order.py", "🧮"),
    ("update_directions.py", "🧭"),
    ("reptile.py", "🦎"),
    ("more.py", "💡"),
]
