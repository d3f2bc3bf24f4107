#!/usr/bin/env node
// The `omnisync` command of this package (`npx omnisync …`): the TypeScript CLI, run through tsx.
require('tsx/cjs');
require('./main.ts');
