import { loadBlas, CBLAS_ROW_MAJOR as RM, CBLAS_NO_TRANS as N, CBLAS_TRANS as T } from './kernels/blas.ts';
const blas = await loadBlas();
const time = (f: () => void, reps: number) => { for (let i = 0; i < 5; i++) f(); const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); return (performance.now() - t0) / reps * 1000; };
for (const [m, k, n] of [[8, 256, 256], [128, 256, 256], [8, 256, 1024], [128, 256, 1024], [8, 1024, 256]] as const) {
  const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(k * n).fill(0.25), c = new Float32Array(m * n);
  const fwd = time(() => blas.sgemm(RM, N, N, m, n, k, 1, a, k, b, n, 0, c, n), 2000);
  const dy = new Float32Array(m * n).fill(0.1), dw = new Float32Array(k * n);
  const grad = time(() => blas.sgemm(RM, T, N, k, n, m, 1, a, k, dy, n, 0, dw, n), 2000);
  const dx = new Float32Array(m * k);
  const bwd = time(() => blas.sgemm(RM, N, T, m, k, n, 1, dy, n, b, n, 0, dx, k), 2000);
  const gf = (us: number) => ((2 * m * k * n) / (us * 1e3)).toFixed(1);
  console.log(`M=${m} K=${k} N=${n}: y=xW ${fwd.toFixed(1)} µs (${gf(fwd)} GF/s) · dW=xᵀdy ${grad.toFixed(1)} µs (${gf(grad)}) · dx=dyWᵀ ${bwd.toFixed(1)} µs (${gf(bwd)}); weight ${(k*n*4/1024).toFixed(0)} KiB`);
}
