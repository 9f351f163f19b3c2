import DealershipData
import SyncCore

/// `CrossStoreCustomers` records as the row versions each store's agent would push: one
/// insert per record into `customers`, each store with its own dot counter, HLC readings just
/// before `atMillis`. For the identity accuracy test and benchmark, which feed HQ in-process.
public struct CrossStoreVersions {
    private var counters: [String: UInt64] = [:]
    private let hlcBase: UInt64

    public init(atMillis: Int64) { hlcBase = UInt64(atMillis - 60_000) << 16 }

    /// The records' versions grouped by store, in record order within a store.
    public mutating func versions(of records: [CrossStoreCustomers.Record]) throws -> [(dealer: NodeID, versions: [RowVersion])] {
        var byDealer: [String: [RowVersion]] = [:]
        var order: [String] = []
        for record in records {
            let counter = (counters[record.dealer] ?? 0) + 1
            counters[record.dealer] = counter
            var values: [String: SQLValue] = [:]
            for (column, value) in record.columns where column != "id" { values[column] = value.map(SQLValue.text) ?? .null }
            let version = RowVersion.inserted(
                table: "customers", key: RowKey([.text(record.customer.id)]), values: values,
                dot: Dot(node: try NodeID(record.dealer), counter: counter), hlc: HLCTimestamp(rawValue: hlcBase + counter))
            if byDealer[record.dealer] == nil { order.append(record.dealer) }
            byDealer[record.dealer, default: []].append(version)
        }
        return try order.map { (try NodeID($0), byDealer[$0]!) }
    }
}
