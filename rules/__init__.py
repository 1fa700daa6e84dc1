"""The obligations of DB3212/T 1102—2022 as rules. Plain data in, plain data out; no UI, no database."""
