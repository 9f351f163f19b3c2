import SyncCore

/// Checks each pushed row against the sync schema. A bad row becomes a dead letter with a
/// reason that names the table and column, never a value; the rest of the batch applies.
struct RowValidator {
    let schema: SyncSchema
    /// HQ's wall clock now, and how far ahead of it a row's clock readings may be: a row
    /// stamped by a PC whose clock is a year fast would otherwise win every
    /// last-writer-wins decision for a year.
    let nowMillis: Int64
    let maxClockAheadMillis: Int64
    /// HQ's side of masked and hashed columns: it masks what a store sent unmasked and
    /// drops what a store sent unhashed (HQ has no hash key, by design).
    let protection: ColumnProtection

    init(schema: SyncSchema, nowMillis: Int64, maxClockAheadMillis: Int64) {
        self.schema = schema
        self.nowMillis = nowMillis
        self.maxClockAheadMillis = maxClockAheadMillis
        self.protection = ColumnProtection(schema: schema, key: nil)
    }

    enum Verdict {
        case accepted(AcceptedRow)
        case dead(DeadLetter)
    }

    func check(_ pushed: RowVersion, index: Int, from dealer: NodeID) -> Verdict {
        var row = pushed
        func dead(_ reason: String) -> Verdict {
            .dead(DeadLetter(index: index, table: row.table, reason: reason, versionBytes: row.canonicalBytes))
        }
        guard let spec = schema.table(named: row.table) else {
            return dead("row \(index): table '\(row.table)' is not in the sync schema (version \(schema.version))")
        }
        // A store keeps these columns, or sends them only masked or hashed (docs/PRIVACY.md):
        // an agent older than the policy, or a hostile one, may still send values; they are
        // dropped or masked before anything, a dead letter included, stores them.
        if !spec.localColumns.isEmpty { row.removeColumns(spec.localColumns) }
        row = protection.protect(row)
        guard spec.direction.dealerPushes else {
            return dead("row \(index): table '\(row.table)' has direction down; dealers cannot push it")
        }
        guard !row.key.values.isEmpty else {
            return dead("row \(index): table '\(row.table)' row has an empty primary key")
        }
        if let column = spec.routingColumn {
            for write in row.writes(of: column) {
                switch write.value {
                case .text, .null: continue
                default:
                    return dead("row \(index): table '\(row.table)' routing column '\(column)' holds \(write.value.storageClass), not TEXT or NULL")
                }
            }
        }
        let ahead = Int64(clamping: row.latestHLC.physicalMillis) - nowMillis
        if ahead > maxClockAheadMillis {
            return dead("row \(index): table '\(row.table)' carries a clock reading \(ahead) ms ahead of HQ's clock, over the \(maxClockAheadMillis) ms allowed")
        }
        var version = row
        if spec.direction == .up {
            version.key = Self.upKey(dealer: dealer, key: row.key)
        }
        return .accepted(AcceptedRow(index: index, version: version, spec: spec))
    }

    /// `up` rows are stored under (dealer id, local key...): local INTEGER keys from two
    /// dealers never collide, and the dealer can be read back from the first key value.
    static func upKey(dealer: NodeID, key: RowKey) -> RowKey {
        RowKey([.text(dealer.rawValue)] + key.values)
    }
}
