export { writeAnnotatedPcapng, describePoint, type PcapngPoint, type PacketAnnotation, type PcapngWriteResult } from './write.js';
export { CaptureReader, type CaptureRecord, type CaptureInterface } from './reader.js';
