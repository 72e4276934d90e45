#!/usr/bin/env node
// labelq producer: enqueue, status, results, runs. Node >= 24 runs the TypeScript sources directly.
import { main } from '../src/cli/main.ts';

await main();
