CREATE TABLE "followups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"text" text NOT NULL,
	"owner_id" text,
	"due_on" date,
	"status" text DEFAULT 'open' NOT NULL,
	"drop_reason" text,
	"source_url" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"closed_by" text,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "oncall_handoffs" (
	"schedule" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"since" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oncall_overrides" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"schedule" text NOT NULL,
	"user_id" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"relieved_user_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"removed_by" text,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "postmortems" (
	"incident_id" uuid PRIMARY KEY NOT NULL,
	"overview" text DEFAULT '' NOT NULL,
	"what_happened" text DEFAULT '' NOT NULL,
	"contributing_factors" text DEFAULT '' NOT NULL,
	"resolution" text DEFAULT '' NOT NULL,
	"went_well" text DEFAULT '' NOT NULL,
	"went_badly" text DEFAULT '' NOT NULL,
	"lucky" text DEFAULT '' NOT NULL,
	"edited_by" text NOT NULL,
	"edited_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "reopen_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "postmortem_owner_id" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "postmortem_status" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "postmortem_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "postmortem_canvas_id" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "last_followup_number" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "followups" ADD CONSTRAINT "followups_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "postmortems" ADD CONSTRAINT "postmortems_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "followups_incident_number_uq" ON "followups" USING btree ("incident_id","number");--> statement-breakpoint
CREATE INDEX "followups_open_idx" ON "followups" USING btree ("status","due_on");--> statement-breakpoint
CREATE INDEX "oncall_overrides_schedule_idx" ON "oncall_overrides" USING btree ("schedule","ends_at");--> statement-breakpoint
UPDATE "incidents" SET "reopen_count" = (SELECT count(*) FROM "timeline_events" e WHERE e."incident_id" = "incidents"."id" AND e."kind" = 'reopened');
