// Turbopack loader for harness/ sources the site bundles (the store). Turbopack reads
// `new URL('./relative', import.meta.url)` as a reference to a file to bundle, and fails on
// a folder such as the store's migrations/. The site opens the store read-only and never
// migrates, so the folder is not needed: turning the second argument into an expression
// keeps the code's meaning at run time and stops the bundler from chasing the path.
module.exports = function urlAssetLoader(source) {
  return source.replace(
    /new URL\(\s*(['"`])(\.{1,2}\/[^'"`]*)\1\s*,\s*import\.meta\.url\s*\)/g,
    (_m, q, rel) => `new URL(${q}${rel}${q}, String(import.meta.url))`,
  );
};
