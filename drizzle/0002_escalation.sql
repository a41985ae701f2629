ALTER TABLE "incidents" ADD COLUMN "acknowledged_by" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "escalation_policy" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "escalation_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "escalation_step" integer DEFAULT 0 NOT NULL;