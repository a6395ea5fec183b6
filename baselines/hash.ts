/**
 * hash — fixed, unlearned routing (Roller et al. 2021, "Hash Layers For Large Sparse Models",
 * arXiv 2106.04426): the control for "does learned routing matter?". On charlm a token goes
 * to the expert its character id hashes to (a seeded shuffle of the vocabulary dealt
 * round-robin to the experts, as in the paper's random hash), in every layer. On vector tasks
 * the hash is of the input's support, (Σ_i [x_i > 0]·P_i) mod E with seeded P_i, so the same
 * input always meets the same expert. Never the group label: on mnist that is the class.
 * No router, no gate (the expert's output is used as is), dropless; experts have the dense
 * FFN's width. 8 experts; fewer where the tier's caps leave no room, recorded as `experts`.
 * Knob (sweeps): `experts` E (1: the dense control, exactly `dense-block`).
 */
import { defineArchitecture, nn } from 'middlepath';

const EXPERT_COUNTS = [8, 4, 2];

const options = (role: nn.BlockRole, experts: number): nn.MoeBlockOptions => ({
  experts,
  hidden: role.denseHidden,
  router: { kind: 'hash' },
});

export default defineArchitecture({
  name: 'hash',
  family: 'moe',
  description:
    'Hash routing: each example goes to a fixed expert (of 8) chosen by a hash of its token id or input; nothing about routing is learned.',
  reference: 'Roller et al. 2021, "Hash Layers For Large Sparse Models", arXiv 2106.04426',
  knobs: ['experts'],
  build(task, size, ctx) {
    const plan = nn.networkPlan(task, size);
    const experts = nn.chooseExperts(plan, size, ctx.knobs, EXPERT_COUNTS, (role, e) => nn.moeBlockParams(role, options(role, e))) ?? 8;
    const hash = experts > 1 ? nn.hashRouter(ctx, task, experts) : undefined;
    const block = (role: nn.BlockRole) => nn.routedOrDense(ctx, role, experts, () => nn.moeBlock(ctx, role, options(role, experts), hash));
    return nn.buildNetwork(task, size, ctx, block, {
      experts,
      router: task.input.kind === 'tokens' ? 'hash of the token id' : 'hash of the input support',
    });
  },
});
