-- Indexes the console's inbox needs at 1,000,000 suggestions (see docs/benchmarks-console.md).

-- "Deadline soonest": the inbox orders by this very expression (no deadline sorts last) and
-- pages with a keyset on (key, id).
CREATE INDEX suggestions_deadline_order ON suggestions(COALESCE(deadline, '9999'), id);

-- A department's suggestions (its account's inbox, and the department filter), newest or oldest
-- first: walked in suggestion order, so the first page stops after 50.
CREATE INDEX assignments_department_suggestion ON assignments(department_id, suggestion_id);
