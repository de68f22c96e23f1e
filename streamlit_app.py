"""mamlviz: the lecture on meta-learning (MAML and Reptile), one chapter per page.

A router (``st.navigation``) over the pages in the lecture's order; the
sidebar holds the language, the device that trains, and presentation mode.
Run with ``streamlit run streamlit_app.py``.
"""

# The processes that train live runs (mamlviz.live_process) re-run the main script
# under the name "__mp_main__", as multiprocessing does; only the server builds the app.
if __name__ != "__mp_main__":
    from pages import _router

    _router.run()
