import { notBuilt } from '../output.js';

export const up = async () => notBuilt('up', 3);
export const down = async () => notBuilt('down', 3);
export const status = async () => notBuilt('status', 3);
export const apply = async () => notBuilt('apply', 3);
export const remove = async () => notBuilt('delete', 3);
export const get = async () => notBuilt('get', 3);
export const exec = async () => notBuilt('exec', 3);
export const node = async () => notBuilt('node', 3);
