/** The standard tasks, in suite order. */

import { UsageError } from '../errors.ts';
import { charlm } from './charlm.ts';
import { mnist } from './mnist.ts';
import { parity } from './parity.ts';
import { superposition } from './superposition.ts';
import type { Task } from './types.ts';

export const TASKS: readonly Task[] = [superposition, parity, mnist, charlm];

export function findTask(id: string): Task {
  const task = TASKS.find((t) => t.spec.id === id);
  if (!task) throw new UsageError(`unknown task '${id}'; the tasks are: ${TASKS.map((t) => t.spec.id).join(', ')}`);
  return task;
}

export type { Batch, EvalSplit, Scorer, Task, TaskData, TierSettings } from './types.ts';
