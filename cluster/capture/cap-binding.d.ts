/** The parts of the `cap` libpcap binding netlab uses (the package ships no types). */
declare module 'cap' {
  export class Cap {
    constructor();
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    setMinBytes?(n: number): void;
    close(): void;
    stats?(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
    on(event: 'packet', cb: (nbytes: number, truncated: boolean) => void): this;
    static deviceList(): Array<{ name: string; description?: string; addresses: Array<{ addr: string }> }>;
    static findDevice(ip?: string): string | undefined;
  }
  const _default: { Cap: typeof Cap };
  export default _default;
}
