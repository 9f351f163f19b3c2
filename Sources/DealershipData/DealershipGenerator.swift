/// Seeded, realistic dealership rows: the same seed gives the same data on every machine.
///
/// Dirty data comes at configurable rates, as real stores produce it: one fake mobile
/// number typed for many customers, missing fields, invalid VINs, impossible dates.
public struct DealershipGenerator {
    public struct DirtyRates: Sendable {
        /// Share of customers given the store's favourite fake number (13800138000).
        public var fakeMobile: Double
        public var missingFields: Double
        public var invalidVIN: Double
        public var badDate: Double

        public init(fakeMobile: Double = 0.05, missingFields: Double = 0.08, invalidVIN: Double = 0.02, badDate: Double = 0.02) {
            self.fakeMobile = fakeMobile
            self.missingFields = missingFields
            self.invalidVIN = invalidVIN
            self.badDate = badDate
        }

        public static let clean = DirtyRates(fakeMobile: 0, missingFields: 0, invalidVIN: 0, badDate: 0)
    }

    public struct Customer: Hashable, Sendable {
        public var id: String
        public var name: String
        public var mobile: String?
        public var birthDate: String?
        public var address: String?
        public var customerClass: String
        public var homeDealer: String
        public var gender: String
        public var email: String?
        public var wechat: String?
        public var occupation: String?
        public var source: String
        public var createdAt: String
        public var remarks: String?
    }

    public struct Vehicle: Hashable, Sendable {
        public var vin: String
        public var customerID: String
        public var model: String
        public var plate: String?
        public var soldOn: String?
        public var color: String
        public var engineNumber: String
        public var mileageKm: Int
        public var insuranceExpiry: String?
    }

    public struct Lead: Hashable, Sendable {
        public var id: String
        public var customerID: String
        public var source: String
        public var state: String
        public var assignedDealer: String
        public var model: String
    }

    public struct ServiceOrder: Hashable, Sendable {
        public var id: String
        public var vin: String
        public var openedOn: String
        public var status: String
        public var lines: [(item: String, quantity: Int, price: Double)]

        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }
        public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    public static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤").map(String.init)
    static let givenCharacters = Array("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梅玉兰宇浩然子涵梓萱欣怡俊杰文博雨桐思远佳琪").map(String.init)
    /// Real mainland mobile prefixes (China Mobile, Unicom, Telecom).
    static let mobilePrefixes = ["134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "178", "182", "183", "187", "188", "198", "130", "131", "132", "155", "156", "166", "176", "185", "186", "133", "153", "173", "177", "180", "181", "189", "191", "199"]
    static let places = [
        ("沪", "上海市", ["浦东新区", "闵行区", "徐汇区", "嘉定区"]), ("京", "北京市", ["朝阳区", "海淀区", "丰台区"]),
        ("粤", "广东省广州市", ["天河区", "番禺区", "白云区"]), ("苏", "江苏省苏州市", ["工业园区", "吴中区", "姑苏区"]),
        ("浙", "浙江省杭州市", ["西湖区", "余杭区", "滨江区"]), ("川", "四川省成都市", ["武侯区", "锦江区", "高新区"]),
    ]
    static let streets = ["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "世纪大道", "科技路"]
    static let models = ["朗逸", "帕萨特", "途观L", "宝马3系", "宝马X3", "凯迪拉克CT5", "轩逸", "锐界", "雅阁", "汉EV", "Model Y", "卡罗拉"]
    static let occupations = ["教师", "医生", "工程师", "个体经营", "公务员", "销售", "程序员", "会计", "司机", "退休"]
    static let remarks = [nil, "周末方便联系", "对混动车型感兴趣", "老客户，置换意向", "只接受微信联系", "已购车，关注保养优惠"]
    static let leadSources = ["展厅到店", "官网留资", "汽车之家", "懂车帝", "厂家下发", "老客户推荐", "车展"]
    static let leadStates = ["new", "contacted", "test_drive", "quoted", "won", "lost"]
    static let serviceItems = [("机油更换", 380.0), ("机滤", 68.0), ("空调滤芯", 120.0), ("刹车片(前)", 860.0), ("轮胎四轮定位", 240.0), ("常规保养工时", 300.0)]

    public var generator: SeededGenerator
    public let dealer: String
    public var dirty: DirtyRates
    private var serial = 0

    public init(seed: UInt64, dealer: String, dirty: DirtyRates = DirtyRates()) {
        generator = SeededGenerator(seed: seed)
        self.dealer = dealer
        self.dirty = dirty
    }

    mutating func chance(_ rate: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < rate }
    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &generator)! }

    /// A UUID-shaped text key, unique per seed and dealer: `both` tables need keys that never
    /// collide across stores.
    public mutating func uuid() -> String {
        serial += 1
        let a = UInt64.random(in: 0...UInt64.max, using: &generator), b = UInt64.random(in: 0...UInt64.max, using: &generator)
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let raw = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - raw.count)) + raw.suffix(digits)
        }
        return "\(hex(a >> 32, 8))-\(hex(a >> 16, 4))-4\(hex(a, 3))-\(hex(8 | (b >> 62), 1))\(hex(b >> 48, 3))-\(hex(b, 12))"
    }

    public mutating func chineseName() -> String {
        pick(Self.surnames) + (0..<Int.random(in: 1...2, using: &generator)).map { _ in pick(Self.givenCharacters) }.joined()
    }

    public mutating func mobile() -> String {
        pick(Self.mobilePrefixes) + String(format8(UInt64.random(in: 0..<100_000_000, using: &generator)))
    }

    private func format8(_ value: UInt64) -> String {
        let raw = String(value)
        return String(repeating: "0", count: 8 - raw.count) + raw
    }

    public mutating func date(fromYear: Int, toYear: Int) -> String {
        let year = Int.random(in: fromYear...toYear, using: &generator)
        let month = Int.random(in: 1...12, using: &generator)
        let day = Int.random(in: 1...28, using: &generator)
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    public mutating func customer() -> Customer {
        let place = pick(Self.places)
        var customer = Customer(
            id: uuid(), name: chineseName(), mobile: mobile(), birthDate: date(fromYear: 1960, toYear: 2004),
            address: "\(place.1)\(pick(place.2))\(pick(Self.streets))\(Int.random(in: 1...999, using: &generator))号",
            customerClass: pick(["A", "B", "C", "VIP"]), homeDealer: dealer, gender: pick(["男", "女"]),
            email: nil, wechat: "wxid_\(String(UInt64.random(in: 0...UInt64(1) << 40, using: &generator), radix: 36))",
            occupation: pick(Self.occupations), source: pick(Self.leadSources),
            createdAt: date(fromYear: 2015, toYear: 2026) + " 10:\(Int.random(in: 10...59, using: &generator)):00",
            remarks: pick(Self.remarks))
        customer.email = "\(customer.wechat!.dropFirst(5))@\(pick(["qq.com", "163.com", "126.com", "sina.com"]))"
        if chance(dirty.fakeMobile) { customer.mobile = "13800138000" }
        if chance(dirty.missingFields) { customer.address = nil }
        if chance(dirty.missingFields) { customer.birthDate = nil }
        if chance(dirty.badDate) { customer.birthDate = pick(["1900-01-01", "2099-13-45", "0000-00-00"]) }
        return customer
    }

    public mutating func plate() -> String {
        let province = pick(Self.places).0
        let letters = Array("ABCDEFGHJKLMN")
        let tail = (0..<5).map { _ in String(Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")[Int.random(in: 0..<34, using: &generator)]) }.joined()
        return "\(province)\(pick(letters))·\(tail)"
    }

    public mutating func vehicle(for customer: Customer) -> Vehicle {
        var vin = VIN.random(using: &generator)
        if chance(dirty.invalidVIN) {
            var characters = Array(vin)
            characters[8] = characters[8] == "0" ? "1" : "0"
            vin = String(characters)
        }
        let engineLetters = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        return Vehicle(
            vin: vin, customerID: customer.id, model: pick(Self.models), plate: chance(dirty.missingFields) ? nil : plate(),
            soldOn: date(fromYear: 2016, toYear: 2026), color: pick(["珍珠白", "曜石黑", "星空灰", "极光蓝", "宝石红"]),
            engineNumber: String((0..<10).map { _ in engineLetters.randomElement(using: &generator)! }),
            mileageKm: Int.random(in: 0...180_000, using: &generator),
            insuranceExpiry: chance(dirty.missingFields) ? nil : date(fromYear: 2025, toYear: 2027))
    }

    public mutating func lead(for customer: Customer, assignedTo dealer: String? = nil) -> Lead {
        Lead(
            id: uuid(), customerID: customer.id, source: pick(Self.leadSources), state: pick(Self.leadStates),
            assignedDealer: dealer ?? self.dealer, model: pick(Self.models))
    }

    public mutating func serviceOrder(for vehicle: Vehicle) -> ServiceOrder {
        let lines = (0..<Int.random(in: 1...4, using: &generator)).map { _ -> (String, Int, Double) in
            let item = pick(Self.serviceItems)
            return (item.0, Int.random(in: 1...4, using: &generator), item.1)
        }
        return ServiceOrder(
            id: uuid(), vin: vehicle.vin, openedOn: date(fromYear: 2020, toYear: 2026),
            status: pick(["open", "in_progress", "done", "invoiced"]), lines: lines.map { (item: $0.0, quantity: $0.1, price: $0.2) })
    }
}
