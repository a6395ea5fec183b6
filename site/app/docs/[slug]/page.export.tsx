// Static export: one page per docs/*.md (next.config picks *.export.tsx when exporting).
export { default, generateMetadata, generateStaticParams } from '../../../routes/doc.tsx';
