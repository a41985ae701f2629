ALTER TABLE "timers" ADD COLUMN "waiting_for" text;--> statement-breakpoint
CREATE INDEX "timers_waiting_idx" ON "timers" USING btree ("waiting_for") WHERE "timers"."status" = 'pending' and "timers"."waiting_for" is not null;--> statement-breakpoint
-- Wake the job engines of every replica when a job becomes ready to claim: NOTIFY is delivered when the
-- scheduling transaction commits (never for one that rolls back), and several in one transaction arrive as
-- one. Claims, heartbeats and completions set a lease token or another status, so they notify nobody.
-- The channel name is JOBS_CHANNEL in src/jobs/engine.ts.
CREATE FUNCTION incident_bot_wake_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('incident_bot_jobs', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER timers_wake_jobs
  AFTER INSERT OR UPDATE ON timers
  FOR EACH ROW
  WHEN (NEW.status = 'pending' AND NEW.lease_token IS NULL)
  EXECUTE FUNCTION incident_bot_wake_jobs();
