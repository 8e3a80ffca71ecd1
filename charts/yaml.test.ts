/** The YAML helper thread changes nothing but the wall time: the same bytes as one thread. */
import { describe, expect, it } from 'vitest';
import { configWithRegions } from '../test/helpers.js';
import { buildPlatform } from './platform.js';
import { renderTree } from './render.js';
import { renderYaml, worthAHelper, YamlHelper, type YamlJob } from './yaml.js';

describe('rendering YAML on two threads', () => {
  it('gives exactly the bytes of one thread for a 50-region platform', () => {
    const config = configWithRegions(50);
    const sequential = renderTree(buildPlatform(config));
    expect(worthAHelper(sequential.size)).toBe(true);
    const parallel = renderTree(buildPlatform(config), new YamlHelper());
    expect([...parallel.keys()]).toEqual([...sequential.keys()]);
    for (const [path, text] of sequential) expect(parallel.get(path), path).toBe(text);
  });

  it('keeps the order of the documents, whichever thread rendered them', () => {
    const jobs: YamlJob[] = Array.from({ length: 23 }, (_, i) => ({ prefix: `# ${i}\n`, value: { count: i, answer: 'yes', list: [i, `${i}`] } }));
    const parallel = renderYaml(jobs, new YamlHelper());
    expect(parallel).toEqual(renderYaml(jobs));
    parallel.forEach((text, i) => expect(text.startsWith(`# ${i}\ncount: ${i}\n`), text).toBe(true));
    // YAML 1.1: "yes" is a boolean there, so the string is quoted (as Helm reads it).
    expect(parallel[0]).toContain('"yes"');
  });

  it('reports a helper that fails instead of hanging', () => {
    const helper = new YamlHelper();
    // The third document goes to the helper; a value it cannot receive fails the render.
    const jobs: YamlJob[] = [{ prefix: '', value: 1 }, { prefix: '', value: 2 }, { prefix: '', value: { f: () => 1 } }];
    expect(() => helper.render(jobs)).toThrow(/could not be cloned/);
  });
});
