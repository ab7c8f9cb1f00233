import { notBuilt } from '../output.js';

export const run = async () => notBuilt('analyze', 4);
