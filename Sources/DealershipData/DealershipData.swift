/// DealershipData generates seeded, realistic dealership data (names, mobile numbers, VINs,
/// leads, service orders, dirty rows) for the demo, benchmarks and tests.
/// Filled by the [bench] issue.
public enum DealershipData {}
