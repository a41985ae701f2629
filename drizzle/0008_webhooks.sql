CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"event_type" text NOT NULL,
	"body" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"ref" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_settings" (
	"id" integer PRIMARY KEY NOT NULL,
	"enabled" boolean NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_created_idx" ON "webhook_deliveries" USING btree ("created_at");--> statement-breakpoint
-- The webhook outbox, written in the transaction of the change itself (see src/webhooks/tables.ts):
-- every timeline event, and an alert group's opening, acknowledgement and resolution, while webhooks are on.
CREATE FUNCTION incident_bot_outbox_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM webhook_settings WHERE id = 1 AND enabled) THEN
    INSERT INTO webhook_outbox (source, ref) VALUES ('timeline', NEW.id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER timeline_events_outbox
  AFTER INSERT ON timeline_events
  FOR EACH ROW EXECUTE FUNCTION incident_bot_outbox_timeline();
--> statement-breakpoint
CREATE FUNCTION incident_bot_outbox_alert_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_settings WHERE id = 1 AND enabled) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' OR (OLD.status = 'resolved' AND NEW.status = 'open') THEN
    INSERT INTO webhook_outbox (source, ref) VALUES ('alert_group.opened', NEW.id);
  ELSIF OLD.status <> 'resolved' AND NEW.status = 'resolved' THEN
    INSERT INTO webhook_outbox (source, ref) VALUES ('alert_group.resolved', NEW.id);
  ELSIF OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL THEN
    INSERT INTO webhook_outbox (source, ref) VALUES ('alert_group.acknowledged', NEW.id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER alert_groups_outbox
  AFTER INSERT OR UPDATE ON alert_groups
  FOR EACH ROW EXECUTE FUNCTION incident_bot_outbox_alert_group();
