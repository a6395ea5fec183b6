// The part of jStat (no types of its own on npm) that distributions.ts uses.
declare module 'jstat' {
  interface Distribution {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  interface FDistribution {
    cdf(x: number, df1: number, df2: number): number;
  }
  interface NoncentralT {
    cdf(x: number, dof: number, noncentrality: number): number;
  }
  interface Normal {
    inv(p: number, mean: number, sd: number): number;
  }
  const jstat: { jStat: { studentt: Distribution; centralF: FDistribution; noncentralt: NoncentralT; normal: Normal } };
  export default jstat;
}
