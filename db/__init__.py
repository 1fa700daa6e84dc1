"""The complaint database: typed models, sessions, Alembic migrations, queries, imports, stored
obligations and every write (each in one transaction, audited). Uses `domain/` and `rules/`; never
Streamlit."""
