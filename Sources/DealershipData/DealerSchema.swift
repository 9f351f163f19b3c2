/// The DMS schema the demo, benchmarks and tests use: shaped like a real dealer DMS
/// (text UUID keys for shared tables, VIN for vehicles, an autoincrement key for the
/// store-only service lines).
public enum DealerSchema {
    public static let dmsSQL = """
        CREATE TABLE IF NOT EXISTS customers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            mobile TEXT,
            birth_date TEXT,
            address TEXT,
            customer_class TEXT,
            home_dealer TEXT,
            sales_notes TEXT,
            gender TEXT,
            email TEXT,
            wechat TEXT,
            occupation TEXT,
            source TEXT,
            created_at TEXT,
            remarks TEXT,
            id_number TEXT
        );
        CREATE TABLE IF NOT EXISTS vehicles (
            vin TEXT PRIMARY KEY,
            customer_id TEXT REFERENCES customers(id),
            model TEXT,
            plate TEXT,
            sold_on TEXT,
            color TEXT,
            engine_number TEXT,
            mileage_km INTEGER,
            insurance_expiry TEXT
        );
        CREATE TABLE IF NOT EXISTS leads (
            id TEXT PRIMARY KEY,
            customer_id TEXT,
            source TEXT,
            state TEXT,
            assigned_dealer TEXT,
            model TEXT
        );
        CREATE TABLE IF NOT EXISTS service_orders (
            id TEXT PRIMARY KEY,
            vin TEXT,
            opened_on TEXT,
            status TEXT
        );
        CREATE TABLE IF NOT EXISTS service_lines (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_id TEXT REFERENCES service_orders(id) ON DELETE CASCADE,
            item TEXT,
            quantity INTEGER,
            price REAL
        );
        """

    public static let syncSchemaYAML = """
        version: 1
        tables:
          - name: customers
            direction: both
            routing_column: home_dealer
            owners:
              customer_class: hq
              sales_notes: origin
            # HQ's SQL table of customers (docs/HQ-TABLES.md); stores ignore these.
            key: [id]
            columns:
              - id: TEXT
              - name: TEXT
              - mobile: TEXT
              - birth_date: TEXT
              - address: TEXT
              - customer_class: TEXT
              - home_dealer: TEXT
              - sales_notes: TEXT
              - gender: TEXT
              - email: TEXT
              - wechat: TEXT
              - occupation: TEXT
              - source: TEXT
              - created_at: TEXT
              - remarks: TEXT
              - id_number: TEXT
            indexes:
              - [mobile]
              - [home_dealer]
            # Data quality HQ measures per store (docs/QUALITY.md).
            quality:
              - column: mobile
                required: true
                format: mobile
                shared_limit: 3
                description: 客户本人手机号 (the customer's own mobile)
                definition: The customer's own mainland mobile number, never the store's or a salesperson's.
              - column: birth_date
                format: date
                min: "1900-01-02"
                max: today
                description: 出生日期
              - column: address
                required: true
                description: 联系地址
              - column: email
                format: email
              - column: gender
                allowed: [男, 女]
              - column: id_number
                format: resident_id
                description: 身份证号
          - name: vehicles
            direction: both
            quality:
              - column: vin
                format: vin
                description: 车架号 (VIN)
              - column: plate
                format: plate
                description: 车牌号
          - name: leads
            direction: both
            routing_column: assigned_dealer
            owners:
              assigned_dealer: hq
          - name: service_orders
            direction: both
          - name: service_lines
            direction: up
        # One customer across stores (docs/IDENTITY.md): HQ links store records into people.
        identity:
          people: {table: customers, mobile: mobile, id_number: id_number, name: name, birth_date: birth_date}
          vehicles: {table: vehicles, vin: vin, owner: customer_id}
          history:
            - {table: leads, person: customer_id}
            - {table: service_orders, vehicle: vin}
          # What a store sees of other stores' records when it looks a customer up at the counter.
          counter:
            customers: [name, customer_class, home_dealer]
            vehicles: [vin, model, plate, sold_on]
            leads: [source, state, model]
            service_orders: [opened_on, status]
        """
}
