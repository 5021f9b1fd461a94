// engine/tsconfig.json maps the module name 'electron' to this file, so that any import of an
// Electron API from engine/ fails to type-check: the engine must run in plain Node as well.
declare const electronIsForbiddenInEngine: unique symbol;
export type ElectronIsForbiddenInEngine = typeof electronIsForbiddenInEngine;
