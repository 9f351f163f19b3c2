import Testing
import SyncTestSupport
@testable import SyncCore

/// Random histories of 3–5 nodes editing, deleting and re-inserting one row while they
/// exchange versions at random; then the final versions merged in every order.
struct History {
    static let columns = ["name", "phone", "class", "notes"]
    static let policies: [MergePolicy] = [
        .lastWriterWins,
        MergePolicy(owners: ["class": .hq, "notes": .origin]),
        MergePolicy(owners: ["phone": .origin], deleteRule: .deleteWins),
    ]

    let nodes: [NodeID]
    var versions: [RowVersion?]
    let policy: MergePolicy

    init(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let count = Int.random(in: 3...5, using: &generator)
        nodes = [NodeID.hq] + (1..<count).map { try! NodeID("DLR-\($0)") }
        versions = Array(repeating: nil, count: count)
        policy = Self.policies[Int(seed % UInt64(Self.policies.count))]
        var counters = Array(repeating: UInt64(0), count: count)
        var clocks = Array(repeating: HybridLogicalClock(), count: count)
        var wall: Int64 = 1_700_000_000_000
        let key = RowKey([.text("VIN-\(seed % 7)")])

        for _ in 0..<Int.random(in: 4...24, using: &generator) {
            let n = Int.random(in: 0..<count, using: &generator)
            // Clocks disagree by up to a few seconds and sometimes many events share a millisecond.
            wall += Int64.random(in: -2000...3000, using: &generator)
            let skew = Int64(n) * Int64.random(in: -500...500, using: &generator)
            func nextDot() -> (Dot, HLCTimestamp) {
                counters[n] += 1
                return (Dot(node: nodes[n], counter: counters[n]), clocks[n].now(wallMillis: wall + skew))
            }
            func randomValues(all: Bool) -> [String: SQLValue] {
                var values: [String: SQLValue] = [:]
                for column in Self.columns where all || Int.random(in: 0..<3, using: &generator) == 0 {
                    values[column] = RandomValues.value(using: &generator)
                }
                if values.isEmpty { values[Self.columns.randomElement(using: &generator)!] = RandomValues.value(using: &generator) }
                return values
            }

            switch Int.random(in: 0..<10, using: &generator) {
            case 0...3:  // edit, or insert when the row is absent or deleted here
                let (dot, hlc) = nextDot()
                if var row = versions[n] {
                    row.write(randomValues(all: !row.isAlive(policy: policy)), dot: dot, hlc: hlc)
                    versions[n] = row
                } else {
                    versions[n] = .inserted(table: "customers", key: key, values: randomValues(all: true), dot: dot, hlc: hlc)
                }
            case 4:
                if var row = versions[n], row.isAlive(policy: policy) {
                    let (dot, hlc) = nextDot()
                    row.delete(dot: dot, hlc: hlc)
                    versions[n] = row
                }
            default:  // receive another node's version
                let from = Int.random(in: 0..<count, using: &generator)
                if let remote = versions[from] {
                    versions[n] = merge(local: versions[n], remote: remote, policy: policy).merged
                    counters[n] = max(counters[n], remote.versionVector[nodes[n]])
                    _ = try? clocks[n].receive(remote.latestHLC, wallMillis: wall + skew)
                }
            }
        }
    }

    var finals: [RowVersion] { versions.compactMap { $0 } }
}

func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    return items.indices.flatMap { index -> [[T]] in
        var rest = items
        let head = rest.remove(at: index)
        return permutations(rest).map { [head] + $0 }
    }
}

func mergeAll(_ versions: [RowVersion], policy: MergePolicy) -> RowVersion? {
    versions.reduce(nil as RowVersion?) { merge(local: $0, remote: $1, policy: policy).merged }
}

@Suite("Merge properties over random histories")
struct MergePropertyTests {
    static let seedsPerChunk: UInt64 = 250
    static let chunks = 0..<8  // 2,000 seeds in all

    @Test("every order of merging gives byte-identical results and the same conflicts", arguments: chunks)
    func orderIndependence(chunk: Int) {
        var permutationsChecked = 0
        for seed in UInt64(chunk) * Self.seedsPerChunk..<UInt64(chunk + 1) * Self.seedsPerChunk {
            let history = History(seed: seed)
            let finals = history.finals
            guard !finals.isEmpty else { continue }
            var reference: (bytes: [UInt8], conflicts: [Conflict], values: [String: SQLValue], alive: Bool)?
            for order in permutations(finals) {
                permutationsChecked += 1
                let merged = mergeAll(order, policy: history.policy)!
                let outcome = (
                    merged.canonicalBytes, merged.conflicts(policy: history.policy),
                    merged.values(policy: history.policy), merged.isAlive(policy: history.policy)
                )
                if let reference {
                    #expect(outcome.0 == reference.bytes, "seed \(seed): merge depends on order")
                    #expect(outcome.1 == reference.conflicts, "seed \(seed): conflicts depend on order")
                    #expect(outcome.2 == reference.values && outcome.3 == reference.alive, "seed \(seed)")
                    if outcome.0 != reference.bytes { return }
                } else {
                    reference = outcome
                }
            }
            // Every node that merges everything ends at the same state.
            for node in history.versions.indices {
                var state = history.versions[node]
                for other in finals { state = merge(local: state, remote: other, policy: history.policy).merged }
                #expect(state?.canonicalBytes == reference?.bytes, "seed \(seed): node \(node) did not converge")
            }
        }
        #expect(permutationsChecked >= Int(Self.seedsPerChunk))
    }

    @Test("merge is idempotent and commutative, and merging what is already seen changes nothing", arguments: 0..<4)
    func idempotentAndCommutative(chunk: Int) {
        for seed in UInt64(10_000 + chunk * 500)..<UInt64(10_000 + chunk * 500 + 500) {
            let history = History(seed: seed)
            let finals = history.finals
            for x in finals {
                #expect(merge(local: x, remote: x, policy: history.policy).outcome == .unchanged, "seed \(seed)")
                for y in finals {
                    let xy = merge(local: x, remote: y, policy: history.policy).merged
                    let yx = merge(local: y, remote: x, policy: history.policy).merged
                    #expect(xy.canonicalBytes == yx.canonicalBytes, "seed \(seed): merge does not commute")
                    #expect(merge(local: xy, remote: y, policy: history.policy).outcome == .unchanged, "seed \(seed)")
                    #expect(merge(local: xy, remote: x, policy: history.policy).outcome == .unchanged, "seed \(seed)")
                }
            }
        }
    }

    @Test("a version round-trips through the batch codec unchanged", arguments: 0..<2)
    func codecRoundTrip(chunk: Int) throws {
        for seed in UInt64(20_000 + chunk * 500)..<UInt64(20_000 + chunk * 500 + 500) {
            let history = History(seed: seed)
            let batch = Batch(dealer: try NodeID("DLR-1"), schemaVersion: 3, firstSequence: seed, lastSequence: seed + 9, rows: history.finals)
            let bytes = batch.encoded()
            let decoded = try Batch(decoding: bytes)
            #expect(decoded == batch, "seed \(seed)")
            #expect(decoded.encoded() == bytes, "seed \(seed): encoding is not canonical")
            for row in history.finals {
                #expect(try RowVersion(canonicalBytes: row.canonicalBytes) == row, "seed \(seed)")
            }
        }
    }
}
