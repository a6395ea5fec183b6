/**
 * dense-block — the like-for-like dense control of the routed baselines: their scaffold
 * (`nn.buildNetwork`: the dense stem and residual FFN blocks on vector tasks, the bottleneck
 * on the toy task, the pre-LN transformer with its norms and embeddings on charlm) with
 * each MoE block replaced by a single expert: one dense FFN of the width every routed
 * expert has (`role.denseHidden`). A one-expert Switch layer computes exactly this (its one
 * gate is 1), so set against switch-top1 it measures routing, not the scaffold. `dense`
 * (a plain MLP on vector tasks) and `dense-total` (all of switch-top1's experts side by
 * side) stay as the other two controls.
 */
import { defineArchitecture, nn } from 'middlepath';

export default defineArchitecture({
  name: 'dense-block',
  family: 'dense',
  description:
    "The routed baselines' scaffold (residual FFN blocks, norms, embeddings) with one expert per block: a dense FFN of one expert's width, no router.",
  reference: 'Fedus, Zoph & Shazeer 2021, "Switch Transformers", arXiv 2101.03961 (the dense model each MoE layer replaces)',
  build(task, size, ctx) {
    return nn.buildNetwork(task, size, ctx, (role) => nn.denseBlock(ctx, role, role.denseHidden), {
      expertsPerBlock: 1,
      scaffold: 'routed baselines (nn.buildNetwork)',
    });
  },
});
