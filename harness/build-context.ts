/**
 * The BuildContext handed to `Architecture.build`: seeded initialisers, so the same seed
 * gives the same weights on every backend (tfjs draws random numbers in JS, not in the backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchitectureKnobs, BuildContext, Initializer } from './architecture.ts';
import { rng } from './tasks/random.ts';

export interface OwnedBuildContext extends BuildContext {
  /** every variable created, in creation order */
  readonly created: ReadonlyArray<{ name: string; variable: tf.Variable; init: Initializer }>;
  /** dispose every variable and constant the model created */
  dispose(): void;
}

function seedOf(...parts: Array<string | number>): number {
  return Math.floor(rng(...parts)() * 2 ** 31);
}

function initialValue(shape: number[], init: Initializer, seed: number): tf.Tensor {
  const fanIn = shape.length >= 2 ? (shape[shape.length - 2] as number) : (shape[0] ?? 1);
  const fanOut = shape[shape.length - 1] ?? 1;
  if (init === 'zeros') return tf.zeros(shape);
  if (init === 'ones') return tf.ones(shape);
  if (init === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.randomUniform(shape, -limit, limit, 'float32', seed);
  }
  if (init === 'he') return tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed);
  if (init === 'embedding') return tf.randomNormal(shape, 0, 0.02, 'float32', seed);
  if ('normal' in init) return tf.randomNormal(shape, 0, init.normal, 'float32', seed);
  return tf.randomUniform(shape, -init.uniform, init.uniform, 'float32', seed);
}

export function createBuildContext(seed: number, scope: string, knobs: ArchitectureKnobs = {}): OwnedBuildContext {
  const created: Array<{ name: string; variable: tf.Variable; init: Initializer }> = [];
  const constants: tf.Tensor[] = [];
  const names = new Set<string>();
  const random = rng('build', seed);
  return {
    seed,
    knobs: Object.freeze({ ...knobs }),
    created,
    random,
    variable(name, shape, init) {
      if (names.has(name)) throw new Error(`variable name '${name}' is used twice; names must be unique within a model`);
      if (!shape.every((d) => Number.isInteger(d) && d > 0))
        throw new Error(`variable '${name}' has an invalid shape [${shape.join(', ')}]`);
      names.add(name);
      // Seeded by (seed, name) alone, so adding a layer does not reshuffle the others.
      const value = initialValue(shape, init, seedOf('init', seed, name));
      const variable = tf.variable(value, true, `${scope}/${name}/${created.length}`);
      value.dispose();
      created.push({ name, variable, init });
      return variable;
    },
    variables: () => created.map((c) => c.variable),
    constant(tensor) {
      const kept = tf.keep(tensor);
      constants.push(kept);
      return kept;
    },
    dispose() {
      for (const { variable } of created) variable.dispose();
      for (const c of constants) c.dispose();
    },
  };
}
