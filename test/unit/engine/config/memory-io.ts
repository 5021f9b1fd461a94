import { dirname } from 'node:path';

import type { ConfigIo } from '../../../../engine/config/config-files.js';

/** Config files held in memory, for unit tests of config loading. */
export function memoryIo(files: Record<string, string>): ConfigIo {
  return {
    readFile: (path) => files[path],
    listDir: (path) => {
      const names = Object.keys(files)
        .filter((file) => dirname(file) === path)
        .map((file) => file.slice(path.length + 1));
      return names.length === 0 && !Object.keys(files).some((file) => file.startsWith(`${path}/`)) ? undefined : names;
    },
  };
}
