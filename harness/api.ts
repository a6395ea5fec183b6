/**
 * `import { ... } from 'middlepath'`: the whole public surface a submitter needs.
 * The harness resolves 'middlepath' to this file for modules anywhere on disk.
 */
export {
  type Architecture,
  type ArchitectureDefinition,
  type ArchitectureKnobs,
  type BuildContext,
  defineArchitecture,
  type Family,
  type ForwardContext,
  type ForwardResult,
  type Initializer,
  type InputSpec,
  type Model,
  type ModelCost,
  type OutputSpec,
  type RoutingTrace,
  type SizeSpec,
  type TaskSpec,
} from './architecture.ts';
export * as nn from './nn/index.ts';
