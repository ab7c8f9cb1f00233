import { notBuilt } from '../output.js';

export const run = async () => notBuilt('decode', 2);
