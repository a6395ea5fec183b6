// Static export: the submissions in the store the export is built from (next.config picks *.export.tsx when exporting).
export { default, metadata } from './view.tsx';
