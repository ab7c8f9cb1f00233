/**
 * bench:decode's fixed cost: Node start plus reading the file with the same 64 KiB synchronous
 * reads as netlab's fast path, touching nothing. What is left between this and a decoder is the
 * decoder's own work.
 */
import { openSync, readSync } from 'node:fs';

const READ = 64 * 1024;
const fd = openSync(process.argv[2], 'r');
const buf = new Uint8Array(READ);
let bytes = 0;
for (let n = readSync(fd, buf, 0, READ, null); n > 0; n = readSync(fd, buf, 0, READ, null)) bytes += n;
process.stdout.write(`bytes: ${bytes}\n`);
