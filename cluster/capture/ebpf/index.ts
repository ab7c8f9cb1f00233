/** The eBPF capture source (`netlab capture --source ebpf`): see docs/ebpf.md. */
export { startEbpfCapture, type EbpfCapture, type EbpfCaptureOptions, type EbpfCaptureSummary, type EbpfPoint } from './capture.js';
export { netnsInode, pidNetnsInode, resolveNamespaces, type TracedNamespace } from './netns.js';
export { buildProbeProgram, READY_MARKER, type ProbeProgramOptions, type PageAddressing } from './program.js';
export { EventLineParser, createEvent, DIR, type EbpfEvent } from './events.js';
export { EbpfRecordFiller, type EbpfPacketRecord } from './record.js';
export { synthesizeFrame } from './frame.js';
export { PcapngWriter } from './pcapng.js';
export { detectPageAddressing, pageAddressingFor } from './pages.js';
export { ebpfCapturedFiles, ebpfManifestPoints, tracedNamespacesFor, type NamespaceRole, type TargetLike } from './manifest.js';
export { startEbpfCapturer, type EbpfCapturerOptions, type RunningEbpfCapture } from './capturer.js';
