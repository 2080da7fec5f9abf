import { defineExpressSuite } from './express-suite.js';

defineExpressSuite('express', 5);
