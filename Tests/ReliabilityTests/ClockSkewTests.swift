import Foundation
import HQServer
import SyncTestSupport
import Testing

/// A store PC whose clock is a day ahead or a day behind (libfaketime on every dealersync
/// process of that store): the agent corrects its clock by the offset it measures against
/// HQ, so the write that really came last wins a conflict, and `hq status` shows the skew.
@Suite("Reliability: store clock a day off", .serialized)
struct ClockSkewTests {
    static let faketime = ["/usr/bin/faketime"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        "a day ahead or behind: no false conflict win against a correct clock; skew visible in hq status",
        .enabled(if: faketime != nil && ProcessRunner.dealersyncBinary != nil, "needs libfaketime: apt-get install -y faketime (scripts/install-system-deps.sh)"),
        arguments: [("+1d", Int64(86_400_000)), ("-1d", Int64(-86_400_000))])
    func skewedStore(offset: String, expectedSkew: Int64) async throws {
        // The `faketime` wrapper (LD_PRELOAD by hand loses the Swift program's arguments).
        // Only the wall clock is off on a misset PC; timers and timeouts run normally.
        let skewed = [Self.faketime!, "--exclude-monotonic", "-f", offset]
        let fleet = try await ProcessFleet(dealers: ["DLR-A", "DLR-B"], seed: 1, agentWrapper: ["DLR-A": skewed])
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        func once(_ id: String) async throws {
            let (executable, prefix) = ProcessFleet.wrapped(fleet.binary, id == "DLR-A" ? skewed : nil)
            let result = try await ProcessRunner.run(executable, prefix + ["agent", "once", "--config", fleet.dealers[id]!.configPath])
            #expect(result.status == 0, "agent once \(id): \(result.stderr)")
        }
        func edit(_ id: String, _ value: String) async throws {
            try await fleet.dealers[id]!.writer.queue.write { db in
                try db.execute(sql: "UPDATE customers SET remarks = ? WHERE id = 'SHARED'", arguments: [value])
            }
        }
        // A customer both stores hold: created at B, homed at A.
        try await fleet.dealers["DLR-B"]!.writer.queue.write { db in
            try db.execute(sql: "INSERT INTO customers (id, name, home_dealer, remarks) VALUES ('SHARED', 'Shared customer', 'DLR-A', 'start')")
        }
        try await once("DLR-B")
        try await once("DLR-A")
        #expect(try fleet.dealers["DLR-A"]!.writer.count("customers") == 1)

        // Two concurrent edits of the same column; the one stamped later in real time must win.
        let (first, second) = expectedSkew > 0 ? ("DLR-A", "DLR-B") : ("DLR-B", "DLR-A")
        try await edit(first, "written first by \(first)")
        try await once(first)
        // Real time passes between the two writes (well over HLC resolution and any skew error).
        try await Task.sleep(for: .milliseconds(1_500))
        try await edit(second, "written last by \(second)")
        try await once(second)
        try await once(first)
        try await once(second)

        var shown: [String] = []
        for id in fleet.ids {
            let remarks = try await fleet.dealers[id]!.writer.queue.read { db in try String.fetchOne(db, sql: "SELECT remarks FROM customers WHERE id = 'SHARED'") }
            shown.append(remarks ?? "nil")
        }
        #expect(shown == Array(repeating: "written last by \(second)", count: 2), "\(offset): the later write wins everywhere, got \(shown)")
        let winner = try fleet.hqRead { db in try String.fetchOne(db, sql: "SELECT winner FROM conflicts WHERE column_name = 'remarks'") }
        #expect(winner?.hasPrefix(second) == true, "\(offset): HQ's conflict log names \(second) as winner, got \(winner ?? "no conflict")")
        #expect(try fleet.hqCount("SELECT count(*) FROM dead_letters") == 0, "nothing refused as from the future")

        let status = try await ProcessRunner.run(fleet.binary, ["hq", "status", "--json", "--store", fleet.hqStorePath])
        let fleetStatus = try JSONDecoder().decode(FleetStatus.self, from: Data(status.stdout.utf8))
        let skew = try #require(fleetStatus.dealers.first { $0.id == "DLR-A" }?.clockSkewMillis)
        let correct = try #require(fleetStatus.dealers.first { $0.id == "DLR-B" }?.clockSkewMillis)
        #expect(abs(skew - expectedSkew) < 60_000, "\(offset): hq status shows DLR-A's skew, got \(skew) ms")
        #expect(abs(correct) < 5_000)
        let table = try await ProcessRunner.run(fleet.binary, ["hq", "status", "--store", fleet.hqStorePath])
        #expect(table.stdout.contains("SKEW"))
        for id in fleet.ids {
            let pair = try await fleet.digests(id)
            #expect(pair.store == pair.hq)
        }
        print("clock-skew \(offset): DLR-A skew at HQ \(skew) ms, DLR-B \(correct) ms; conflict winner \(winner ?? "-"), stores show the later write: \(shown.allSatisfy { $0.hasSuffix(second) })")
    }
}
