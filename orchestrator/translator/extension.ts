// The translator agents as a lab extension: one per edge router that has a translator.
// They are lab processes in the routers' namespaces, so `down` ends them with the rest.
import type { LabExtension } from '../lab/extension.js';
import { deployAgent } from './agent.js';
import { edgeTranslators } from './pages.js';

export const translatorsExtension: LabExtension = {
  name: 'translators',
  spansHosts: true,
  wanted: (t) => edgeTranslators(t).length > 0,
  missing: async () => [],
  async start(lab, ctx) {
    const edges = edgeTranslators(lab.topology);
    let done = 0;
    ctx.onProgress?.({ stage: 'translators', done, total: edges.length });
    await Promise.all(
      edges.map(async ({ node }) => {
        await deployAgent(lab, node, ctx.signal);
        ctx.onProgress?.({ stage: 'translators', done: ++done, total: edges.length });
      }),
    );
  },
  stop: async () => [],
};
