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
 *   H NETNS IFINDEX DIR SKB OFFSET W0..W7   (more HTTP request head, printed before its event line)
 *   N NETNS PATH                            (a lab namespace created while the probe runs)
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
  /**
   * Also trace namespaces created while the probe runs whose `ip netns` bind mount path starts
   * with this (e.g. `/run/netns/lab-`): pods born mid-run. null: only `inodes`.
   */
  learnNetnsPrefix?: string | null;
  /**
   * IPv4 networks (`a.b.c.d/len`): keep a packet only when its source or destination is in one.
   * Empty: no address filter. With a filter, IPv6 is not traced (the lab has none).
   */
  addresses?: readonly string[];
  /**
   * Payload bytes to keep from an HTTP request (payload starting with a method), past the
   * `payloadWords` every packet gets, in 64-byte `H` lines: headers a proxy adds at the end of the
   * head (X-Forwarded-For) are 100–200 bytes in. 0 = off; a multiple of 64, up to 512.
   */
  requestHeadBytes?: number;
}

/** One `H` line carries this many payload words. */
export const HEAD_LINE_WORDS = 8;
export const MAX_REQUEST_HEAD_BYTES = 512;

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
  const head = opts.requestHeadBytes ?? 0;
  if (!Number.isInteger(head) || head < 0 || head > MAX_REQUEST_HEAD_BYTES || head % (HEAD_LINE_WORDS * 8) !== 0) {
    throw new UsageError(`requestHeadBytes ${head} is not a multiple of 64 in 0-${MAX_REQUEST_HEAD_BYTES}`, 'give the request head bytes to keep, e.g. 256');
  }
  for (const cidr of opts.addresses ?? []) parseCidr(cidr);
  const prefix = opts.learnNetnsPrefix;
  if (prefix != null && !/^\/run\/netns\/[A-Za-z0-9_.-]+$/.test(prefix)) {
    throw new UsageError(`learnNetnsPrefix '${prefix}' is not a /run/netns/ name prefix`, 'pass /run/netns/<lab>-');
  }
}

/** An IPv4 network as the probe compares it: address and mask as a little-endian load sees them. */
export function parseCidr(cidr: string): { net: number; mask: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const len = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || len > 32) {
    throw new UsageError(`address range '${cidr}' is not an IPv4 network a.b.c.d/len`, 'e.g. 10.244.0.0/16');
  }
  const maskBytes = [0, 1, 2, 3].map((i) => (len >= (i + 1) * 8 ? 0xff : len <= i * 8 ? 0 : (0xff << (8 - (len - i * 8))) & 0xff));
  // byte i of the address is bits 8i..8i+7 of the loaded value
  const le = (bytes: number[]) => (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return { net: le(octets.map((o, i) => o & maskBytes[i]!)), mask: le(maskBytes) };
}

/** Tracepoints the program attaches (attach.ts counts them): two for packets, one for new namespaces. */
export function tracepointCount(opts: Pick<ProbeProgramOptions, 'learnNetnsPrefix'>): number {
  return opts.learnNetnsPrefix ? 3 : 2;
}

/** The `if` condition on the namespace inode: the inodes known at start, and those learned since. */
function inodeCondition(inodes: readonly number[], learning: boolean): string {
  const known = [...new Set(inodes)].sort((a, b) => a - b).map((i) => `$ns == ${i}`);
  return [...known, ...(learning ? ['@learned[$ns]'] : [])].join(' || ');
}

/** The `if` condition on IPv4 addresses (`$sa`, `$da` as loaded), or null for none. */
function addressCondition(addresses: readonly string[]): string | null {
  if (addresses.length === 0) return null;
  const nets = [...new Set(addresses)].sort().map(parseCidr);
  const side = (v: string) => nets.map(({ net, mask }) => (mask === 0xffffffff ? `${v} == ${hex(net)}` : `(${v} & ${hex(mask)}) == ${hex(net)}`));
  return [...side('$sa'), ...side('$da')].join(' || ');
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

/** First four payload bytes of an HTTP request, as a little-endian uint32 load sees them. */
/** The first four payload bytes of an HTTP request, as a little-endian load reads them. */
export const REQUEST_METHOD_WORDS: readonly number[] = ['GET ', 'POST', 'PUT ', 'HEAD', 'DELE', 'PATC', 'OPTI'].map((m) => Buffer.from(m, 'latin1').readUInt32LE(0));

/**
 * `H` lines: more of an HTTP request's head, printed before the packet's own event line (one
 * printf cannot carry it: the BPF stack is 512 bytes). Only for payload that starts with a
 * request method, so responses and bulk data cost nothing more.
 */
function requestHeadLines(dir: 'r' | 't', opts: Required<ProbeProgramOptions>, indent: string): string[] {
  if (opts.requestHeadBytes === 0) return [];
  const first = opts.payloadWords * 8;
  const lines = [
    `if ($avail > ${first} && (${REQUEST_METHOD_WORDS.map((m) => `*(uint32 *)$pp == ${hex(m)}`).join(' || ')})) {`,
  ];
  for (let off = first; off < first + opts.requestHeadBytes; off += HEAD_LINE_WORDS * 8) {
    const words = Array.from({ length: HEAD_LINE_WORDS }, (_, i) => `*(uint64 *)($pp + ${off + i * 8})`);
    lines.push(
      `  if ($avail > ${off}) {`,
      `    printf("H %x %x ${dir} %lx ${off.toString(16)}${' %lx'.repeat(HEAD_LINE_WORDS)}\\n",`,
      `      $ns, $skb->dev->ifindex, (uint64)$skb, ${words.join(', ')});`,
      '  }',
    );
  }
  lines.push('}');
  return lines.map((l) => indent + l);
}

function probeBody(dir: 'r' | 't', opts: Required<ProbeProgramOptions>): string[] {
  const ports = portCondition(opts.ports);
  const addresses = addressCondition(opts.addresses);
  const out: string[] = [
    '  $skb = (struct sk_buff *)args->skbaddr;',
    '  $ns = $skb->dev->nd_net.net->ns.inum;',
    `  if (${inodeCondition(opts.inodes, opts.learnNetnsPrefix !== null)}) {`,
    '    $ip = $skb->head + $skb->network_header;',
    // skb->protocol is big-endian: 0x0800 loads as 0x0008, 0x86dd as 0xdd86.
    '    if ($skb->protocol == 0x0008) {',
    '      $proto = *(uint8 *)($ip + 9);',
    '      // First fragments only: later fragments carry no L4 header.',
    '      if (($proto == 6 || $proto == 17) && (*(uint16 *)($ip + 6) & 0xff1f) == 0) {',
  ];
  // TOTLEN is the IPv4 total length, or the IPv6 payload length (the parser adds the 40-byte header).
  const v4Inner = ['$tot = *(uint16 *)($ip + 2);', ...l4AndPayload(opts.pages, '')];
  const v6Inner = ['$tot = *(uint16 *)($ip + 4);', ...l4AndPayload(opts.pages, '')];
  /** The L4 ports, then `inner`, the head lines and the event line, inside the port filter. */
  const emit = (family: 4 | 6, l4: string, inner: string[], indent: string): string[] => {
    const lines = [`${indent}$l4 = ${l4};`, `${indent}$sp = *(uint16 *)$l4;`, `${indent}$dp = *(uint16 *)($l4 + 2);`];
    let ind = indent;
    if (ports) {
      lines.push(`${ind}if (${ports}) {`);
      ind += '  ';
    }
    lines.push(...inner.map((l) => ind + l), ...requestHeadLines(dir, opts, ind), ...printStatement(family, dir, opts.payloadWords, ind));
    if (ports) lines.push(`${indent}}`);
    return lines;
  };
  if (addresses) {
    out.push(
      '        $sa = *(uint32 *)($ip + 12);',
      '        $da = *(uint32 *)($ip + 16);',
      `        if (${addresses}) {`,
      ...emit(4, '$ip + (*(uint8 *)$ip & 0xf) * 4', v4Inner, '          '),
      '        }',
      '      }',
      '    }',
      '  }',
    );
    return out;
  }
  out.push(...emit(4, '$ip + (*(uint8 *)$ip & 0xf) * 4', v4Inner, '        '));
  out.push(
    '      }',
    '    } else if ($skb->protocol == 0xdd86) {',
    '      // Next header directly TCP/UDP; packets with extension headers are not traced.',
    '      $proto = *(uint8 *)($ip + 6);',
    '      if ($proto == 6 || $proto == 17) {',
  );
  out.push(...emit(6, '$ip + 40', v6Inner, '        '));
  out.push('      }', '    }', '  }');
  return out;
}

/**
 * The namespace watch: `ip netns add NAME` unshares a new network namespace and then bind-mounts
 * /proc/self/ns/net on /run/netns/NAME, so at that mount the calling task is inside the new
 * namespace. Its inode joins the traced set before any device exists in it, and the `N` line
 * names it for user space.
 */
function namespaceWatch(prefix: string): string[] {
  return [
    'tracepoint:syscalls:sys_enter_mount',
    '{',
    `  if (strncmp(str(args->dir_name), "${prefix}", ${prefix.length}) == 0) {`,
    '    $n = curtask->nsproxy->net_ns->ns.inum;',
    '    @learned[$n] = 1;',
    '    printf("N %x %s\\n", $n, str(args->dir_name));',
    '  }',
    '}',
    '',
    // Maps are printed when bpftrace exits: the N lines already said it all.
    'END',
    '{',
    '  clear(@learned);',
    '}',
    '',
  ];
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
    learnNetnsPrefix: options.learnNetnsPrefix ?? null,
    addresses: options.addresses ?? [],
    requestHeadBytes: options.requestHeadBytes ?? 0,
  };
  const exit = opts.exitAfterMs > 0 ? ['', `interval:ms:${opts.exitAfterMs}`, '{', '  exit();', '}'] : [];
  const header = [
    '// netlab eBPF capture probe, generated by cluster/capture/ebpf/program.ts.',
    `// Namespaces (inode): ${[...new Set(opts.inodes)].sort((a, b) => a - b).join(' ')}`,
    `// Ports: ${opts.ports.length ? [...new Set(opts.ports)].sort((a, b) => a - b).join(' ') : 'all TCP/UDP'}`,
  ];
  if (opts.learnNetnsPrefix) header.push(`// And namespaces created under ${opts.learnNetnsPrefix}* while it runs`);
  if (opts.addresses.length) header.push(`// Addresses (IPv4 source or destination): ${[...new Set(opts.addresses)].sort().join(' ')}`);
  if (opts.requestHeadBytes) header.push(`// HTTP request heads: ${opts.payloadWords * 8 + opts.requestHeadBytes} bytes`);
  return [
    ...header,
    '',
    'BEGIN',
    '{',
    `  printf("${READY_MARKER} %lx %${READY_PADDING}s\\n", nsecs, "");`,
    '}',
    '',
    ...(opts.learnNetnsPrefix ? namespaceWatch(opts.learnNetnsPrefix) : []),
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
