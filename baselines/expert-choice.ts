/**
 * expert-choice — Expert Choice routing (Zhou et al. 2022, arXiv 2202.09368): instead of each
 * example picking experts, each expert picks the T·c/E examples of the batch it scores
 * highest (capacity c = 2), weighting its output by that softmax score. Load is balanced by
 * construction and an example may get 0 to E experts. Because an expert's choice depends on
 * the whole batch — for a language model, on later positions — it is refused on causal
 * tasks. Experts have half the dense FFN's width, so on average (c = 2 per example) an
 * example passes through the dense FFN's parameters. Routing at evaluation also depends on
 * the held-out batch's make-up.
 */
import { defineArchitecture, nn } from 'middlepath';

const CAPACITY = 2;
const EXPERT_COUNTS = [8, 4, 2];

const options = (role: nn.BlockRole, experts: number, causal: boolean): nn.MoeBlockOptions => ({
  experts,
  hidden: Math.max(1, Math.round(role.denseHidden / CAPACITY)),
  router: { kind: 'expert-choice', capacity: CAPACITY },
  causal,
});

export default defineArchitecture({
  name: 'expert-choice',
  family: 'moe',
  description:
    'Expert Choice: each of 8 half-width experts takes its top 2T/E examples of the batch; balanced by construction; non-causal.',
  reference: 'Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing", arXiv 2202.09368',
  refuse: (task) =>
    task.causal
      ? 'Expert Choice lets each expert pick among all tokens of the batch, so a token’s output would depend on later tokens; it cannot run on a causal (language-modelling) task'
      : undefined,
  build(task, size, ctx) {
    const plan = nn.networkPlan(task, size);
    const fit = (role: nn.BlockRole, e: number) => nn.moeBlockParams(role, options(role, e, task.causal));
    const experts = nn.fitExperts(plan, size, EXPERT_COUNTS, fit) ?? 8;
    return nn.buildNetwork(task, size, ctx, (role) => nn.moeBlock(ctx, role, options(role, experts, task.causal)), {
      experts,
      router: 'expert choice',
      capacity: CAPACITY,
    });
  },
});
