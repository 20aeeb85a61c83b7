"""五色图 assessment core: rule sets, scoring, explanations. Never imports Streamlit."""

__version__ = "0.1.0"
