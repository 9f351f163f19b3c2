import CustomerIdentity
import DealershipData
import Testing

/// The cross-store data identity linking is scored on: its ground truth must be right, and
/// every difference between stores must be one the normalisers undo (or a marked trap).
@Suite("The same person typed in at several stores")
struct CrossStoreCustomersTests {
    static let dealers = ["DLR-1", "DLR-2", "DLR-3", "DLR-4", "DLR-5", "DLR-6"]

    @Test("the same seed gives the same records; a different seed gives different ones")
    func seeded() {
        let a = CrossStoreCustomers(seed: 42, dealers: Self.dealers)
        let b = CrossStoreCustomers(seed: 42, dealers: Self.dealers)
        let c = CrossStoreCustomers(seed: 43, dealers: Self.dealers)
        #expect(a.records(count: 500) == b.records(count: 500))
        #expect(a.records(count: 500) != c.records(count: 500))
        #expect(a.records(ofPerson: 17) == b.records(ofPerson: 17))
        #expect(a.baseCustomer(ofPerson: 17) == b.baseCustomer(ofPerson: 17))
    }

    @Test("a person is known at 1 to 4 distinct stores, and about the duplicated share at more than one")
    func stores() {
        let people = CrossStoreCustomers(seed: 7, dealers: Self.dealers)
        var duplicated = 0
        var wrong: [Int] = []
        for index in 0..<2_000 {
            let records = people.records(ofPerson: index)
            let distinct = Set(records.map(\.dealer)).count == records.count
            let consistent = records.allSatisfy {
                $0.person == index && $0.customer.homeDealer == $0.dealer && Self.dealers.contains($0.dealer)
            }
            let first = records.first?.dealer == people.baseCustomer(ofPerson: index).homeDealer
            if !(1...4).contains(records.count) || !distinct || !consistent || !first { wrong.append(index) }
            if records.count >= 2 { duplicated += 1 }
        }
        #expect(wrong.isEmpty, "persons with wrong stores: \(wrong.prefix(10))")
        let share = Double(duplicated) / 2_000
        #expect((0.15...0.25).contains(share), "share known at 2+ stores: \(share)")
    }

    @Test("with fewer stores than wanted a person is at every store; with none there are no records")
    func fewStores() {
        let two = CrossStoreCustomers(seed: 9, dealers: ["DLR-A", "DLR-B", "DLR-A"], rates: .init(duplicated: 1))
        #expect(two.dealers == ["DLR-A", "DLR-B"])
        for index in 0..<100 {
            #expect(Set(two.records(ofPerson: index).map(\.dealer)) == Set(["DLR-A", "DLR-B"]))
        }
        let none = CrossStoreCustomers(seed: 9, dealers: [])
        #expect(none.records(ofPerson: 0).isEmpty)
        #expect(none.records(count: 10).isEmpty)
    }

    @Test("every typed mobile and ID number normalises back to the person's own, except the marked traps")
    func normalisedBack() throws {
        let people = CrossStoreCustomers(seed: 11, dealers: Self.dealers)
        var formattedMobiles = 0, missingMobiles = 0, fakes = 0, family = 0
        var formattedIDs = 0, oldIDs = 0, missingIDs = 0, records = 0
        for index in 0..<3_000 {
            let base = people.baseCustomer(ofPerson: index)
            let mobile = try #require(base.mobile)
            let idNumber = try #require(base.residentID)
            for record in people.records(ofPerson: index) {
                records += 1
                switch record.trap {
                case .sharedFake?:
                    #expect(record.customer.mobile == "13800138000")
                    fakes += 1
                case .family?:
                    let relative = try #require(people.baseCustomer(ofPerson: index + 1).mobile)
                    let typed = try #require(record.customer.mobile)
                    #expect(MobileNumber.normalize(typed) == relative, "\(typed) is \(relative)")
                    #expect(relative != mobile)
                    family += 1
                case nil:
                    if let typed = record.customer.mobile {
                        #expect(MobileNumber.normalize(typed) == mobile, "\(typed) is \(mobile)")
                        if typed != mobile { formattedMobiles += 1 }
                    } else {
                        missingMobiles += 1
                    }
                }
                if let typed = record.idNumber {
                    #expect(ResidentIDNumber.normalize(typed) == idNumber, "\(typed) is \(idNumber)")
                    if typed != idNumber { formattedIDs += 1 }
                    if typed.count == 15 { oldIDs += 1 }
                } else {
                    missingIDs += 1
                }
            }
        }
        let counts = "\(records) records: mobiles \(formattedMobiles) formatted, \(missingMobiles) missing, \(fakes) fake, "
            + "\(family) a relative's; ID numbers \(formattedIDs) formatted (\(oldIDs) 15-digit), \(missingIDs) missing"
        // Every kind of difference occurs, so the checks above covered it.
        #expect(formattedMobiles > 100 && missingMobiles > 0 && fakes > 0 && family > 0, "\(counts)")
        #expect(formattedIDs > 100 && oldIDs > 0 && missingIDs > records / 4, "\(counts)")
    }

    @Test("a person's names normalise equal at every store, except typos, which differ in one given-name character")
    func names() throws {
        let people = CrossStoreCustomers(seed: 5, dealers: Self.dealers)
        var typos = 0, spaced = 0
        for index in 0..<3_000 {
            let base = people.baseCustomer(ofPerson: index)
            let name = try #require(PersonName.normalize(base.name))
            let records = people.records(ofPerson: index)
            #expect(records.first?.customer.name == base.name, "the first record carries the name as it is")
            for record in records {
                if record.customer.name.contains(" ") { spaced += 1 }
                let typed = try #require(PersonName.normalize(record.customer.name))
                if typed == name { continue }
                typos += 1
                let a = Array(typed), b = Array(name)
                let differing = (0..<min(a.count, b.count)).filter { a[$0] != b[$0] }
                #expect(
                    a.count == b.count && b.count >= 3 && differing.count == 1 && differing.first != 0,
                    "\(record.customer.name) for \(base.name)")
            }
        }
        #expect(typos > 0 && spaced > 0, "\(typos) typos, \(spaced) with a space")
    }

    @Test("records(count:) returns exactly that many, persons in order, with unique customer keys")
    func exactCount() {
        let people = CrossStoreCustomers(seed: 3, dealers: Self.dealers)
        let records = people.records(count: 1_000)
        #expect(records.count == 1_000)
        #expect(Set(records.map(\.customer.id)).count == 1_000)
        let persons = records.map(\.person)
        #expect(persons.first == 0)
        #expect(zip(persons, persons.dropFirst()).allSatisfy { $1 == $0 || $1 == $0 + 1 })
        let last = persons.last ?? 0
        #expect(Array((0...last).flatMap { people.records(ofPerson: $0) }.prefix(1_000)) == records)
        #expect(people.records(count: 0).isEmpty)
    }
}
