// npx drizzle-kit generate --config harness/store/drizzle.config.pg.ts
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './harness/store/schema/pg.ts',
  out: './harness/store/migrations/pg',
});
