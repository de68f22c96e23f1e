"""The lecture's chapters in order: (file in pages/, English title, Chinese title, icon).

Plain data, shared by the router (streamlit_app.py), the home page's links and
the browser tests (which parse this file rather than import the app).
"""

CHAPTERS = [
    ("home.py", "Learning to learn", "学习如何学习", "🏠"),
    ("three_steps.py", "The three steps", "元学习三步骤", "🪜"),
    ("omniglot.py", "Omniglot, live", "Omniglot 实战", "🔤"),
    ("maml_vs_pretraining.py", "MAML versus pre-training", "MAML 与预训练", "⛰️"),
    ("sinusoid.py", "Toy example: sinusoids, live", "玩具示例：正弦曲线", "〰️"),
    ("first_order.py", "Warning of math: first order", "数学警告：一阶近似", "🧮"),
    ("update_directions.py", "Real implementation", "实际实现：更新方向", "🧭"),
    ("reptile.py", "Reptile", "Reptile", "🦎"),
    ("more.py", "More to think about", "更多思考", "💡"),
]
