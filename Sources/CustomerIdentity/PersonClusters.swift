/// Grouping linked records into people. Links are taken strongest first, and a link that
/// would put two different ID numbers or birth dates into one person is left out: a chain
/// of individually sound links (A–B by mobile, B–C by ID number) must not make one person of
/// two who are provably different.
public enum PersonClusters {
    public struct Link<Record: Hashable & Comparable>: Hashable {
        public var a: Record
        public var b: Record
        public var decision: LinkDecision

        public init(a: Record, b: Record, decision: LinkDecision) {
            self.a = a
            self.b = b
            self.decision = decision
        }
    }

    /// The people among `records` (each a sorted list of records, the lists sorted by their
    /// first record). Manual links are applied first and always; `apart` pairs (split by
    /// hand) never end up in one person, whatever links chain them.
    public static func group<Record: Hashable & Comparable>(
        _ records: [Record: PersonKeys], links: [Link<Record>], apart: [(Record, Record)] = []
    ) -> [[Record]] {
        var apartOf: [Record: Set<Record>] = [:]
        for (a, b) in apart {
            apartOf[a, default: []].insert(b)
            apartOf[b, default: []].insert(a)
        }
        var members: [Record: [Record]] = [:]  // per root
        for record in records.keys { members[record] = [record] }
        var parent: [Record: Record] = [:]
        var keys: [Record: PersonKeys] = [:]  // per root: the ID number and birth date the group carries
        for (record, key) in records {
            parent[record] = record
            keys[record] = PersonKeys(normalizedMobile: nil, idNumber: key.idNumber, name: nil, birthDate: LinkRules.birthDate(key))
        }
        func root(_ record: Record) -> Record {
            var current = record
            while let next = parent[current], next != current { current = next }
            return current
        }
        let ordered = links.sorted {
            ($0.decision.rule == .manual ? 2 : $0.decision.confidence, $1.a, $1.b) > ($1.decision.rule == .manual ? 2 : $1.decision.confidence, $0.a, $0.b)
        }
        for link in ordered where parent[link.a] != nil && parent[link.b] != nil {
            let x = root(link.a), y = root(link.b)
            guard x != y else { continue }
            let kx = keys[x]!, ky = keys[y]!
            if link.decision.rule != .manual && LinkRules.conflicts(kx, ky) { continue }
            if !apartOf.isEmpty, members[x]!.contains(where: { !(apartOf[$0] ?? []).isDisjoint(with: members[y]!) }) { continue }
            let (keep, gone) = x < y ? (x, y) : (y, x)
            parent[gone] = keep
            members[keep]! += members.removeValue(forKey: gone)!
            keys[keep] = PersonKeys(
                normalizedMobile: nil, idNumber: kx.idNumber ?? ky.idNumber, name: nil, birthDate: kx.birthDate ?? ky.birthDate)
        }
        var groups: [Record: [Record]] = [:]
        for record in records.keys { groups[root(record), default: []].append(record) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
