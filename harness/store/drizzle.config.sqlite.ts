// npx drizzle-kit generate --config harness/store/drizzle.config.sqlite.ts
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './harness/store/schema/sqlite.ts',
  out: './harness/store/migrations/sqlite',
});
