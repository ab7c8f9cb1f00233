import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../cli/commands/capture-remote.js';
import { parseServiceRef } from '../../../cluster/remote/run.js';

describe('capture --service options', () => {
  it('--duration takes seconds, units and combinations', () => {
    expect(['90', '30s', '2m', '1m30s', '1h', '1500ms'].map(parseDuration)).toEqual([90, 30, 120, 90, 3600, 2]);
  });

  it('--duration rejects what is not a duration, in one usage line', () => {
    for (const bad of ['', 'soon', '5 minutes', '1m30', '-5s', '0.2s']) {
      expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ exitCode: 1, message: expect.stringMatching(/^--duration '.*' is (not a duration|shorter than one second)$/) }));
    }
  });

  it('--service is NAMESPACE/NAME, or NAME in the context namespace', () => {
    expect(parseServiceRef('shop/web')).toEqual({ namespace: 'shop', name: 'web' });
    expect(parseServiceRef('web')).toEqual({ namespace: null, name: 'web' });
    for (const bad of ['shop/a/b', '/web', 'shop/', 'Shop/web', 'shop/web_1']) {
      expect(() => parseServiceRef(bad)).toThrow(expect.objectContaining({ exitCode: 1, message: `--service '${bad}' is not NAMESPACE/NAME` }));
    }
  });
});
