// The Postgres module; see DESIGN.md §3.
