-- The rows a job engine's claim takes (src/jobs/engine.ts): up to max_rows claimable rows, oldest due
-- first, skipping rows another replica holds, locked for the claim's update. A function only so that its
-- plan can be fixed: it walks timers_pending_due_idx in due order and stops after max_rows. Left to
-- itself, the planner reads every due row and sorts them all on each claim (FOR UPDATE sits between the
-- sort and the limit, so the sort cannot stop early) whenever its statistics think few rows are due,
-- and they always do at the start of a storm: the rows fell due after the last ANALYZE, or the table has
-- none yet. Ten thousand due rows were sorted some eighty times to fire them (2 ms a claim instead of
-- 0.1 ms; `npm run bench`, timers). Claimable: pending and due, and a row cancelled while it ran and
-- then scheduled again waits for the time its new plan asked. Each row comes with its due time, so the
-- claim can start its rows in due order, and in creation order among rows due at the same time (the
-- engine orders the few it claimed; ordered here by id too, the index walk would become a sort).
CREATE FUNCTION incident_bot_due_jobs(claim_at timestamptz, max_rows integer)
  RETURNS TABLE (id bigint, due_at timestamptz)
  LANGUAGE plpgsql
  ROWS 100
  SET enable_bitmapscan = off
  SET enable_seqscan = off
  SET enable_sort = off
AS $$
BEGIN
  RETURN QUERY
    SELECT t.id, t.due_at FROM timers t
    WHERE t.status = 'pending'
      AND t.due_at <= claim_at
      AND (t.finished_at IS NULL OR coalesce(t.rerun_at, t.due_at) <= claim_at)
    ORDER BY t.due_at
    LIMIT max_rows
    FOR UPDATE SKIP LOCKED;
END
$$;
