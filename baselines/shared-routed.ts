/**
 * shared-routed — the middle path: DeepSeekMoE (Dai et al. 2024, arXiv 2401.06066). One
 * always-on shared expert holds common knowledge densely; the rest is fine-grained routed
 * experts (each expert of a coarse 8-expert layer split in two: 16 experts of a quarter of
 * the dense FFN's width, top-2), so the shared half-width expert plus two quarter-width
 * routed experts hold exactly the dense FFN's parameters per example. Balanced by the
 * expert-level loss (α = 0.01, DeepSeekMoE's f scaled by N'/(K'T) is Switch's E·f), or —
 * `sharedRouted({ biasBalancing: γ })` — by the auxiliary-loss-free bias of DeepSeek-V3 (Wang
 * et al. 2024, arXiv 2408.15664): top-k on sigmoid affinity + b, gates from the affinity, b_i moved by
 * γ·sign(mean load − load_i) after every training forward, no balance loss.
 * Knob (sweeps): `experts` E, the routed experts (default 16, top-2 of them); 1 is the dense
 * control, exactly `dense-block`.
 */
import { type Architecture, defineArchitecture, nn } from 'middlepath';

const EXPERT_COUNTS = [16, 8, 4];
const K = 2;

export interface SharedRoutedOptions {
  /** γ of DeepSeek-V3's bias balancing; 0 (default) uses the balance loss instead */
  biasBalancing?: number;
}

export function sharedRouted(config: SharedRoutedOptions = {}): Architecture {
  const gamma = config.biasBalancing ?? 0;
  const options = (role: nn.BlockRole, experts: number): nn.MoeBlockOptions => ({
    experts,
    hidden: Math.max(1, Math.round(role.denseHidden / 4)),
    shared: { experts: 1, hidden: Math.max(1, Math.round(role.denseHidden / 2)) },
    router: gamma > 0 ? { kind: 'top-k', k: K, affinity: 'sigmoid', biasBalancing: gamma } : { kind: 'top-k', k: K },
    balanceLoss: gamma > 0 ? 0 : 0.01,
  });
  return defineArchitecture({
    name: gamma > 0 ? 'shared-routed-bias' : 'shared-routed',
    family: 'hybrid',
    description:
      gamma > 0
        ? `One shared half-width expert always on + top-2 of 16 quarter-width routed experts, aux-loss-free bias balancing (γ = ${gamma}).`
        : 'One shared half-width expert always on + top-2 of 16 quarter-width routed experts (DeepSeekMoE), balance loss 0.01.',
    reference:
      'Dai et al. 2024 (DeepSeekMoE), arXiv 2401.06066; Wang et al. 2024 (auxiliary-loss-free balancing, used in DeepSeek-V3), arXiv 2408.15664',
    knobs: ['experts'],
    build(task, size, ctx) {
      const plan = nn.networkPlan(task, size);
      const experts = nn.chooseExperts(plan, size, ctx.knobs, EXPERT_COUNTS, (role, e) => nn.moeBlockParams(role, options(role, e))) ?? 16;
      const block = (role: nn.BlockRole) => nn.routedOrDense(ctx, role, experts, () => nn.moeBlock(ctx, role, options(role, experts)));
      return nn.buildNetwork(task, size, ctx, block, {
        experts,
        sharedExperts: 1,
        router: gamma > 0 ? 'top-2 sigmoid + bias' : 'top-2 softmax, renormalised',
        balancing: gamma > 0 ? `bias γ=${gamma}` : 'loss 0.01',
      });
    },
  });
}

export default sharedRouted();
