/**
 * The bpftrace program netlab runs for `--source ebpf`, generated as text by a pure function so
 * the namespace filter and the port filter are compiled into the kernel side (no event for
 * traffic outside the lab ever reaches user space). The text is snapshot-tested.
 *
 * Why these tracepoints: kprobes do not exist on the kernels netlab targets (LAB-NOTES.md);
 * `net:net_dev_queue` (transmit) and `net:netif_receive_skb` (receive) fire once per packet per
 * device in every namespace, and their `skbaddr` casts to `struct sk_buff` through kernel BTF.
 *
 * Event line format (one line per packet, space-separated, numbers in hex; see docs/ebpf.md):
 *   4 TS NETNS IFINDEX DEV DIR SKB SADDR DADDR PROTO SPORT DPORT IPID TTL TOTLEN IPHLEN SEQ ACK
 *     FLAGS L4HLEN WIN TSVAL TSECR MSS WSCALE AVAIL W0 W1 ...
 *   6 TS NETNS IFINDEX DEV DIR SKB S0 S1 D0 D1 PROTO SPORT DPORT 0 HLIM PAYLEN 28 SEQ ...
 * Multi-byte header fields are printed as the CPU read them (little-endian loads of big-endian
 * data); the parser swaps them. Byte swapping there is cheaper than in the probe, and bpftrace
 * 0.17 has no bswap.
 */
import { UsageError } from '../../../analyzer/errors.js';

/**
 * Printed by the BEGIN probe. bpftrace runs BEGIN just before it attaches the tracepoints, so this
 * says "attaching now"; attach.ts then waits until the kernel holds them.
 */
export const READY_MARKER = 'NETLAB-EBPF-READY';

/**
 * bpftrace's output is fully buffered for speed (`-B full`), so the ready line is padded (by a
 * printf field width) past the stdio buffer, which flushes it at once instead of with the first
 * few KiB of events.
 */
export const READY_PADDING = 8192;

/** How to turn a `struct page *` into the kernel virtual address of its data (x86_64 direct map). */
export interface PageAddressing {
  /** bpftrace expressions (a constant, or a read of a kernel variable under memory KASLR). */
  pageOffset: string;
  vmemmapBase: string;
  pageShift: number;
}

/** x86_64 with 4-level paging and no memory-layout randomisation (the kernel's defaults). */
export const X86_64_DEFAULT_PAGES: PageAddressing = {
  pageOffset: '0xffff888000000000',
  vmemmapBase: '0xffffea0000000000',
  pageShift: 12,
};

export interface ProbeProgramOptions {
  /** Network namespace inodes to trace (the lab's namespaces). */
  inodes: readonly number[];
  /** TCP/UDP ports of the scenario's traffic (either side); empty = every TCP/UDP packet. */
  ports: readonly number[];
  /** Payload bytes printed per packet, in 8-byte words (4 = 32 bytes: a whole IPv4 PPv2 header). */
  payloadWords?: number;
  /**
   * How to read payload that lives in page fragments (TCP puts data there on transmit, and veth
   * hands the same skb to the peer). null: payload is read only from the skb's linear area.
   */
  pages?: PageAddressing | null;
  /** Exit by itself after this long (used by `netlab doctor` to prove the probe attaches). */
  exitAfterMs?: number;
}

export const MAX_PAYLOAD_WORDS = 8;

function swap16(port: number): number {
  return ((port & 0xff) << 8) | (port >> 8);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function validate(opts: ProbeProgramOptions): void {
  if (opts.inodes.length === 0) {
    throw new UsageError('the eBPF probe needs at least one network namespace to trace', 'pass the lab namespaces (name and inode)');
  }
  for (const inode of opts.inodes) {
    if (!Number.isInteger(inode) || inode <= 0 || inode > 0xffffffff) {
      throw new UsageError(`network namespace inode ${inode} is not a 32-bit inode number`, 'read it with: stat -L -c %i /run/netns/NAME');
    }
  }
  for (const port of opts.ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new UsageError(`port ${port} is not a TCP/UDP port (1-65535)`, 'pass the scenario\'s service, node and target ports');
    }
  }
  const words = opts.payloadWords ?? 4;
  if (!Number.isInteger(words) || words < 0 || words > MAX_PAYLOAD_WORDS) {
    throw new UsageError(`payloadWords ${words} is outside 0-${MAX_PAYLOAD_WORDS}`, 'each word is 8 payload bytes; 4 covers a PPv2 IPv4 header');
  }
}

/** Tracepoints the program attaches (attach.ts counts them). */
export const TRACEPOINTS = 2;

/** The `if` condition on the namespace inode. */
function inodeCondition(inodes: readonly number[]): string {
  return [...new Set(inodes)].sort((a, b) => a - b).map((i) => `$ns == ${i}`).join(' || ');
}

/** The `if` condition on ports, compared in network byte order as loaded (`$sp`, `$dp`). */
function portCondition(ports: readonly number[]): string | null {
  if (ports.length === 0) return null;
  return [...new Set(ports)]
    .sort((a, b) => a - b)
    .map((p) => `$sp == ${hex(swap16(p))} || $dp == ${hex(swap16(p))}`)
    .join(' || ');
}

/**
 * Statements that read the L4 header at `$l4` and locate the payload: sets $seq $ack $fl $hl
 * $win $tsv $tse $mss $ws $pp (payload address) and $avail (bytes readable there).
 */
function l4AndPayload(pages: PageAddressing | null, indent: string): string[] {
  const lines = [
    '$hl = (uint64)8; $seq = (uint32)0; $ack = (uint32)0; $fl = (uint8)0; $win = (uint16)0;',
    '$tsv = (uint32)0; $tse = (uint32)0; $mss = (uint16)0; $ws = (uint8)0xff;',
    'if ($proto == 6) {',
    '  $seq = *(uint32 *)($l4 + 4);',
    '  $ack = *(uint32 *)($l4 + 8);',
    '  $hl = (uint64)(*(uint8 *)($l4 + 12) >> 4) * 4;',
    '  $fl = *(uint8 *)($l4 + 13);',
    '  $win = *(uint16 *)($l4 + 14);',
    '  $o = *(uint32 *)($l4 + 20);',
    '  // Linux lays out options NOP NOP TS on data segments and MSS SACKOK TS NOP WS on SYNs.',
    '  if ($hl >= 32 && $o == 0x0a080101) { $tsv = *(uint32 *)($l4 + 24); $tse = *(uint32 *)($l4 + 28); }',
    '  if ($hl >= 24 && ($o & 0xffff) == 0x0402) { $mss = *(uint16 *)($l4 + 22); }',
    '  if ($hl >= 36 && *(uint32 *)($l4 + 24) == 0x0a080204) { $tsv = *(uint32 *)($l4 + 28); $tse = *(uint32 *)($l4 + 32); }',
    '  if ($hl >= 40 && (*(uint32 *)($l4 + 36) & 0xffffff) == 0x030301) { $ws = *(uint8 *)($l4 + 39); }',
    '}',
    '$pl = (uint64)$l4 + $hl;',
    '$lin = (uint64)$skb->data + $skb->len - $skb->data_len;',
    '$pp = (uint64)0; $avail = (uint64)0;',
    'if ($pl < $lin) {',
    '  $pp = $pl; $avail = $lin - $pl;',
    '}',
  ];
  if (pages) {
    lines.push(
      'else {',
      '  // The payload starts in the first page fragment: page → direct-map address.',
      '  $si = (struct skb_shared_info *)($skb->head + $skb->end);',
      '  $fo = $pl - $lin;',
      '  $pg = (uint64)$si->frags[0].netmem;',
      '  if ($si->nr_frags > 0 && $fo < $si->frags[0].len && ($pg & 1) == 0) {',
      `    $pp = (uint64)${pages.pageOffset} + (($pg - (uint64)${pages.vmemmapBase}) / sizeof(struct page)) * ${2 ** pages.pageShift} + $si->frags[0].offset + $fo;`,
      '    $avail = $si->frags[0].len - $fo;',
      '  }',
      '}',
    );
  }
  return lines.map((l) => indent + l);
}

function printStatement(family: 4 | 6, dir: 'r' | 't', words: number, indent: string): string[] {
  // [printf conversion, argument] in line order; the dev name and direction are the only non-hex fields.
  const fields: Array<[string, string]> = [
    ['%lx', 'nsecs'],
    ['%x', '$ns'],
    ['%x', '$skb->dev->ifindex'],
    ['%s', '$skb->dev->name'],
    [dir, ''],
    ['%lx', '(uint64)$skb'],
    ...(family === 4
      ? ([['%x', '*(uint32 *)($ip + 12)'], ['%x', '*(uint32 *)($ip + 16)']] as Array<[string, string]>)
      : ([8, 16, 24, 32].map((o) => ['%lx', `*(uint64 *)($ip + ${o})`]) as Array<[string, string]>)),
    ['%x', '$proto'],
    ['%x', '$sp'],
    ['%x', '$dp'],
    ['%x', family === 4 ? '*(uint16 *)($ip + 4)' : '0'],
    ['%x', family === 4 ? '*(uint8 *)($ip + 8)' : '*(uint8 *)($ip + 7)'],
    ['%x', '$tot'],
    ['%x', family === 4 ? '(*(uint8 *)$ip & 0xf) * 4' : '40'],
    ...['$seq', '$ack', '$fl', '$hl', '$win', '$tsv', '$tse', '$mss', '$ws', '$avail'].map((a): [string, string] => ['%x', a]),
    ...Array.from({ length: words }, (_, i): [string, string] => ['%lx', i === 0 ? '*(uint64 *)$pp' : `*(uint64 *)($pp + ${i * 8})`]),
  ];
  const format = `${family} ${fields.map(([f]) => f).join(' ')}\\n`;
  const args = fields.filter(([, a]) => a !== '').map(([, a]) => a);
  return [`${indent}printf("${format}",`, `${indent}  ${args.join(', ')});`];
}

function probeBody(dir: 'r' | 't', opts: Required<ProbeProgramOptions>): string[] {
  const ports = portCondition(opts.ports);
  const out: string[] = [
    '  $skb = (struct sk_buff *)args->skbaddr;',
    '  $ns = $skb->dev->nd_net.net->ns.inum;',
    `  if (${inodeCondition(opts.inodes)}) {`,
    '    $ip = $skb->head + $skb->network_header;',
    // skb->protocol is big-endian: 0x0800 loads as 0x0008, 0x86dd as 0xdd86.
    '    if ($skb->protocol == 0x0008) {',
    '      $proto = *(uint8 *)($ip + 9);',
    '      // First fragments only: later fragments carry no L4 header.',
    '      if (($proto == 6 || $proto == 17) && (*(uint16 *)($ip + 6) & 0xff1f) == 0) {',
    '        $l4 = $ip + (*(uint8 *)$ip & 0xf) * 4;',
    '        $sp = *(uint16 *)$l4;',
    '        $dp = *(uint16 *)($l4 + 2);',
  ];
  // TOTLEN is the IPv4 total length, or the IPv6 payload length (the parser adds the 40-byte header).
  const v4Inner = ['$tot = *(uint16 *)($ip + 2);', ...l4AndPayload(opts.pages, '')];
  const v6Inner = ['$tot = *(uint16 *)($ip + 4);', ...l4AndPayload(opts.pages, '')];
  const emit = (family: 4 | 6, inner: string[], indent: string): string[] => {
    const lines: string[] = [];
    let ind = indent;
    if (ports) {
      lines.push(`${ind}if (${ports}) {`);
      ind += '  ';
    }
    lines.push(...inner.map((l) => ind + l), ...printStatement(family, dir, opts.payloadWords, ind));
    if (ports) lines.push(`${indent}}`);
    return lines;
  };
  out.push(...emit(4, v4Inner, '        '));
  out.push(
    '      }',
    '    } else if ($skb->protocol == 0xdd86) {',
    '      // Next header directly TCP/UDP; packets with extension headers are not traced.',
    '      $proto = *(uint8 *)($ip + 6);',
    '      if ($proto == 6 || $proto == 17) {',
    '        $l4 = $ip + 40;',
    '        $sp = *(uint16 *)$l4;',
    '        $dp = *(uint16 *)($l4 + 2);',
  );
  out.push(...emit(6, v6Inner, '        '));
  out.push('      }', '    }', '  }');
  return out;
}

/** The whole bpftrace program for these namespaces and ports. Pure: same input, same text. */
export function buildProbeProgram(options: ProbeProgramOptions): string {
  validate(options);
  const opts: Required<ProbeProgramOptions> = {
    inodes: options.inodes,
    ports: options.ports,
    payloadWords: options.payloadWords ?? 4,
    pages: options.pages === undefined ? X86_64_DEFAULT_PAGES : options.pages,
    exitAfterMs: options.exitAfterMs ?? 0,
  };
  const exit = opts.exitAfterMs > 0 ? ['', `interval:ms:${opts.exitAfterMs}`, '{', '  exit();', '}'] : [];
  return [
    '// netlab eBPF capture probe, generated by cluster/capture/ebpf/program.ts.',
    `// Namespaces (inode): ${[...new Set(opts.inodes)].sort((a, b) => a - b).join(' ')}`,
    `// Ports: ${opts.ports.length ? [...new Set(opts.ports)].sort((a, b) => a - b).join(' ') : 'all TCP/UDP'}`,
    '',
    'BEGIN',
    '{',
    `  printf("${READY_MARKER} %lx %${READY_PADDING}s\\n", nsecs, "");`,
    '}',
    '',
    'tracepoint:net:netif_receive_skb',
    '{',
    ...probeBody('r', opts),
    '}',
    '',
    'tracepoint:net:net_dev_queue',
    '{',
    ...probeBody('t', opts),
    '}',
    ...exit,
    '',
  ].join('\n');
}
