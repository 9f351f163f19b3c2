/// The same real person typed in at several stores, with the ground truth of who is who, so
/// identity linking can be measured (precision and recall) rather than eyeballed.
///
/// A person is known at one store or, at the `duplicated` rate, at 2–4 distinct stores, and
/// each store types them its own way: the mobile and ID number in another format (each
/// undone by `MobileNumber.normalize` and `ResidentIDNumber.normalize`), a space after the
/// surname, a one-character typo in the given name, values left out. Two traps make a linker
/// wrong if it trusts the mobile alone: the counter's fake number 13800138000, typed for
/// many people, and another person's phone (a relative's). `Record.person` says which
/// records are one person; `Record.trap` says which mobiles are a trap.
///
/// Every person is drawn from a stream of their own, so the records of person `index`
/// depend only on the seed, the index and the dealers: a million records stream without
/// keeping earlier persons in memory, and any one person can be regenerated alone.
public struct CrossStoreCustomers: Sendable {
    /// How often each difference between stores is typed: per record unless said otherwise.
    public struct Rates: Sendable {
        /// Share of persons known at more than one store (2, 3 or 4 distinct stores, uniformly).
        public var duplicated: Double
        /// Share of records whose mobile is typed in another format, and (drawn separately)
        /// whose ID number is; on a duplicate record also the share with a space after the surname.
        public var formatting: Double
        /// Share of duplicate records with one given-name character replaced (names of 3+
        /// characters only; the surname is never touched).
        public var nameTypo: Double
        public var missingMobile: Double
        /// Many DMSes never ask for the ID number.
        public var missingIDNumber: Double
        /// Share of records given the counter's fake number 13800138000 instead of the mobile.
        public var sharedFake: Double
        /// Share of records given the mobile of another generated person (a relative's phone):
        /// a precision trap.
        public var family: Double

        public init(
            duplicated: Double = 0.2, formatting: Double = 0.5, nameTypo: Double = 0.03, missingMobile: Double = 0.05,
            missingIDNumber: Double = 0.4, sharedFake: Double = 0.03, family: Double = 0.02
        ) {
            self.duplicated = duplicated
            self.formatting = formatting
            self.nameTypo = nameTypo
            self.missingMobile = missingMobile
            self.missingIDNumber = missingIDNumber
            self.sharedFake = sharedFake
            self.family = family
        }
    }

    /// One store's customer record of one person.
    public struct Record: Hashable, Sendable {
        /// A mobile that is not the person's own, so matching on it links the wrong people.
        public enum Trap: Hashable, Sendable {
            /// 13800138000, typed for anyone who gives no number.
            case sharedFake
            /// The mobile of person `person + 1` (a relative's phone).
            case family
        }

        public var dealer: String
        /// The record as typed at `dealer`: its own `id` (unique across all records),
        /// `homeDealer == dealer`, the name and mobile as this store typed them. Use `idNumber`
        /// for the ID number: `customer.residentID` is derived from the record's key and is
        /// the person's only on their first record.
        public var customer: DealershipGenerator.Customer
        /// The ID number as typed at this store, or nil when the store did not ask.
        public var idNumber: String?
        /// Ground truth: records with equal `person` are one real person.
        public var person: Int
        /// Why `customer.mobile` is not the person's own, or nil when it is (or is missing).
        public var trap: Trap?
    }

    public let seed: UInt64
    /// The stores, each once (a repeated name is dropped), in the order given.
    public let dealers: [String]
    public let rates: Rates

    static let sharedFakeMobile = "13800138000"

    public init(seed: UInt64, dealers: [String], rates: Rates = Rates()) {
        self.seed = seed
        var seen: Set<String> = []
        self.dealers = dealers.filter { seen.insert($0).inserted }
        self.rates = rates
    }

    /// The records of person `index` (1 to 4 of them, at distinct stores; none when there are
    /// no dealers), the same for the same seed, index and dealers on every machine.
    ///
    /// The first record carries the person's name exactly and their own key (so its
    /// `customer.residentID` is the true ID); name spellings and typos are on the other
    /// records only. The mobile and ID number rates (formatting, missing, traps) apply to
    /// every record alike, the first included.
    public func records(ofPerson index: Int) -> [Record] {
        let begun = begin(index)
        var generator = begun.generator
        let base = begun.base
        let trueIDNumber = base.residentID
        var records: [Record] = []
        records.reserveCapacity(begun.stores.count)
        for (position, store) in begun.stores.enumerated() {
            var customer = base
            if position > 0 {
                // Another store's own record: its own key, class, source, date and remarks
                // (drawn as `customer()` draws them, without its cost of a whole customer);
                // the person's details, with the name as this store typed it.
                customer.id = generator.uuid()
                customer.customerClass = generator.pick(["A", "B", "C", "VIP"])
                customer.source = generator.pick(DealershipGenerator.leadSources)
                let createdOn = generator.date(fromYear: 2015, toYear: 2026)
                customer.createdAt = "\(createdOn) 10:\(Int.random(in: 10...59, using: &generator.generator)):00"
                customer.remarks = generator.pick(DealershipGenerator.remarks)
                customer.name = typedName(base.name, using: &generator)
            }
            customer.homeDealer = store
            let typed = typedMobile(base.mobile, person: index, using: &generator)
            customer.mobile = typed.mobile
            let idNumber = typedIDNumber(trueIDNumber, using: &generator)
            records.append(Record(dealer: store, customer: customer, idNumber: idNumber, person: index, trap: typed.trap))
        }
        return records
    }

    /// Persons 0, 1, 2, … in turn until there are `count` records; the last person's records
    /// are cut short when needed (the ground truth of those kept stays right). Empty when
    /// there are no dealers.
    public func records(count: Int) -> [Record] {
        guard count > 0, !dealers.isEmpty else { return [] }
        var records: [Record] = []
        records.reserveCapacity(count)
        var person = 0
        while records.count < count {
            records.append(contentsOf: self.records(ofPerson: person).prefix(count - records.count))
            person += 1
        }
        return records
    }

    /// Person `index` as they really are, before any store typed them: the truth to score
    /// against. `mobile` is their own number, `residentID` their 18-character ID number,
    /// `homeDealer` the first store that knows them ("" when there are no dealers).
    public func baseCustomer(ofPerson index: Int) -> DealershipGenerator.Customer {
        begin(index).base
    }

    /// Person `index`'s own generator, their true values and their stores (the first
    /// uniformly from `dealers`, the others distinct from it and each other).
    private func begin(_ index: Int) -> (generator: DealershipGenerator, base: DealershipGenerator.Customer, stores: [String]) {
        // The per-person seed goes through SplitMix64 once more: seeding with
        // `seed + index * 0x9E3779B97F4A7C15` directly would give person i + 1 the stream of
        // person i shifted by one draw (SplitMix64 steps its state by that same constant),
        // so neighbouring persons would be correlated.
        var mixer = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        var generator = DealershipGenerator(seed: mixer.next(), dealer: "", dirty: .clean)
        var base = generator.customer()
        let wanted = generator.chance(rates.duplicated) ? Int.random(in: 2...4, using: &generator.generator) : 1
        var pool = dealers
        let count = min(wanted, pool.count)
        for position in 0..<count {  // a partial Fisher–Yates shuffle: distinct stores, each equally likely
            pool.swapAt(position, Int.random(in: position..<pool.count, using: &generator.generator))
        }
        let stores = Array(pool.prefix(count))
        base.homeDealer = stores.first ?? ""
        return (generator, base, stores)
    }

    /// The name as a second store typed it: maybe one given-name character wrong, maybe a
    /// space after the (one-character) surname. `PersonName.normalize` undoes the space only.
    private func typedName(_ name: String, using generator: inout DealershipGenerator) -> String {
        var characters = Array(name)
        if characters.count >= 3, generator.chance(rates.nameTypo) {
            let position = Int.random(in: 1..<characters.count, using: &generator.generator)
            let others = DealershipGenerator.givenCharacters.filter { $0 != String(characters[position]) }
            if !others.isEmpty {
                characters.replaceSubrange(position...position, with: generator.pick(others))
            }
        }
        if characters.count >= 2, generator.chance(rates.formatting) {
            return String(characters[0]) + " " + String(characters[1...])
        }
        return String(characters)
    }

    /// The mobile as one store typed it: missing, the shared fake, a relative's (person
    /// `index + 1`'s), or the person's own; a real number (own or relative's) maybe formatted.
    private func typedMobile(_ mobile: String?, person index: Int, using generator: inout DealershipGenerator)
        -> (mobile: String?, trap: Record.Trap?)
    {
        if generator.chance(rates.missingMobile) { return (nil, nil) }
        if generator.chance(rates.sharedFake) { return (Self.sharedFakeMobile, .sharedFake) }
        var typed = mobile
        var trap: Record.Trap?
        if generator.chance(rates.family), let relative = baseCustomer(ofPerson: index &+ 1).mobile, relative != mobile {
            typed = relative
            trap = .family
        }
        if let number = typed, generator.chance(rates.formatting) {
            typed = Self.formatted(mobile: number, using: &generator)
        }
        return (typed, trap)
    }

    /// The ID number as one store typed it: missing, as is, or in another format.
    private func typedIDNumber(_ number: String?, using generator: inout DealershipGenerator) -> String? {
        guard let number, !generator.chance(rates.missingIDNumber) else { return nil }
        return generator.chance(rates.formatting) ? Self.formatted(idNumber: number, using: &generator) : number
    }

    /// 13812345678 as "+86 138 1234 5678", "0086-13812345678", "138-1234-5678",
    /// "138 1234 5678" or in full-width digits.
    private static func formatted(mobile: String, using generator: inout DealershipGenerator) -> String {
        let digits = Array(mobile)
        guard digits.count == 11 else { return mobile }
        let head = String(digits[0..<3]), middle = String(digits[3..<7]), tail = String(digits[7...])
        switch Int.random(in: 0..<5, using: &generator.generator) {
        case 0: return "+86 \(head) \(middle) \(tail)"
        case 1: return "0086-\(mobile)"
        case 2: return "\(head)-\(middle)-\(tail)"
        case 3: return "\(head) \(middle) \(tail)"
        default: return fullWidth(mobile)
        }
    }

    private enum IDNumberFormat {
        case lowerCaseX, spaced, fullWidth, fifteenDigits
    }

    /// An 18-character number with a lower-case x (when it ends in X), spaces after the region
    /// code and the birth date, in full-width characters, or (born 19xx) as the old 15-digit
    /// number: no century, no check character.
    private static func formatted(idNumber: String, using generator: inout DealershipGenerator) -> String {
        let characters = Array(idNumber)
        guard characters.count == 18 else { return idNumber }
        var formats: [IDNumberFormat] = [.spaced, .fullWidth]
        if characters[17] == "X" { formats.append(.lowerCaseX) }
        if characters[6] == "1", characters[7] == "9" { formats.append(.fifteenDigits) }
        switch generator.pick(formats) {
        case .lowerCaseX: return String(characters[0..<17]) + "x"
        case .spaced: return String(characters[0..<6]) + " " + String(characters[6..<14]) + " " + String(characters[14...])
        case .fullWidth: return fullWidth(idNumber)
        case .fifteenDigits: return String(characters[0..<6]) + String(characters[8..<17])
        }
    }

    /// ASCII characters in their full-width forms (U+FF01…U+FF5E), as a Chinese input
    /// method in full-width mode types them; `HalfWidth.fold` undoes it.
    private static func fullWidth(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (0x21...0x7E).contains(scalar.value), let wide = Unicode.Scalar(scalar.value + 0xFEE0) {
                scalars.append(wide)
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }
}
