/// The seeded generator lives in DealershipData and the populator in SyncDemo (the demo
/// ships in the binary and needs them); tests and benchmarks use them from here.
@_exported import DealershipData
@_exported import SyncDemo
