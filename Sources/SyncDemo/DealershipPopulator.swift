import DealershipData
import GRDB

/// Fills a DMS database with generated dealership rows through a plain connection.
public enum DealershipPopulator {
    public struct Counts: Hashable, Sendable {
        public var customers = 0, vehicles = 0, leads = 0, serviceOrders = 0, serviceLines = 0
        public var total: Int { customers + vehicles + leads + serviceOrders + serviceLines }
    }

    /// Inserts `customers` customers, each with a vehicle, a lead and (every other one) a
    /// service order with its lines, in one transaction.
    @discardableResult
    public static func populate(_ db: Database, generator: inout DealershipGenerator, customers: Int) throws -> Counts {
        var counts = Counts()
        let insertCustomer = try db.makeStatement(
            sql: """
                INSERT INTO customers (id, name, mobile, birth_date, address, customer_class, home_dealer,
                    gender, email, wechat, occupation, source, created_at, remarks, id_number)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertVehicle = try db.makeStatement(
            sql: """
                INSERT OR IGNORE INTO vehicles (vin, customer_id, model, plate, sold_on, color, engine_number, mileage_km, insurance_expiry)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertLead = try db.makeStatement(sql: "INSERT INTO leads (id, customer_id, source, state, assigned_dealer, model) VALUES (?, ?, ?, ?, ?, ?)")
        let insertOrder = try db.makeStatement(sql: "INSERT INTO service_orders (id, vin, opened_on, status) VALUES (?, ?, ?, ?)")
        let insertLine = try db.makeStatement(sql: "INSERT INTO service_lines (order_id, item, quantity, price) VALUES (?, ?, ?, ?)")
        for index in 0..<customers {
            let customer = generator.customer()
            try insertCustomer.execute(arguments: [
                customer.id, customer.name, customer.mobile, customer.birthDate, customer.address, customer.customerClass, customer.homeDealer,
                customer.gender, customer.email, customer.wechat, customer.occupation, customer.source, customer.createdAt, customer.remarks,
                customer.residentID,
            ])
            let vehicle = generator.vehicle(for: customer)
            try insertVehicle.execute(arguments: [
                vehicle.vin, vehicle.customerID, vehicle.model, vehicle.plate, vehicle.soldOn, vehicle.color, vehicle.engineNumber,
                vehicle.mileageKm, vehicle.insuranceExpiry,
            ])
            let lead = generator.lead(for: customer)
            try insertLead.execute(arguments: [lead.id, lead.customerID, lead.source, lead.state, lead.assignedDealer, lead.model])
            counts.customers += 1
            counts.vehicles += db.changesCount
            counts.leads += 1
            if index % 2 == 0 {
                let order = generator.serviceOrder(for: vehicle)
                try insertOrder.execute(arguments: [order.id, order.vin, order.openedOn, order.status])
                counts.serviceOrders += 1
                for line in order.lines {
                    try insertLine.execute(arguments: [order.id, line.item, line.quantity, line.price])
                    counts.serviceLines += 1
                }
            }
        }
        return counts
    }
}
