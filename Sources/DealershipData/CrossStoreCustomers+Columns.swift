extension CrossStoreCustomers.Record {
    /// The record as a row of `DealerSchema`'s customers table: column → text (nil for NULL).
    public var columns: [String: String?] {
        let c = customer
        return [
            "id": c.id, "name": c.name, "mobile": c.mobile, "birth_date": c.birthDate, "address": c.address,
            "customer_class": c.customerClass, "home_dealer": c.homeDealer, "gender": c.gender, "email": c.email, "wechat": c.wechat,
            "occupation": c.occupation, "source": c.source, "created_at": c.createdAt, "remarks": c.remarks, "id_number": idNumber,
        ]
    }
}
