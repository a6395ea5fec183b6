/**
 * topk — top-2 routing with renormalised gates (GShard, Lepikhin et al. 2020, arXiv 2006.16668;
 * Mixtral, Jiang et al. 2024, arXiv 2401.04088): softmax over the experts, the two best per
 * example, their probabilities renormalised to sum to 1 and used to weight the two outputs.
 * Switch's balance loss (α = 0.01) plus the ST-MoE router z-loss (Zoph et al. 2022, arXiv
 * 2202.08906; β = 0.001) to keep router logits small. Dropless. Each expert has half the
 * dense FFN's width, so the two active experts hold the dense FFN's parameters (active-matched
 * to `dense`). 8 experts; fewer where the tier's caps leave no room, recorded as `experts`.
 * Knobs (sweeps): `experts` E (1: the dense control, exactly `dense-block`); `granularity` G:
 * E·G experts of 1/G the width, top-2G, so active and total parameters stay those of G = 1.
 */
import { defineArchitecture, nn } from 'middlepath';

const K = 2;
const EXPERT_COUNTS = [8, 4, 2];

const options = (role: nn.BlockRole, experts: number, granularity: number): nn.MoeBlockOptions => ({
  experts: experts * granularity,
  hidden: Math.max(1, Math.round(role.denseHidden / (K * granularity))),
  router: { kind: 'top-k', k: K * granularity },
  balanceLoss: 0.01,
  zLoss: 0.001,
});

export default defineArchitecture({
  name: 'topk',
  family: 'moe',
  description: 'Top-2 of 8 half-width experts with renormalised gates, dropless, balance loss 0.01 and router z-loss 0.001.',
  reference:
    'Lepikhin et al. 2020 (GShard), arXiv 2006.16668; Jiang et al. 2024 (Mixtral), arXiv 2401.04088; Zoph et al. 2022 (ST-MoE z-loss), arXiv 2202.08906',
  knobs: ['experts', 'granularity'],
  build(task, size, ctx) {
    const g = ctx.knobs.granularity ?? 1;
    const plan = nn.networkPlan(task, size);
    const experts = nn.chooseExperts(plan, size, ctx.knobs, EXPERT_COUNTS, (role, e) => nn.moeBlockParams(role, options(role, e, g))) ?? 8;
    const block = (role: nn.BlockRole) => nn.routedOrDense(ctx, role, experts, () => nn.moeBlock(ctx, role, options(role, experts, g)));
    return nn.buildNetwork(task, size, ctx, block, {
      experts,
      router: `top-${K * g} softmax, renormalised`,
      balanceLoss: 0.01,
      zLoss: 0.001,
      ...(g > 1 ? { granularity: g } : {}),
    });
  },
});
