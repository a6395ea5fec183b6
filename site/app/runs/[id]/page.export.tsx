// Static export: one page per value in the store (next.config picks *.export.tsx when exporting).
export { default, generateMetadata, generateStaticParams } from '../../../routes/run.tsx';
