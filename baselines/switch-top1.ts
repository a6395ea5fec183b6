/**
 * switch-top1 — Switch Transformer routing (Fedus et al. 2021, arXiv 2101.03961): each example
 * (token) goes to the one expert with the highest router probability p_i and its output is
 * p_i·E_i(x), so the router learns through the gate. Router in fp32 with weights at 0.1× the
 * usual initial scale; capacity factor 1.25 during training (rows over an expert's capacity
 * skip it through the residual; evaluation is dropless); balance loss α·E·Σ f_i·P_i with
 * α = 0.01. The MoE FFN replaces the dense FFN: the transformer's on charlm, the residual
 * block after a dense stem on vector tasks, the bottleneck on the toy task (each expert its
 * own toy model). Each expert has the dense FFN's width, so one example passes through the
 * same parameters as in `dense` plus the router. 8 experts; fewer only where the tier's caps
 * leave no room (the toy superposition task), recorded as `experts`.
 *
 * Knobs (sweeps): `experts` E (1: the dense control, exactly `dense-block`); `granularity` G
 * (Krajewski et al. 2024, arXiv 2402.07871): E·G experts of 1/G the width, top-G with gates
 * renormalised over the G chosen, so active and total parameters stay those of G = 1 (plus
 * the router's d·E·G).
 */
import { defineArchitecture, nn } from 'middlepath';

const EXPERT_COUNTS = [8, 4, 2];
const CAPACITY_FACTOR = 1.25;

const options = (role: nn.BlockRole, experts: number, granularity: number): nn.MoeBlockOptions => ({
  experts: experts * granularity,
  hidden: Math.max(1, Math.round(role.denseHidden / granularity)),
  router: { kind: 'top-k', k: granularity },
  capacityFactor: CAPACITY_FACTOR,
  balanceLoss: 0.01,
});

export default defineArchitecture({
  name: 'switch-top1',
  family: 'moe',
  description:
    'Switch routing: top-1 of 8 experts with output p·E(x), capacity factor 1.25 in training, balance loss 0.01, small fp32 router.',
  reference: 'Fedus, Zoph & Shazeer 2021, "Switch Transformers", arXiv 2101.03961',
  knobs: ['experts', 'granularity'],
  build(task, size, ctx) {
    const g = ctx.knobs.granularity ?? 1;
    const plan = nn.networkPlan(task, size);
    const experts = nn.chooseExperts(plan, size, ctx.knobs, EXPERT_COUNTS, (role, e) => nn.moeBlockParams(role, options(role, e, g))) ?? 8;
    return nn.buildNetwork(
      task,
      size,
      ctx,
      (role) => nn.routedOrDense(ctx, role, experts, () => nn.moeBlock(ctx, role, options(role, experts, g))),
      {
        experts,
        router: g > 1 ? `top-${g} softmax, renormalised` : 'top-1 softmax',
        capacityFactor: CAPACITY_FACTOR,
        balanceLoss: 0.01,
        ...(g > 1 ? { granularity: g } : {}),
      },
    );
  },
});
