import DataQuality
import DealershipData
import SyncCore
import Testing

/// The quality rules of the demo's sync schema find exactly the errors the generator plants
/// (docs/QUALITY.md, issue 19: "scores on the generated data agree with the errors the
/// generator planted"): fake mobiles, missing addresses, impossible birth dates, VINs with a
/// wrong check digit — and nothing in the clean values.
@Suite("Quality rules against the generator's planted errors")
struct PlantedErrorsTests {
    @Test("every planted error is found and no clean value is flagged, on 5,000 customers and their vehicles")
    func agree() throws {
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let customers = QualityEvaluator(rules: try #require(schema.table(named: "customers")).quality)
        let vehicles = QualityEvaluator(rules: try #require(schema.table(named: "vehicles")).quality)
        var generator = DealershipGenerator(seed: 20_261_203, dealer: "DLR-Q")
        var planted: [String: Int] = [:]
        var found: [String: Int] = [:]
        for _ in 0..<5_000 {
            let customer = generator.customer()
            if customer.mobile == "13800138000" { planted["customers.mobile", default: 0] += 1 }
            if customer.address == nil { planted["customers.address", default: 0] += 1 }
            if ["1900-01-01", "2099-13-45", "0000-00-00"].contains(customer.birthDate ?? "") { planted["customers.birth_date", default: 0] += 1 }
            let values: [String: SQLValue] = [
                "id": .text(customer.id), "name": .text(customer.name), "mobile": customer.mobile.map(SQLValue.text) ?? .null,
                "birth_date": customer.birthDate.map(SQLValue.text) ?? .null, "address": customer.address.map(SQLValue.text) ?? .null,
                "email": customer.email.map(SQLValue.text) ?? .null, "gender": .text(customer.gender),
            ]
            for issue in customers.issues(values, today: "2026-12-03") { found["customers.\(issue.column)", default: 0] += 1 }
            let vehicle = generator.vehicle(for: customer)
            if !VIN.isValid(vehicle.vin) { planted["vehicles.vin", default: 0] += 1 }
            let vehicleValues: [String: SQLValue] = ["vin": .text(vehicle.vin), "plate": vehicle.plate.map(SQLValue.text) ?? .null]
            for issue in vehicles.issues(vehicleValues, today: "2026-12-03") { found["vehicles.\(issue.column)", default: 0] += 1 }
        }
        #expect(found == planted, "planted \(planted.sorted { $0.key < $1.key }), found \(found.sorted { $0.key < $1.key })")
        // The default rates plant some of each, so the comparison covers every rule used.
        #expect(planted.count == 4 && planted.values.allSatisfy { $0 > 20 }, "\(planted)")
        print("planted errors found by the quality rules: \(planted.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)/\(found[$0.key] ?? 0)" }.joined(separator: ", "))")
    }
}
