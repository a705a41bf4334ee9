// The LeadRouter module; see DESIGN.md §3.
