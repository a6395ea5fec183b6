// Live build: rendered per request from the store (next.config picks *.live.tsx unless exporting).
export const dynamic = 'force-dynamic';
export { default, metadata } from './view.tsx';
