import Testing
import DealershipData

@Suite("Dealership data generator")
struct DealershipDataTests {
    @Test("the check digit matches the textbook example and generated VINs are valid")
    func vins() {
        #expect(VIN.checkDigit(of: "1M8GDM9AXKP042788") == "X")
        #expect(VIN.isValid("1M8GDM9AXKP042788"))
        #expect(!VIN.isValid("1M8GDM9A1KP042788"))
        var generator = DealershipGenerator(seed: 1, dealer: "DLR-1", dirty: .clean)
        for _ in 0..<500 {
            let vin = generator.vehicle(for: generator.customer()).vin
            #expect(VIN.isValid(vin), "\(vin)")
            #expect(["LSV", "LFV", "LBV", "LSG", "LGB", "LVS", "LHG", "LGX", "LRW", "LFM"].contains(String(vin.prefix(3))))
            #expect(!vin.contains { "IOQ".contains($0) })
        }
    }

    @Test("mobiles are 11 digits with a real prefix; names are Chinese; plates look like 沪A·12345")
    func customers() {
        var generator = DealershipGenerator(seed: 2, dealer: "DLR-1", dirty: .clean)
        for _ in 0..<500 {
            let customer = generator.customer()
            let mobile = customer.mobile!
            #expect(mobile.count == 11 && mobile.allSatisfy(\.isNumber) && mobile.hasPrefix("1"))
            #expect(DealershipGenerator.surnames.contains(String(customer.name.prefix(1))))
            #expect((2...3).contains(customer.name.count))
            let plate = generator.plate()
            #expect(plate.count == 8 && Array(plate)[2] == "·")
        }
    }

    @Test("the same seed gives the same data; dirty rates produce dirty rows")
    func seededAndDirty() {
        var a = DealershipGenerator(seed: 7, dealer: "DLR-1"), b = DealershipGenerator(seed: 7, dealer: "DLR-1")
        #expect((0..<100).map { _ in a.customer() } == (0..<100).map { _ in b.customer() })
        var dirty = DealershipGenerator(seed: 3, dealer: "DLR-1", dirty: .init(fakeMobile: 0.5, missingFields: 0.5, invalidVIN: 0.5, badDate: 0))
        let customers = (0..<400).map { _ in dirty.customer() }
        let fake = customers.filter { $0.mobile == "13800138000" }.count
        #expect((120...280).contains(fake), "about half share one fake number: \(fake)")
        #expect(customers.contains { $0.address == nil })
        let vins = customers.prefix(200).map { dirty.vehicle(for: $0).vin }
        #expect(vins.contains { !VIN.isValid($0) } && vins.contains { VIN.isValid($0) })
    }

    @Test("resident ID numbers carry the birth date and gender, with a valid check character; dirty dates get none")
    func residentIDs() {
        #expect(ResidentID.checkCharacter(of: "11010519491231002") == "X")
        #expect(ResidentID.isValid("11010519491231002X"))
        #expect(!ResidentID.isValid("110105194912310021"))
        var generator = DealershipGenerator(seed: 3, dealer: "DLR-1", dirty: DealershipGenerator.DirtyRates(badDate: 0.3))
        var withID = 0, without = 0
        for _ in 0..<500 {
            let customer = generator.customer()
            guard let number = customer.residentID else {
                #expect(customer.birthDate == nil || ["1900-01-01", "2099-13-45", "0000-00-00"].contains(customer.birthDate!))
                without += 1
                continue
            }
            withID += 1
            #expect(ResidentID.isValid(number), "\(number)")
            #expect(ResidentID.birthDate(of: number) == customer.birthDate)
            #expect(Array(number)[16].wholeNumberValue! % 2 == (customer.gender == "男" ? 1 : 0))
            #expect(customer.residentID == number)
        }
        #expect(withID > 0 && without > 0)
    }
}
