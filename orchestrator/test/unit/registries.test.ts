// Every plugin point has the same shape: a registered plugin is found by name and listed,
// an unknown name is refused with the list of what is there.
import assert from 'node:assert/strict';
import { getSubstrate, registerSubstrate, substrateNames } from '../../substrate/registry.js';
import type { Substrate } from '../../substrate/substrate.js';
import { RecordingShell } from '../helpers.js';

describe('registries', () => {
  it('substrates: a plugin is found and listed; an unknown name lists the built-ins', () => {
    const fake: Substrate = { name: 'fake', missing: async () => [], create: async () => {}, shell: () => new RecordingShell(), destroy: async () => [] };
    {
      using _ = registerSubstrate('fake', () => fake);
      assert.equal(getSubstrate('fake'), fake);
      assert.deepEqual(substrateNames(), ['netns', 'mininet', 'fake']);
    }
    assert.throws(() => getSubstrate('fake'), /substrate "fake" is not supported. Supported substrates are "netns", "mininet"$/);
  });
});
