import CustomerIdentity

/// How well a linker found the people behind `CrossStoreCustomers` records, counted over
/// pairs of records: precision is the share of linked pairs that are one person, recall the
/// share of one-person pairs that were linked. `reachablePairs` counts the one-person pairs
/// the link rules can join at all (directly or through the person's other records): pairs
/// whose records share no valid mobile or ID number are the ceiling's gap.
public struct LinkAccuracy: Sendable, CustomStringConvertible {
    public var records: Int
    public var truePairs: Int
    public var linkedPairs: Int
    public var correctPairs: Int

    public var precision: Double { linkedPairs == 0 ? 1 : Double(correctPairs) / Double(linkedPairs) }
    public var recall: Double { truePairs == 0 ? 1 : Double(correctPairs) / Double(truePairs) }

    /// `assigned[i]`: the person the linker put `truth[i]`'s record in (any hashable id).
    public init<Assigned: Hashable>(truth: [Int], assigned: [Assigned]) {
        precondition(truth.count == assigned.count, "one assignment per record")
        func pairs<Key: Hashable>(_ keys: some Sequence<Key>) -> Int {
            var sizes: [Key: Int] = [:]
            for key in keys { sizes[key, default: 0] += 1 }
            return sizes.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        }
        records = truth.count
        truePairs = pairs(truth)
        linkedPairs = pairs(assigned)
        correctPairs = pairs(zip(truth, assigned).map { Pair(person: $0, assigned: $1) })
    }

    private struct Pair<Assigned: Hashable>: Hashable {
        var person: Int
        var assigned: Assigned
    }

    /// One-person pairs that `LinkRules` joins, through any chain of the person's records
    /// (shared-number exclusion aside).
    public static func reachablePairs(_ records: [CrossStoreCustomers.Record]) -> Int {
        var byPerson: [Int: [PersonKeys]] = [:]
        for record in records {
            let c = record.customer
            byPerson[record.person, default: []].append(PersonKeys(mobile: c.mobile, idNumber: record.idNumber, name: c.name, birthDate: c.birthDate))
        }
        var pairs = 0
        for keys in byPerson.values where keys.count > 1 {
            let links = keys.indices.flatMap { a in
                keys.indices.filter { $0 > a }.compactMap { b in
                    LinkRules.decide(keys[a], keys[b]).map { PersonClusters.Link(a: a, b: b, decision: $0) }
                }
            }
            let groups = PersonClusters.group(Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($0.offset, $0.element) }), links: links)
            pairs += groups.reduce(0) { $0 + $1.count * ($1.count - 1) / 2 }
        }
        return pairs
    }

    public var description: String {
        "precision \(Self.percent(precision)) (\(correctPairs) of \(linkedPairs) linked pairs), recall \(Self.percent(recall)) (of \(truePairs) true pairs)"
    }

    static func percent(_ share: Double) -> String {
        let basisPoints = Int((share * 10_000).rounded())
        return "\(basisPoints / 100).\(basisPoints % 100 < 10 ? "0" : "")\(basisPoints % 100)%"
    }
}
