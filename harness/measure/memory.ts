/**
 * Peak memory of a run: tfjs tensor bytes and process RSS, tracked by observe() calls that the
 * training loop makes (after each step, say). Peaks between two calls are missed for tensor
 * bytes; for RSS the kernel's own high-water mark (getrusage maxrss) closes that gap.
 */

/** The part of tfjs this needs; pass `tf` from '@tensorflow/tfjs'. */
export interface TfMemorySource {
  memory(): { numBytes: number };
}

/** record.memory */
export interface MemoryPeaks {
  peakTensorBytes: number;
  peakRssBytes: number;
}

export interface MemoryTracker {
  /** samples tensor bytes and RSS now; cheap enough to call every step */
  observe(): void;
  /** the peaks so far, including a final observation */
  result(): MemoryPeaks;
}

export function createMemoryTracker(tf: TfMemorySource): MemoryTracker {
  let peakTensorBytes = 0;
  let peakRssBytes = 0;
  const observe = () => {
    const bytes = tf.memory().numBytes;
    if (bytes > peakTensorBytes) peakTensorBytes = bytes;
    // process.memoryUsage.rss() skips the heap statistics that memoryUsage() gathers.
    const rss = process.memoryUsage.rss();
    if (rss > peakRssBytes) peakRssBytes = rss;
  };
  return {
    observe,
    result() {
      observe();
      // maxRSS is the process's lifetime high-water mark in KiB (Linux getrusage), so it also
      // covers peaks between observe() calls, and whatever the process did before the run.
      const maxRss = process.resourceUsage().maxRSS * 1024;
      return { peakTensorBytes, peakRssBytes: Math.max(peakRssBytes, maxRss) };
    },
  };
}
