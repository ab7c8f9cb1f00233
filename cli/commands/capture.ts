import { notBuilt } from '../output.js';

export const scenarios = async () => notBuilt('scenarios', 6);
export const capture = async () => notBuilt('capture', 6);
export const compare = async () => notBuilt('compare', 6);
