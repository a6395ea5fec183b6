CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"content_hash" text NOT NULL,
	"status" text NOT NULL,
	"task" text NOT NULL,
	"tier" text NOT NULL,
	"seed" integer NOT NULL,
	"architecture" text NOT NULL,
	"family" text NOT NULL,
	"description" text NOT NULL,
	"source_hash" text NOT NULL,
	"hardware_class" text NOT NULL,
	"metric_name" text NOT NULL,
	"metric_unit" text NOT NULL,
	"higher_is_better" boolean NOT NULL,
	"quality" double precision,
	"executed_flops" double precision NOT NULL,
	"model_flops" double precision NOT NULL,
	"wall_seconds" double precision NOT NULL,
	"energy_joules" double precision,
	"energy_note" text,
	"params_total" bigint NOT NULL,
	"params_active" bigint NOT NULL,
	"nmi" double precision,
	"effective_experts" double precision,
	"activation_sparsity" double precision,
	"update_density" double precision,
	"curve" text NOT NULL,
	"started_at" text NOT NULL,
	"harness_version" text NOT NULL,
	"ingested_at" text NOT NULL,
	"record" text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "runs_content_hash_unique" ON "runs" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "runs_slice_idx" ON "runs" USING btree ("tier","hardware_class","task","status");--> statement-breakpoint
CREATE INDEX "runs_architecture_idx" ON "runs" USING btree ("architecture","started_at");--> statement-breakpoint
CREATE INDEX "runs_key_idx" ON "runs" USING btree ("key");