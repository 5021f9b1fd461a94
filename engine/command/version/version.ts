import { PGKEEP_VERSION } from '../../version.js';
import type { CommandContext } from '../command.js';

export async function run(context: CommandContext): Promise<number> {
  context.out(`pgkeep ${PGKEEP_VERSION}\n`);
  return 0;
}
