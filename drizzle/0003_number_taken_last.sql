DROP INDEX "incidents_team_number_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_team_number_uq" ON "incidents" USING btree ("team_id","number") WHERE "incidents"."number" > 0;