"""What pages and the command line call: compositions over `db/` (first-start and demo set-up, the
command-line operations, view tables and exports built from query results). No Streamlit imports here."""
