"""Streamlit helpers shared by app.py and the pages (state of the sidebar, database guard)."""
