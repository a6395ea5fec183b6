// The part of jStat (no types of its own on npm) that distributions.ts uses.
declare module 'jstat' {
  interface Distribution {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  interface FDistribution {
    cdf(x: number, df1: number, df2: number): number;
  }
  const jstat: { jStat: { studentt: Distribution; centralF: FDistribution } };
  export default jstat;
}
