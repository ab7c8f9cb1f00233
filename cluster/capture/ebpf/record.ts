/**
 * Probe events → the analyzer's PacketRecord (analyzer/decode/record.ts), so correlation, hops,
 * verdicts and reports treat an eBPF observation like a packet read from a pcap. The record's
 * `bytes` is the synthesised Ethernet frame (frame.ts), the same bytes the pcapng writer stores,
 * so a record read live and one decoded later from the file agree.
 */
import { DecodeContext, resetL34 } from '../../../analyzer/decode/context.js';
import { decodeLink } from '../../../analyzer/decode/linktypes.js';
import type { PacketRecord } from '../../../analyzer/decode/record.js';
import type { EbpfEvent } from './events.js';
import { MAX_SYNTH_FRAME, synthesizeFrame } from './frame.js';

/** A PacketRecord plus what only the eBPF source knows. */
export interface EbpfPacketRecord extends PacketRecord {
  netnsInode: number;
  /** 0 receive (netif_receive_skb), 1 transmit (net_dev_queue). */
  dir: 0 | 1;
  /** skb address (low 48 bits): the same packet inside one namespace keeps it from device to device. */
  skb: number;
  /** Index into the capture's point list. */
  point: number;
}

const LINKTYPE_ETHERNET = 1;

/**
 * The decoder's own per-packet machinery, pointed at one reused frame buffer: every field the
 * pcap path fills (addresses, ports, TCP options, payload hash, PROXY header, HTTP) is filled
 * here by the same code.
 */
export class EbpfRecordFiller {
  private readonly ctx = new DecodeContext(null);
  private readonly frame = new Uint8Array(MAX_SYNTH_FRAME);
  readonly record: EbpfPacketRecord;

  constructor() {
    this.record = Object.assign(this.ctx.rec, { netnsInode: 0, dir: 0 as 0 | 1, skb: 0, point: -1 });
    this.ctx.setBuffer(this.frame, new DataView(this.frame.buffer));
  }

  /**
   * Fill the record from `ev`. `wallSec`/`wallNsec` convert the probe's monotonic clock to wall
   * time (the offset measured when the capture started).
   */
  fill(ev: EbpfEvent, wallSec: number, wallNsec: number): EbpfPacketRecord {
    const rec = this.record;
    const ctx = this.ctx;
    const frame = synthesizeFrame(ev, this.frame);
    resetL34(rec);
    if (ctx.innerDirty) { resetL34(rec.inner); ctx.innerDirty = false; }
    if (ctx.quotedDirty) { resetL34(rec.quoted); ctx.quotedDirty = false; }
    rec.arpOp = -1;
    rec.vlan = -1;
    rec.tunnel = null;
    rec.vni = -1;
    rec.ppv2.present = false;
    rec.http.present = false;
    rec.error = null;
    let nsec = ev.monoNsec + wallNsec;
    let sec = ev.monoSec + wallSec;
    if (nsec >= 1e9) {
      nsec -= 1e9;
      sec += 1;
    }
    rec.tsSec = sec;
    rec.tsNsec = nsec;
    rec.linktype = LINKTYPE_ETHERNET;
    rec.interfaceId = 0;
    rec.caplen = frame.caplen;
    rec.origLen = frame.origLen;
    rec.fileOffset = -1;
    rec.bytes = this.frame;
    decodeLink(ctx, LINKTYPE_ETHERNET, 0, frame.caplen);
    // What a LINUX_SLL2 capture would say: the kernel's interface index and host/outgoing.
    rec.ifindex = ev.ifindex;
    rec.pktType = ev.dir === 1 ? 4 : 0;
    rec.netnsInode = ev.netnsInode;
    rec.dir = ev.dir;
    rec.skb = ev.skb;
    return rec;
  }
}
