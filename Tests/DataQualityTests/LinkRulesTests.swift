import CustomerIdentity
import Testing

/// The identity link rules (docs/IDENTITY.md) over normalised keys, grouping into people,
/// and survivorship, without a server.
@Suite("Identity link rules")
struct LinkRulesTests {
    /// 18 characters with the right check character: born `date` (YYYYMMDD), sequence `seq`.
    static func idNumber(_ date: String, _ seq: String = "123") -> String {
        let first17 = "110105" + date + seq
        return first17 + String(ResidentIDNumber.checkCharacter(of: first17)!)
    }

    static func keys(mobile: String? = nil, id: String? = nil, name: String? = nil, birth: String? = nil) -> PersonKeys {
        PersonKeys(mobile: mobile, idNumber: id, name: name, birthDate: birth)
    }

    @Test("the same valid ID number links whatever the spelling (old 15-digit form, lower-case x, spaces)")
    func idNumber() {
        let id = Self.idNumber("19850228")
        let old = String(id.prefix(6)) + String(id.dropFirst(8).prefix(9))  // 15 digits: no century, no check character
        #expect(ResidentIDNumber.normalize(old) == id)
        let decision = LinkRules.decide(Self.keys(id: id, name: "王小明"), Self.keys(id: " " + old + " ", name: "王 晓明"))
        #expect(decision?.rule == .idNumber && decision?.confidence == 0.99)
        #expect(LinkRules.decide(Self.keys(id: id), Self.keys(id: Self.idNumber("19850228", "125"))) == nil, "different IDs")
        #expect(Self.keys(id: String(id.dropLast()) + (id.last == "0" ? "1" : "0")).idNumber == nil, "a wrong check character identifies nobody")
    }

    @Test("the same mobile links only with a compatible name, and never through a placeholder, a shared number or contradicting keys")
    func mobileAndName() {
        let a = Self.keys(mobile: "139 5729 0318", name: "王小明")
        #expect(LinkRules.decide(a, Self.keys(mobile: "+86-13957290318", name: "王小明"))?.rule == .mobileAndName)
        #expect(LinkRules.decide(a, Self.keys(mobile: "0086 139 5729 0318", name: "王晓明"))?.confidence == 0.95 * 0.95, "one mistyped given-name character")
        #expect(LinkRules.decide(a, Self.keys(mobile: "13957290318", name: "李小明")) == nil, "a different surname")
        #expect(LinkRules.decide(Self.keys(mobile: "13957290318", name: "王伟"), Self.keys(mobile: "13957290318", name: "王芳")) == nil,
                "two-character names differing in one are different people (a couple sharing a phone)")
        #expect(LinkRules.decide(a, Self.keys(mobile: "13957290318")) == nil, "no name: a mobile alone is not enough")
        #expect(LinkRules.decide(a, Self.keys(mobile: "13957290318", name: "王小明"), sharedMobile: true) == nil)
        #expect(Self.keys(mobile: "13800138000", name: "王小明").mobile == nil, "a placeholder identifies nobody")
        #expect(Self.keys(mobile: "13912345678").mobile == nil)
        #expect(Self.keys(name: "先生").name == nil)
        #expect(LinkRules.decide(
            Self.keys(mobile: "13957290318", id: Self.idNumber("19850228"), name: "王小明"),
            Self.keys(mobile: "13957290318", id: Self.idNumber("19900101"), name: "王小明")) == nil, "different ID numbers")
        #expect(LinkRules.decide(
            Self.keys(mobile: "13957290318", name: "王小明", birth: "1985-02-28"),
            Self.keys(mobile: "13957290318", name: "王小明", birth: "1985/2/27")) == nil, "different birth dates")
        #expect(LinkRules.decide(
            Self.keys(mobile: "13957290318", name: "王小明", birth: "1900-01-01"),
            Self.keys(mobile: "13957290318", name: "王小明", birth: "1985-02-27"))?.rule == .mobileAndName,
            "1900-01-01 is a DMS's 'unknown', not a birth date")
    }

    @Test("vehicle owners link with a compatible name")
    func vehicleOwner() {
        let a = Self.keys(mobile: "13957290318", name: "张伟")
        #expect(LinkRules.decide(a, Self.keys(mobile: "13511112222", name: "张伟"), sameVehicle: true)?.rule == .vehicleOwner)
        #expect(LinkRules.decide(a, Self.keys(name: "张伟"), sameVehicle: false) == nil)
        #expect(LinkRules.decide(a, Self.keys(name: "张强"), sameVehicle: true) == nil, "the car changed hands")
    }

    @Test("grouping: a chain of links never joins two ID numbers; a split pair stays apart; manual links always apply")
    func grouping() {
        let idA = Self.idNumber("19850228"), idB = Self.idNumber("19850228", "125")
        let records: [Int: PersonKeys] = [
            1: Self.keys(id: idA, name: "王小明"), 2: Self.keys(mobile: "13957290318", name: "王小明"),
            3: Self.keys(mobile: "13957290318", id: idB, name: "王小明"), 4: Self.keys(name: "赵六"),
        ]
        func link(_ a: Int, _ b: Int, _ rule: LinkRule) -> PersonClusters.Link<Int> {
            .init(a: a, b: b, decision: LinkDecision(rule: rule, confidence: rule.confidence))
        }
        // 1–2 by hand-made vehicle evidence, 2–3 by mobile: 1 and 3 carry different IDs.
        let groups = PersonClusters.group(records, links: [link(1, 2, .vehicleOwner), link(2, 3, .mobileAndName)])
        #expect(groups == [[1], [2, 3], [4]], "the stronger link wins, the one that would join two IDs is left out")
        #expect(PersonClusters.group(records, links: [link(2, 3, .mobileAndName)], apart: [(2, 3)]) == [[1], [2], [3], [4]])
        #expect(PersonClusters.group(records, links: [link(3, 4, .manual)]) == [[1], [2], [3, 4]])
    }

    @Test("survivorship: the latest valid value; HQ's value for a field HQ owns; the store that dealt with the customer last")
    func survivorship() {
        typealias C = Survivorship.Candidate<String>
        let candidates = [
            C(value: "old", isValid: true, changedAtMillis: 1, byHQ: false, dealer: "DLR-1"),
            C(value: "bad", isValid: false, changedAtMillis: 9, byHQ: false, dealer: "DLR-2"),
            C(value: "hq", isValid: true, changedAtMillis: 2, byHQ: true, dealer: "DLR-3"),
            C(value: "new", isValid: true, changedAtMillis: 5, byHQ: false, dealer: "DLR-1"),
        ]
        #expect(Survivorship.pick(candidates, hqOwned: false) == "new")
        #expect(Survivorship.pick(candidates, hqOwned: true) == "hq")
        #expect(Survivorship.pick([C(value: "x", isValid: false, changedAtMillis: 1, byHQ: false, dealer: "D")], hqOwned: false) == nil)
        #expect(Survivorship.responsibleDealer([("DLR-1", 5, false), ("DLR-2", 7, false), ("DLR-3", 9, true)]) == "DLR-2")
        #expect(Survivorship.responsibleDealer([("DLR-2", 5, false), ("DLR-1", 5, false)]) == "DLR-1", "ties to the smaller id")
    }
}
