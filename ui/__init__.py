"""Streamlit helpers shared by app.py and the pages: sign-in and page guards, sidebar state (language,
as-of, team filter), database error messages, safe text rendering."""
