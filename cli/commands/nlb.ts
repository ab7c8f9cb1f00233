import { notBuilt } from '../output.js';

export const run = async () => notBuilt('describe-target-health', 5);
