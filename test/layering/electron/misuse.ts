// Fixture: main/electron is type-checked against electron's own declarations, so a misused API
// fails the typecheck (test/unit/layering.test.ts expects these errors).
import { app, BrowserWindow } from 'electron';

app.enableSandboxx();
export const window = new BrowserWindow({ webPreferences: { nodeIntegration: 'no' } });
