/**
 * The Express suite on Express 4 (4.18+ is supported): the module `express`
 * (imported by `tessera/express` and by the suite) resolves to the `express4`
 * npm alias, as it does in an Express 4 app.
 */
import { vi } from 'vitest';
import { defineExpressSuite } from './express-suite.js';

vi.mock('express', async () => await import('express4'));

defineExpressSuite('express 4', 4);
