/** The npm pcap-parser peer for bench:decode: frames only (it reads microsecond pcap and nothing else). */
import pcapParser from 'pcap-parser';

const file = process.argv[2];
let packets = 0;
const parser = pcapParser.parse(file);
parser.on('packet', () => { packets++; });
parser.on('end', () => process.stdout.write(`${packets}\n`));
parser.on('error', (err: Error) => { process.stderr.write(`${err.message}\n`); process.exitCode = 2; });
