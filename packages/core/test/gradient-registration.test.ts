// Under Node, tfjs-core alone registers no gradient functions (@vitkit/node
// does); training must then say what to import instead of failing deep inside
// tf.variableGrads. Each case runs in a fresh process, as registration is global.
import { describe, expect, it } from 'vitest';
import { runNode } from '../../../test-utils/index.js';

const trainStart = (imports: string) => `
  import '@tensorflow/tfjs-backend-cpu';
  ${imports}
  import { Linear, localGradients } from '@vitkit/core';
  try {
    localGradients(new Linear(4, 2));
    console.log('gradients ready');
  } catch (e) {
    console.log(e.message);
  }
`;

describe('gradient functions for training', () => {
  it('@vitkit/core alone under Node: localGradients names the package to import', async () => {
    const { code, stdout } = await runNode(trainStart(''), {});
    expect(code).toBe(0);
    expect(stdout).toContain(
      "TensorFlow.js has no gradient functions registered, so nothing can be trained: in Node import '@vitkit/node'",
    );
  });

  it('with @vitkit/node imported they are registered', async () => {
    const { code, stdout } = await runNode(trainStart("import '@vitkit/node';"), {});
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('gradients ready');
  });
});
