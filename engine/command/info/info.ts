import { buildStanzaInfo, renderInfoJson } from '../../repo/info-json.js';
import type { CommandContext } from '../command.js';
import { loadStanzasForInfo } from './info-load.js';
import { renderInfoText } from './info-text.js';

/** `pgkeep info`: the stanzas with their backups and WAL archive, as text or pgBackRest's JSON. */
export async function run({ config, out }: CommandContext): Promise<number> {
  const stanzas = (await loadStanzasForInfo(config)).sort((a, b) => (a.input.name < b.input.name ? -1 : 1));
  const built = stanzas.map((stanza) => ({ json: buildStanzaInfo(stanza.input), backupLock: stanza.backupLock }));
  if (config.string('output') === 'json') out(renderInfoJson(built.map((stanza) => stanza.json)) + '\n');
  else out(renderInfoText(built, { set: config.stringOr('set') !== undefined }));
  return 0;
}
