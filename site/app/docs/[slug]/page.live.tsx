// Live build: read per request (next.config picks *.live.tsx unless exporting).
export const dynamic = 'force-dynamic';
export { default, generateMetadata } from '../../../routes/doc.tsx';
