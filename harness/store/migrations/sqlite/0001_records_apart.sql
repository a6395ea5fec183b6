CREATE TABLE `records` (
	`id` text PRIMARY KEY NOT NULL,
	`record` text NOT NULL
);
--> statement-breakpoint
-- hand-added: keep the records of a store created by 0000 before the column goes
INSERT INTO `records` (`id`, `record`) SELECT `id`, `record` FROM `runs`;--> statement-breakpoint
ALTER TABLE `runs` DROP COLUMN `record`;