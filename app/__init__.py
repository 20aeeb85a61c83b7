"""The Streamlit shell: thin pages over the core (``assessment``); no scoring here."""
