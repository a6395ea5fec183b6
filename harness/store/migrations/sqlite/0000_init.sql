CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`content_hash` text NOT NULL,
	`status` text NOT NULL,
	`task` text NOT NULL,
	`tier` text NOT NULL,
	`seed` integer NOT NULL,
	`architecture` text NOT NULL,
	`family` text NOT NULL,
	`description` text NOT NULL,
	`source_hash` text NOT NULL,
	`hardware_class` text NOT NULL,
	`metric_name` text NOT NULL,
	`metric_unit` text NOT NULL,
	`higher_is_better` integer NOT NULL,
	`quality` real,
	`executed_flops` real NOT NULL,
	`model_flops` real NOT NULL,
	`wall_seconds` real NOT NULL,
	`energy_joules` real,
	`energy_note` text,
	`params_total` integer NOT NULL,
	`params_active` integer NOT NULL,
	`nmi` real,
	`effective_experts` real,
	`activation_sparsity` real,
	`update_density` real,
	`curve` text NOT NULL,
	`started_at` text NOT NULL,
	`harness_version` text NOT NULL,
	`ingested_at` text NOT NULL,
	`record` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_content_hash_unique` ON `runs` (`content_hash`);--> statement-breakpoint
CREATE INDEX `runs_slice_idx` ON `runs` (`tier`,`hardware_class`,`task`,`status`);--> statement-breakpoint
CREATE INDEX `runs_architecture_idx` ON `runs` (`architecture`,`started_at`);--> statement-breakpoint
CREATE INDEX `runs_key_idx` ON `runs` (`key`);