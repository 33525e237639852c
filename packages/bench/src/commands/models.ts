import { getModelEntry, listModels, listPretrainedTags } from '@vitkit/core';
import { defineCommand } from '../command.js';
import { billions, millions, textTable } from '../format.js';
import '../register-models.js';

export const models = defineCommand({
  name: 'models',
  summary: 'the registered models with parameters, MACs, input size and paper top-1',
  usage: 'vitkit models [PATTERN] [--family F] [--pretrained] [--json]',
  details:
    "PATTERN is a wildcard over model names, e.g. 'vit_*' or '*_384'. --pretrained lists timm's pretrained weights of those models " +
    '(NAME.TAG, usable as a model name) with their Hub repository and preprocessing.',
  options: [
    { name: 'family', type: 'string', value: 'F', description: 'only this family: vit, hybrid-stem, cswin, crossvit' },
    { name: 'pretrained', type: 'boolean', description: "list timm's pretrained tags of the models instead" },
  ],
  async run({ options, positionals }) {
    const family = options.family;
    if (options.pretrained) {
      const names = listModels(positionals[0] ?? '*', family ? { family } : {});
      const tags = names.flatMap((name) =>
        listPretrainedTags(name).map((t) => ({
          model: t.name,
          hf_hub_id: t.hfHubId,
          num_classes: t.numClasses,
          input_size: t.pretrainedCfg.inputSize,
          crop_pct: t.pretrainedCfg.cropPct,
          interpolation: t.pretrainedCfg.interpolation,
        })),
      );
      const lines = textTable(
        ['model', 'hub repository', 'classes', 'input', 'crop', 'interpolation'],
        tags.map((t) => [t.model, t.hf_hub_id, t.num_classes, t.input_size[1]!, t.crop_pct, t.interpolation]),
      );
      return { ok: true, lines, data: tags };
    }
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
