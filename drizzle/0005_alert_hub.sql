CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"alert_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_groups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_key" text NOT NULL,
	"route_index" integer NOT NULL,
	"group_labels" jsonb NOT NULL,
	"title" text NOT NULL,
	"channel_id" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"severity" text NOT NULL,
	"firing_count" integer DEFAULT 0 NOT NULL,
	"alert_count" integer DEFAULT 0 NOT NULL,
	"truncated" integer DEFAULT 0 NOT NULL,
	"flaps" integer DEFAULT 0 NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"silenced_until" timestamp with time zone,
	"incident_id" uuid,
	"message_ts" text,
	"rendered_at" timestamp with time zone,
	"thread_cursor" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"integration" text NOT NULL,
	"dedup_key" text NOT NULL,
	"status" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"source" text,
	"labels" jsonb NOT NULL,
	"links" jsonb NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"last_report_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"acknowledged_at" timestamp with time zone,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"flaps" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_channel_pace" (
	"channel_id" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "timers" ADD COLUMN "rerun_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_events_group_idx" ON "alert_events" USING btree ("group_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_groups_open_key_uq" ON "alert_groups" USING btree ("group_key") WHERE "alert_groups"."status" = 'open';--> statement-breakpoint
CREATE INDEX "alert_groups_status_idx" ON "alert_groups" USING btree ("status","id");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_key_uq" ON "alerts" USING btree ("integration","dedup_key") WHERE "alerts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "alerts_key_resolved_idx" ON "alerts" USING btree ("integration","dedup_key","resolved_at");--> statement-breakpoint
CREATE INDEX "alerts_group_idx" ON "alerts" USING btree ("group_id");