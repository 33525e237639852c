import { getModelEntry, listModels } from '@vitkit/core';
import { defineCommand } from '../command.js';
import { billions, millions, textTable } from '../format.js';
import '../register-models.js';

export const models = defineCommand({
  name: 'models',
  summary: 'the registered models with parameters, MACs, input size and paper top-1',
  usage: 'vitkit models [PATTERN] [--family F] [--json]',
  details: "PATTERN is a wildcard over model names, e.g. 'vit_*' or '*_384'.",
  options: [{ name: 'family', type: 'string', value: 'F', description: 'only this family: vit, hybrid-stem, cswin, crossvit' }],
  async run({ options, positionals }) {
    const family = options.family;
    const rows = listModels(positionals[0] ?? '*', family ? { family } : {}).map((name) => {
      const e = getModelEntry(name);
      const cost = e.cost();
      return {
        model: name,
        family: e.defaults.family,
        params: cost.params,
        macs: cost.macs,
        img_size: e.defaults.imgSize,
        num_classes: e.defaults.numClasses,
        paper_top1: e.defaults.figures.paperTop1 ?? null,
      };
    });
    const lines = textTable(
      ['model', 'family', 'params (M)', 'GMACs', 'input', 'paper top-1'],
      rows.map((r) => [
        r.model,
        r.family,
        millions(r.params),
        billions(r.macs),
        r.img_size,
        r.paper_top1 === null ? '-' : r.paper_top1.toFixed(1),
      ]),
    );
    return { ok: true, lines, data: rows };
  },
});
