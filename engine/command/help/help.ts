import type { CommandContext } from '../command.js';
import { implementedCommands } from '../registry.js';
import { parseHelpTopic, renderCommandHelp, renderGeneralHelp, renderOptionHelp } from './render.js';

/** `pgkeep help`, `pgkeep help <command>`, `pgkeep help <command> <option>`. */
export async function run(context: CommandContext): Promise<number> {
  const implemented = implementedCommands();
  const topic = parseHelpTopic(context.config.params, implemented);
  if (topic.command === undefined) context.out(renderGeneralHelp(implemented));
  else if (topic.option === undefined) context.out(renderCommandHelp(topic.command));
  else context.out(renderOptionHelp(topic.command, topic.option));
  return 0;
}
