/// The seeded generator lives in DealershipData (the demo needs it too); tests use it from here.
@_exported import DealershipData
