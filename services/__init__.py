"""Plain modules shared by pages and the command line (no Streamlit imports here)."""
