-- `leads.company_tech_stack` NULL when empty (issue 23, target 7; docs/postgres.md).
--
-- Nearly every lead has no tech stack (only an identify's `company.tech_stack` trait sets one),
-- yet each row stored an empty text[]: 13 B a row on scripts/bench-storage.sh. The writers (the
-- lead INSERT/UPDATE, erasure) now store NULL for an empty list; the readers (`LeadRecord`, the
-- privacy export) read NULL as the empty list, so the lead API and the export are unchanged.
-- Rows written before keep their '{}' until their next update; both read the same.
ALTER TABLE leads ALTER COLUMN company_tech_stack DROP NOT NULL, ALTER COLUMN company_tech_stack DROP DEFAULT;
