ALTER TABLE "status_updates" ADD COLUMN "public_title" text;--> statement-breakpoint
ALTER TABLE "status_updates" ADD COLUMN "public_body" text;--> statement-breakpoint
ALTER TABLE "status_updates" ADD COLUMN "components" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "status_updates_public_idx" ON "status_updates" USING btree ("audience","posted_at");