import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Seeded mutations of valid rows a hostile dealer (DLR-1) pushes with its own valid token:
/// version-vector entries and dots claimed for other nodes, forged origins, other stores'
/// keys, owned columns, and sizes past every limit. Nothing may get a 5xx; afterwards DLR-1
/// has received nothing it may not read (no leak), and every genuine edit of the other store
/// and of HQ is applied and shown (none lost). Cases (mutated rows, one to eight a push):
/// `DEALERSYNC_FUZZ_CASES` (400 in CI, 3,000 × the chaos scale in `scripts/chaos`).
@Suite("provenance fuzzing")
struct ProvenanceFuzzTests {
    enum Mutation: CaseIterable {
        case claimOtherNode, dotOfOtherNode, forgeOrigin, otherStoresKey, ownedColumn, wideRow, bigValue, manyWrites, newKeyAsOther
    }

    @Test("mutated provenance and sizes from a valid token: no 5xx, no leak, no lost genuine edit")
    func fuzzProvenance() async throws {
        let cases = ProcessInfo.processInfo.environment["DEALERSYNC_FUZZ_CASES"].flatMap(Int.init) ?? 400
        let seed = ProcessInfo.processInfo.environment["DEALERSYNC_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_202
        let hq = try await HQFixture(limits: HQLimits(maxRowBytes: 256 << 10, maxPageBytes: 1 << 20))
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        let totals = try await app.test(.router) { client in
            var attacker = FakeDealer("DLR-1")
            var victim = FakeDealer("DLR-2")
            // The victim's customers, HQ's leads routed to the attacker, the attacker's own customers.
            var victimRows = (0..<4).map { victim.insert("customers", key: [.text("C-B\($0)")], ["name": .text("客户\($0)"), "mobile": .text("1390000000\($0)")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", victimRows, sequence: 1)
            for index in 0..<2 {
                let write = try await client.hqWrite(#"{"table":"leads","key":["L-\#(index)"],"values":{"assigned_dealer":"DLR-1","state":"new"}}"#, token: hq.tokens["hq-crm"]!)
                #expect(write.status == .ok)
            }
            let own = (0..<3).map { attacker.insert("customers", key: [.text("C-A\($0)")], ["name": .text("a\($0)")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", own, sequence: 1)
            let routed = try await HostileDealerTests.pullAll(client, hq, "DLR-1").filter { $0.table == "leads" }
            #expect(routed.count == 2)

            var random = SeededGenerator(seed: seed)
            var sequence: UInt64 = 2
            var totals = (accepted: 0, refused: 0, overruled: 0, inRefusedBatches: 0, serverErrors: 0, leaks: 0, lost: 0)
            // A case is one mutated row; a push carries one to eight of them (a commit each push).
            var made = 0
            while made < cases {
                let index = made
                var rows: [RowVersion] = []
                for _ in 0..<min(Int.random(in: 1...8, using: &random), cases - made) {
                    let base = [own.randomElement(using: &random)!, routed.randomElement(using: &random)!].randomElement(using: &random)!
                    var row = attacker.update(base, ["note": .text("n\(index)")])
                    for _ in 0..<Int.random(in: 1...2, using: &random) {
                        row = Self.mutate(row, Self.pick(using: &random), victimRows: victimRows, attacker: &attacker, using: &random)
                    }
                    rows.append(row)
                    made += 1
                }
                // Rows of one batch must have distinct keys, as an agent's do.
                var seen = Set<String>()
                rows = rows.filter { seen.insert($0.table + "\($0.key.bytes)").inserted }
                let batch = Batch(dealer: attacker.node, schemaVersion: 3, firstSequence: sequence, lastSequence: sequence, rows: rows)
                sequence += 1
                let response = try await client.push("DLR-1", PushRequest(batch: batch, token: hq.tokens["DLR-1"]!))
                #expect(response.status.code < 500, "cases from \(index) (seed \(seed)): \(response.status)")
                if response.status.code >= 500 { totals.serverErrors += 1 }
                if response.status != .ok { totals.inRefusedBatches += rows.count }
                if response.status == .ok, let answer = try? receipt(response) {
                    totals.accepted += answer.applied + answer.unchanged
                    totals.refused += answer.deadLetters
                    totals.overruled += (answer.notices ?? []).filter { $0.kind == .overruled }.count
                }
            }

            // No leak: the attacker received its own rows and the leads routed to it, nothing else.
            let received = try await HostileDealerTests.pullAll(client, hq, "DLR-1")
            let victimKeys = Set(victimRows.map(\.key))
            totals.leaks = received.filter { victimKeys.contains($0.key) || ($0.origin.node != attacker.node && $0.origin.node != .hq) }.count
            #expect(totals.leaks == 0, "DLR-1 received rows it did not create and was not routed")
            // No lost genuine edit: each of the victim's edits is applied and shown; HQ's
            // assignment of the leads stands; the feed still serves every page.
            victimRows = victimRows.map { victim.update($0, ["mobile": .text("1370000\(Int.random(in: 1000...9999, using: &random))")]) }
            let genuine = try await HostileDealerTests.push(client, hq, "DLR-2", victimRows, sequence: 2)
            #expect(genuine.applied == victimRows.count && genuine.deadLetters == 0, "\(genuine)")
            let feed = try await HostileDealerTests.feedLatest(client, hq)
            for row in victimRows where feed["customers/\(row.key.values[0].textValue!)"]?["mobile"] != row.values(policy: .lastWriterWins)["mobile"] {
                totals.lost += 1
            }
            for index in 0..<2 where feed["leads/L-\(index)"]?["assigned_dealer"] != .text("DLR-1") {
                totals.lost += 1
            }
            #expect(totals.lost == 0, "genuine edits of DLR-2 or HQ were lost")
            return totals
        }
        print("provenance fuzz: \(cases) mutated rows (seed \(seed)): \(totals.accepted) rows accepted, \(totals.refused) dead-lettered, \(totals.overruled) overruled, \(totals.inRefusedBatches) in batches refused whole (4xx), \(totals.serverErrors) server errors, \(totals.leaks) leaks, \(totals.lost) lost genuine edits")
    }

    /// A mutation; the costly size ones (2,000 columns, blobs, 900 concurrent writes) in one
    /// case out of ten, so that 20,000 cases fit a chaos run.
    static func pick(using random: inout SeededGenerator) -> Mutation {
        let sizes: [Mutation] = [.wideRow, .bigValue, .manyWrites]
        let pool = Int.random(in: 0..<10, using: &random) == 0 ? sizes : Mutation.allCases.filter { !sizes.contains($0) }
        return pool.randomElement(using: &random)!
    }

    /// One mutation of a row the attacker could send.
    static func mutate(
        _ row: RowVersion, _ mutation: Mutation, victimRows: [RowVersion], attacker: inout FakeDealer, using random: inout SeededGenerator
    ) -> RowVersion {
        let others: [NodeID] = [.hq, try! NodeID("DLR-2"), try! NodeID("DLR-3")]
        var row = row
        switch mutation {
        case .claimOtherNode:
            row.versionVector.record(Dot(node: others.randomElement(using: &random)!, counter: UInt64.random(in: 1...1 << 40, using: &random)))
        case .dotOfOtherNode:
            let dot = Dot(node: others.randomElement(using: &random)!, counter: UInt64.random(in: 1...50, using: &random))
            row.versionVector.record(dot)
            row.overwrite(column: "mobile", with: .text("forged"), dot: dot, hlc: row.latestHLC)
        case .forgeOrigin:
            row.origin = RowOrigin(
                node: (others + [attacker.node]).randomElement(using: &random)!,
                hlc: HLCTimestamp(rawValue: UInt64.random(in: 0...row.origin.hlc.rawValue, using: &random)))
        case .otherStoresKey:
            let victim = victimRows.randomElement(using: &random)!
            row = attacker.insert("customers", key: victim.key.values, ["name": .text("guess")])
        case .ownedColumn:
            row = attacker.update(row, ["assigned_dealer": .text(["DLR-2", "DLR-3", "DLR-1"].randomElement(using: &random)!)])
        case .wideRow:
            let count = Int.random(in: 1_900...2_000, using: &random)
            row = attacker.update(row, Dictionary(uniqueKeysWithValues: (0..<count).map { ("w\($0)", SQLValue.integer(Int64($0))) }))
        case .bigValue:
            row = attacker.update(row, ["photo": .blob([UInt8](repeating: 1, count: Int.random(in: 100_000...600_000, using: &random)))])
        case .manyWrites:
            // Concurrent writes of its own to one column (allowed shape, growing the row).
            let count = Int.random(in: 2...900, using: &random)
            var writes: [ColumnWrite] = []
            for _ in 0..<count {
                attacker.counter += 1
                attacker.hlc += 1
                let dot = Dot(node: attacker.node, counter: attacker.counter)
                row.versionVector.record(dot)
                writes.append(ColumnWrite(value: .integer(Int64(attacker.counter)), dot: dot, hlc: HLCTimestamp(rawValue: attacker.hlc)))
            }
            var columns = row.columns
            columns["tally"] = writes
            row = RowVersion(table: row.table, key: row.key, versionVector: row.versionVector, origin: row.origin, liveness: row.liveness, columns: columns)
        case .newKeyAsOther:
            var fresh = attacker.insert("customers", key: [.text("C-new-\(UInt32.random(in: 0...UInt32.max, using: &random))")], ["name": .text("n")])
            fresh.origin = RowOrigin(node: others.randomElement(using: &random)!, hlc: fresh.origin.hlc)
            row = fresh
        }
        return row
    }
}

extension SQLValue {
    var textValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}
