"""The complaint database: models, sessions, migrations, queries, import and demo data."""
