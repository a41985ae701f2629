ALTER TABLE "alert_events" ALTER COLUMN "alert_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "alerts_firing" integer;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "data" jsonb;--> statement-breakpoint
ALTER TABLE "alert_groups" ADD COLUMN "incident_cursor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_groups" ADD COLUMN "relayed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_groups" ADD COLUMN "escalation_policy" text;--> statement-breakpoint
ALTER TABLE "alert_groups" ADD COLUMN "escalation_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_groups" ADD COLUMN "escalation_step" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "alert_groups_incident_idx" ON "alert_groups" USING btree ("incident_id");