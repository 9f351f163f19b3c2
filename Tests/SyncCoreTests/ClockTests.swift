import Testing
import SyncTestSupport
@testable import SyncCore

@Suite("Version vectors, dots and hybrid logical clocks")
struct ClockTests {
    let a = try! NodeID("A"), b = try! NodeID("B"), c = try! NodeID("C")

    func randomVector(_ generator: inout SeededGenerator) -> VersionVector {
        var counters: [NodeID: UInt64] = [:]
        for node in [a, b, c] where Bool.random(using: &generator) {
            counters[node] = UInt64.random(in: 0...3, using: &generator)
        }
        return VersionVector(counters)
    }

    @Test("compare names every relation")
    func compareCases() {
        let x = VersionVector([a: 1, b: 2])
        #expect(x.compare(x) == .equal)
        #expect(x.compare(VersionVector([a: 1, b: 3])) == .before)
        #expect(VersionVector([a: 1, b: 3]).compare(x) == .after)
        #expect(x.compare(VersionVector([a: 2, b: 1])) == .concurrent)
        #expect(VersionVector().compare(VersionVector([c: 0])) == .equal, "zero entries are absent")
        #expect(x.covers(Dot(node: b, counter: 2)) && !x.covers(Dot(node: b, counter: 3)))
    }

    @Test("version vectors obey the partial-order and join laws", arguments: 0..<4)
    func partialOrderLaws(chunk: Int) {
        for seed in UInt64(chunk * 500)..<UInt64(chunk * 500 + 500) {
            var generator = SeededGenerator(seed: seed)
            let x = randomVector(&generator), y = randomVector(&generator), z = randomVector(&generator)
            let lessOrEqual = { (l: VersionVector, r: VersionVector) in [.equal, .before].contains(l.compare(r)) }
            #expect(lessOrEqual(x, x), "reflexive, seed \(seed)")
            if lessOrEqual(x, y) && lessOrEqual(y, x) { #expect(x == y, "antisymmetric, seed \(seed)") }
            if lessOrEqual(x, y) && lessOrEqual(y, z) { #expect(lessOrEqual(x, z), "transitive, seed \(seed)") }
            #expect(x.compare(y) == Self.mirror(y.compare(x)), "compare is antisymmetric, seed \(seed)")
            #expect(lessOrEqual(x, y) == x.isDominated(by: y), "seed \(seed)")
            #expect(x.merging(y) == y.merging(x), "merge commutes, seed \(seed)")
            #expect(x.merging(y).merging(z) == x.merging(y.merging(z)), "merge associates, seed \(seed)")
            #expect(x.merging(x) == x, "merge is idempotent, seed \(seed)")
            #expect(lessOrEqual(x, x.merging(y)) && lessOrEqual(y, x.merging(y)), "merge is an upper bound, seed \(seed)")
            if lessOrEqual(x, z) && lessOrEqual(y, z) { #expect(lessOrEqual(x.merging(y), z), "merge is the least upper bound, seed \(seed)") }
        }
    }

    static func mirror(_ order: CausalOrder) -> CausalOrder {
        switch order {
        case .before: .after
        case .after: .before
        case .equal, .concurrent: order
        }
    }

    @Test("HLC readings strictly increase under random wall-clock jumps of up to a day", arguments: 0..<4)
    func hlcMonotonic(chunk: Int) throws {
        let day: Int64 = 86_400_000
        for seed in UInt64(chunk * 250)..<UInt64(chunk * 250 + 250) {
            var generator = SeededGenerator(seed: seed)
            var clock = HybridLogicalClock(maxForwardDriftMillis: UInt64(2 * day))
            var wall: Int64 = 1_700_000_000_000
            var previous = HLCTimestamp.zero
            for _ in 0..<200 {
                wall += Int64.random(in: -day...day, using: &generator)
                let reading: HLCTimestamp
                if Bool.random(using: &generator) {
                    reading = clock.now(wallMillis: wall)
                } else {
                    let remote = HLCTimestamp(
                        physicalMillis: UInt64(wall + Int64.random(in: -day...day, using: &generator)),
                        logical: UInt64.random(in: 0...5, using: &generator))
                    reading = try clock.receive(remote, wallMillis: wall)
                    #expect(reading > remote, "an event after a receive is later than the remote event, seed \(seed)")
                }
                #expect(reading > previous, "seed \(seed)")
                previous = reading
            }
        }
    }

    @Test("the physical part follows the wall clock when it moves forward")
    func hlcFollowsWallClock() {
        var clock = HybridLogicalClock()
        #expect(clock.now(wallMillis: 1000) == HLCTimestamp(physicalMillis: 1000, logical: 0))
        #expect(clock.now(wallMillis: 1000) == HLCTimestamp(physicalMillis: 1000, logical: 1))
        #expect(clock.now(wallMillis: 900) == HLCTimestamp(physicalMillis: 1000, logical: 2), "a step back only counts up")
        #expect(clock.now(wallMillis: 2000) == HLCTimestamp(physicalMillis: 2000, logical: 0))
    }

    @Test("a remote reading too far ahead is refused and leaves the clock unchanged")
    func hlcBound() throws {
        var clock = HybridLogicalClock(maxForwardDriftMillis: 60_000)
        _ = clock.now(wallMillis: 1_000_000)
        let before = clock.last
        #expect(throws: SyncCoreError.self) {
            try clock.receive(HLCTimestamp(physicalMillis: 1_000_000 + 60_001, logical: 0), wallMillis: 1_000_000)
        }
        #expect(clock.last == before)
        let accepted = try clock.receive(HLCTimestamp(physicalMillis: 1_060_000, logical: 3), wallMillis: 1_000_000)
        #expect(accepted == HLCTimestamp(physicalMillis: 1_060_000, logical: 4))
    }

    @Test("the offset measured against HQ corrects a clock that is a day ahead")
    func hlcOffset() {
        let day: Int64 = 86_400_000
        var fast = HybridLogicalClock()
        fast.setOffset(millis: -day)  // HQ is a day behind this PC
        let reading = fast.now(wallMillis: 10 * day)
        #expect(reading.physicalMillis == UInt64(9 * day))
        // A correction backwards never makes the clock go backwards.
        fast.setOffset(millis: -2 * day)
        #expect(fast.now(wallMillis: 10 * day) > reading)
    }

    @Test("65,536 events in one millisecond borrow the next millisecond")
    func hlcLogicalOverflow() {
        var clock = HybridLogicalClock(last: HLCTimestamp(physicalMillis: 5, logical: HLCTimestamp.maxLogical))
        #expect(clock.now(wallMillis: 5) == HLCTimestamp(physicalMillis: 6, logical: 0))
    }
}
