import { describe, expect, it } from 'vitest';

import { defaultPgIndex } from '../../../../../engine/command/common/pg-index.js';
import { parseCommandLine } from '../../../../../engine/config/command-line.js';
import { resolveConfig } from '../../../../../engine/config/resolve.js';
import { memoryIo } from '../../config/memory-io.js';

const configOf = (stanzaSection: string) =>
  resolveConfig({
    command: 'archive-get',
    commandLine: parseCommandLine(['--stanza=demo', 'archive-get']),
    env: {},
    io: memoryIo({ '/etc/pgkeep/pgkeep.conf': `[demo]\n${stanzaSection}` }),
  });

describe('defaultPgIndex', () => {
  it('is the lowest pgN configured, as pgBackRest', () => {
    expect(defaultPgIndex(configOf('pg1-path=/a\npg2-path=/b\n'))).toBe(1);
    // A standby host's configuration may name its cluster pg2 only
    const config = configOf('pg2-path=/b\npg3-path=/c\n');
    expect(defaultPgIndex(config)).toBe(2);
    expect(config.string('pg-path', defaultPgIndex(config))).toBe('/b');
  });
});
