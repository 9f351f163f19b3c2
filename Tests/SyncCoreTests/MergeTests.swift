import Testing
@testable import SyncCore

/// The merge rule of DESIGN.md, case by case.
@Suite("Merge rule")
struct MergeTests {
    let d1 = try! NodeID("DLR-1"), d2 = try! NodeID("DLR-2")
    let key = RowKey([.text("C-1")])

    func t(_ millis: UInt64) -> HLCTimestamp { HLCTimestamp(physicalMillis: millis, logical: 0) }

    /// A customer created at DLR-1 and seen by everyone.
    func base() -> RowVersion {
        .inserted(
            table: "customers", key: key, values: ["name": .text("王芳"), "phone": .text("13800138000"), "class": .text("B")],
            dot: Dot(node: d1, counter: 1), hlc: t(100))
    }

    @Test("an unknown row is inserted; an older or equal version changes nothing")
    func insertAndIgnore() {
        let row = base()
        #expect(merge(local: nil, remote: row, policy: .lastWriterWins).outcome == .inserted)
        #expect(merge(local: row, remote: row, policy: .lastWriterWins).outcome == .unchanged)
        var newer = row
        newer.write(["phone": .text("13900139000")], dot: Dot(node: d1, counter: 2), hlc: t(200))
        let ignored = merge(local: newer, remote: row, policy: .lastWriterWins)
        #expect(ignored.outcome == .unchanged && ignored.merged == newer)
    }

    @Test("a strictly newer version is taken whole")
    func takeNewer() {
        let row = base()
        var newer = row
        newer.write(["phone": .text("13900139000")], dot: Dot(node: d2, counter: 1), hlc: t(50))
        let result = merge(local: row, remote: newer, policy: .lastWriterWins)
        #expect(result.outcome == .tookRemote)
        #expect(result.merged.values(policy: .lastWriterWins)["phone"] == .text("13900139000"), "causality beats an older HLC")
        #expect(result.conflicts.isEmpty)
    }

    @Test("concurrent edits of different columns both survive, with no conflict")
    func concurrentDifferentColumns() {
        var left = base(), right = base()
        left.write(["phone": .text("13900139000")], dot: Dot(node: d1, counter: 2), hlc: t(200))
        right.write(["name": .text("王芳芳")], dot: Dot(node: d2, counter: 1), hlc: t(300))
        let result = merge(local: left, remote: right, policy: .lastWriterWins)
        #expect(result.outcome == .merged)
        let values = result.merged.values(policy: .lastWriterWins)
        #expect(values["phone"] == .text("13900139000") && values["name"] == .text("王芳芳"))
        #expect(result.conflicts.isEmpty)
        #expect(result.merged.versionVector == VersionVector([d1: 2, d2: 1]))
    }

    @Test("the same column edited on both sides: last writer wins, then node id, and the conflict keeps both values")
    func lastWriterWins() throws {
        var left = base(), right = base()
        left.write(["phone": .text("13900139000")], dot: Dot(node: d1, counter: 2), hlc: t(200))
        right.write(["phone": .text("13700137000")], dot: Dot(node: d2, counter: 1), hlc: t(300))
        let result = merge(local: left, remote: right, policy: .lastWriterWins)
        #expect(result.merged.values(policy: .lastWriterWins)["phone"] == .text("13700137000"))
        let conflict = try #require(result.conflicts.first)
        #expect(result.conflicts.count == 1)
        #expect(conflict.column == "phone" && conflict.reason == .lastWriterWins)
        #expect(conflict.winningValue == .text("13700137000") && conflict.losingValues == [.text("13900139000")])

        // Equal HLCs: the larger node id wins, on both sides.
        var l2 = base(), r2 = base()
        l2.write(["phone": .text("x")], dot: Dot(node: d1, counter: 2), hlc: t(400))
        r2.write(["phone": .text("y")], dot: Dot(node: d2, counter: 1), hlc: t(400))
        #expect(merge(local: l2, remote: r2, policy: .lastWriterWins).merged.values(policy: .lastWriterWins)["phone"] == .text("y"))
        #expect(merge(local: r2, remote: l2, policy: .lastWriterWins).merged.values(policy: .lastWriterWins)["phone"] == .text("y"))
    }

    @Test("an hq-owned column: HQ's write wins even when older")
    func hqAuthority() throws {
        let policy = MergePolicy(owners: ["class": .hq])
        var dealer = base(), hq = base()
        dealer.write(["class": .text("A")], dot: Dot(node: d1, counter: 2), hlc: t(900))
        hq.write(["class": .text("VIP")], dot: Dot(node: .hq, counter: 1), hlc: t(200))
        for (l, r) in [(dealer, hq), (hq, dealer)] {
            let result = merge(local: l, remote: r, policy: policy)
            #expect(result.merged.values(policy: policy)["class"] == .text("VIP"))
        }
        #expect(merge(local: dealer, remote: hq, policy: policy).conflicts.first?.reason == .ownerWins)
        // Without a conflict, a dealer's later write is simply newer.
        var later = hq
        later.write(["class": .text("A")], dot: Dot(node: d1, counter: 2), hlc: t(900))
        #expect(merge(local: hq, remote: later, policy: policy).merged.values(policy: policy)["class"] == .text("A"))
    }

    @Test("an origin-owned column: the creating dealer's write wins")
    func originAuthority() {
        let policy = MergePolicy(owners: ["notes": .origin])
        var origin = base(), other = base()
        origin.write(["notes": .text("first visit")], dot: Dot(node: d1, counter: 2), hlc: t(100))
        other.write(["notes": .text("overwritten")], dot: Dot(node: d2, counter: 1), hlc: t(999))
        #expect(merge(local: other, remote: origin, policy: policy).merged.values(policy: policy)["notes"] == .text("first visit"))
    }

    @Test("delete against a concurrent update: update wins by default and the row comes back whole")
    func updateWinsOverDelete() throws {
        var deleted = base(), updated = base()
        deleted.delete(dot: Dot(node: d1, counter: 2), hlc: t(500))
        updated.write(["phone": .text("13900139000")], dot: Dot(node: d2, counter: 1), hlc: t(200))
        let result = merge(local: deleted, remote: updated, policy: .lastWriterWins)
        #expect(result.merged.isAlive(policy: .lastWriterWins))
        let values = result.merged.values(policy: .lastWriterWins)
        #expect(values["name"] == .text("王芳") && values["phone"] == .text("13900139000"), "the untouched columns come back too")
        #expect(result.conflicts.map(\.reason) == [.updateWinsOverDelete])

        let deleteWins = MergePolicy(deleteRule: .deleteWins)
        let other = merge(local: updated, remote: deleted, policy: deleteWins)
        #expect(!other.merged.isAlive(policy: deleteWins))
        #expect(other.conflicts.map(\.reason) == [.deleteWinsOverUpdate])
    }

    @Test("a delete that saw the update wins without a conflict; a re-insert after it brings the row back")
    func causalDeleteAndReinsert() {
        var row = base()
        row.write(["phone": .text("x")], dot: Dot(node: d2, counter: 1), hlc: t(200))
        var deleted = row
        deleted.delete(dot: Dot(node: d1, counter: 2), hlc: t(300))
        let result = merge(local: row, remote: deleted, policy: .lastWriterWins)
        #expect(!result.merged.isAlive(policy: .lastWriterWins) && result.conflicts.isEmpty)
        var reinserted = deleted
        reinserted.write(["name": .text("李娜"), "phone": .null, "class": .text("C")], dot: Dot(node: d2, counter: 2), hlc: t(400))
        let back = merge(local: deleted, remote: reinserted, policy: .lastWriterWins)
        #expect(back.merged.isAlive(policy: .lastWriterWins))
        #expect(back.merged.values(policy: .lastWriterWins)["phone"] == .null)
    }

    @Test("a tombstone sent without values learns the columns from the other side")
    func valuelessTombstone() {
        let row = base()
        var deleted = row
        deleted.delete(dot: Dot(node: d1, counter: 2), hlc: t(300))
        let bare = RowVersion(
            table: deleted.table, key: deleted.key, versionVector: deleted.versionVector, origin: deleted.origin,
            liveness: deleted.liveness, columns: [:])
        var updated = row
        updated.write(["phone": .text("y")], dot: Dot(node: d2, counter: 1), hlc: t(250))
        let result = merge(local: bare, remote: updated, policy: .lastWriterWins)
        #expect(result.merged.isAlive(policy: .lastWriterWins))
        #expect(result.merged.values(policy: .lastWriterWins).count == 3)
    }

    @Test("the earliest creator is the origin when two stores insert the same key")
    func concurrentCreation() {
        let early = RowVersion.inserted(table: "vehicles", key: key, values: ["vin": .text("v")], dot: Dot(node: d2, counter: 1), hlc: t(100))
        let late = RowVersion.inserted(table: "vehicles", key: key, values: ["vin": .text("v")], dot: Dot(node: d1, counter: 1), hlc: t(200))
        #expect(merge(local: late, remote: early, policy: .lastWriterWins).merged.origin.node == d2)
        #expect(merge(local: early, remote: late, policy: .lastWriterWins).merged.origin.node == d2)
        // Same value written concurrently is not reported as a conflict.
        #expect(merge(local: early, remote: late, policy: .lastWriterWins).conflicts.isEmpty)
    }
}
