CREATE TABLE `submissions` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`family` text NOT NULL,
	`tier` text NOT NULL,
	`hardware_class` text NOT NULL,
	`bundle_hash` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`claim` text NOT NULL,
	`bundle` text NOT NULL,
	`uploaded_by` text,
	`verification` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `submissions_bundle_hash_unique` ON `submissions` (`bundle_hash`);--> statement-breakpoint
CREATE INDEX `submissions_created_idx` ON `submissions` (`created_at`);--> statement-breakpoint
CREATE TABLE `upload_tokens` (
	`name` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `upload_tokens_hash_unique` ON `upload_tokens` (`token_hash`);