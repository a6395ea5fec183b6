/**
 * dense-total — the dense control matched to a MoE's *total* parameters (the routed baselines
 * are matched to `dense` on *active* parameters; Switch and its successors report both
 * comparisons, Fedus et al. 2021, arXiv 2101.03961). Same scaffold as switch-top1 (dense
 * stem + residual FFN block on vector tasks, the bottleneck on the toy task, the pre-LN
 * transformer on charlm), with each MoE block replaced by one dense FFN holding all of
 * switch-top1's experts side by side: E × the dense FFN's width, E as switch-top1 chooses it
 * for the tier (8 where the caps allow). Every parameter is active, so it costs E× the FLOPs
 * of `dense` per example: it answers "what would the same parameters buy without routing?". It is declared a
 * matched-total control, so the harness lets it past the tier's active-parameter cap.
 */
import { defineArchitecture, nn } from 'middlepath';

// Kept in step with switch-top1, whose total parameters this matches.
const EXPERT_COUNTS = [8, 4, 2];
const switchOptions = (role: nn.BlockRole, experts: number): nn.MoeBlockOptions => ({
  experts,
  hidden: role.denseHidden,
  router: { kind: 'top-k', k: 1 },
  capacityFactor: 1.25,
  balanceLoss: 0.01,
});

export default defineArchitecture({
  name: 'dense-total',
  family: 'dense',
  control: 'matched-total',
  description:
    "A dense model with switch-top1's total parameters: each FFN is as wide as all of its experts together, so every parameter is active.",
  reference: 'Fedus, Zoph & Shazeer 2021, "Switch Transformers", arXiv 2101.03961 (FLOP- vs parameter-matched baselines)',
  build(task, size, ctx) {
    const plan = nn.networkPlan(task, size);
    const experts = nn.fitExperts(plan, size, EXPERT_COUNTS, (role, e) => nn.moeBlockParams(role, switchOptions(role, e))) ?? 8;
    return nn.buildNetwork(task, size, ctx, (role) => nn.denseBlock(ctx, role, experts * role.denseHidden), {
      matchedTo: 'switch-top1 total parameters',
      ffnWidthMultiple: experts,
    });
  },
});
