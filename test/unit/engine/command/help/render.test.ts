import { describe, expect, it } from 'vitest';

import {
  parseHelpTopic,
  renderCommandHelp,
  renderGeneralHelp,
  renderOptionHelp,
} from '../../../../../engine/command/help/render.js';
import { PgkeepError } from '../../../../../engine/error/pgkeep-error.js';

describe('help derived from the registry', () => {
  it('lists the given commands with their summaries', () => {
    const text = renderGeneralHelp(['backup', 'info']);
    expect(text).toContain('pgkeep 0.1.0 - General help');
    expect(text).toMatch(/ {4}backup {4}Back up a database cluster/);
    expect(text).not.toContain('restore');
  });

  it("groups a command's options, with defaults, leaving out internal and unsupported ones", () => {
    const text = renderCommandHelp('backup');
    expect(text).toMatch(/Command Options:[\s\S]*--type\s+Backup type, or recovery type for restore \[default=incr\]/);
    expect(text).toMatch(/General Options:[\s\S]*--buffer-size\s+Size of buffers for copying files \[default=1MiB\]/);
    expect(text).toMatch(/Log Options:[\s\S]*--log-level-console/);
    expect(text).toMatch(/Repository Options:[\s\S]*--repo-retention-full/);
    expect(text).toMatch(/Stanza Options:[\s\S]*--pg-path\s+Data directory of the cluster/);
    expect(text).not.toContain('--repo-s3-bucket');
    expect(text).not.toContain('--exec-id');
  });

  it('describes one option: type, default, range, places, index, secret, old names', () => {
    const text = renderOptionHelp('backup', 'repo1-retention-full');
    expect(text).toContain("'backup' command - 'repo-retention-full' option help");
    expect(text).toContain('range: 1 to 9999999');
    expect(text).toContain('indexed: repo1-retention-full ... repo256-retention-full');
    expect(text).toContain('deprecated names: retention-full');
    expect(renderOptionHelp('backup', '--buffer-size')).toContain('allowed: 16KiB, 32KiB');
    expect(renderOptionHelp('archive-push', 'repo1-cipher-pass')).toContain(
      'secret: refused on the command line and never logged',
    );
    expect(renderOptionHelp('archive-push', 'archive-push-queue-max')).toMatch(/range: 0 to 4PiB/);
    expect(renderOptionHelp('backup', 'repo1-s3-bucket')).toContain('Not supported: object-store repositories');
    expect(renderOptionHelp('backup', 'compress-type')).toContain('supported by pgkeep: none, gz, lz4');
  });

  it('refuses unknown topics clearly', () => {
    expect(() => renderOptionHelp('backup', 'target-action')).toThrow(
      "option 'target-action' is not an option of command 'backup'",
    );
    expect(() => parseHelpTopic(['bakup'], ['backup'])).toThrow(PgkeepError);
    expect(() => parseHelpTopic(['restore'], ['backup'])).toThrow("unknown command 'restore'");
    expect(() => parseHelpTopic(['backup', 'type', 'more'], ['backup'])).toThrow(
      "help takes at most a command and an option, not 'more'",
    );
    expect(parseHelpTopic([], ['backup'])).toEqual({});
    expect(parseHelpTopic(['backup', '--type'], ['backup'])).toEqual({ command: 'backup', option: 'type' });
  });
});
