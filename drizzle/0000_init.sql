CREATE TABLE "incident_roles" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" uuid NOT NULL,
	"role" text NOT NULL,
	"user_id" text NOT NULL,
	"assigned_by" text NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL,
	"relieved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" text NOT NULL,
	"number" integer NOT NULL,
	"title" text NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"severity" text NOT NULL,
	"status" text DEFAULT 'investigating' NOT NULL,
	"is_private" boolean DEFAULT false NOT NULL,
	"is_test" boolean DEFAULT false NOT NULL,
	"reporter_id" text NOT NULL,
	"source_channel_id" text,
	"declare_key" text NOT NULL,
	"channel_name" text NOT NULL,
	"channel_id" text,
	"card_ts" text,
	"announcement_channel_id" text,
	"announcement_ts" text,
	"invites_settled" boolean DEFAULT false NOT NULL,
	"topic_settled" boolean DEFAULT false NOT NULL,
	"pin_settled" boolean DEFAULT false NOT NULL,
	"announce_settled" boolean DEFAULT false NOT NULL,
	"notify_settled" boolean DEFAULT false NOT NULL,
	"declared_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"mitigated_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "team_counters" (
	"team_id" text PRIMARY KEY NOT NULL,
	"last_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "timeline_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"actor_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "timers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"scheduled_for" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_token" text,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "incident_roles" ADD CONSTRAINT "incident_roles_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "timeline_events" ADD CONSTRAINT "timeline_events_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "incident_roles_current_uq" ON "incident_roles" USING btree ("incident_id","role") WHERE "incident_roles"."relieved_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_team_number_uq" ON "incidents" USING btree ("team_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_team_declare_key_uq" ON "incidents" USING btree ("team_id","declare_key");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_team_channel_uq" ON "incidents" USING btree ("team_id","channel_id");--> statement-breakpoint
CREATE INDEX "timeline_events_incident_idx" ON "timeline_events" USING btree ("incident_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "timers_key_uq" ON "timers" USING btree ("key");--> statement-breakpoint
CREATE INDEX "timers_pending_due_idx" ON "timers" USING btree ("due_at") WHERE "timers"."status" = 'pending';