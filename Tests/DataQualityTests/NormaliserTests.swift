import CustomerIdentity
import Testing

/// The normalisers of what identifies a person or a vehicle (issues 18 and 19), on the
/// spellings stores type and the values they must refuse.
@Suite("Customer identity normalisers")
struct NormaliserTests {
    @Test("full-width ASCII forms and the ideographic space fold; everything else stays", arguments: [
        ("ＡＢＣｘｙｚ１２３", "ABCxyz123"),
        ("\u{FF01}\u{FF5E}", "!~"),  // both ends of the range
        ("１３９　５７２０", "139 5720"),
        ("＋８６－（１３９）．＠", "+86-(139).@"),
        ("张三", "张三"),
        ("\u{FF5F}\u{FF61}\u{FF00}", "\u{FF5F}\u{FF61}\u{FF00}"),  // outside the range: left alone
        ("", ""),
    ])
    func halfWidth(raw: String, expected: String) {
        #expect(HalfWidth.fold(raw) == expected)
    }

    @Test("mobile numbers in the spellings stores type", arguments: [
        ("13957204816", "13957204816"),
        (" 13957204816 ", "13957204816"),
        ("139 5720 4816", "13957204816"),
        ("139-5720-4816", "13957204816"),
        ("(139) 5720.4816", "13957204816"),
        ("+86 139-5720-4816", "13957204816"),
        ("+8613957204816", "13957204816"),
        ("0086 139 5720 4816", "13957204816"),
        ("8613957204816", "13957204816"),
        ("１３９５７２０４８１６", "13957204816"),
        ("＋８６　１３９５７２０４８１６", "13957204816"),
        ("19957204816", "19957204816"),
        ("16657204816", "16657204816"),
    ])
    func mobileValid(raw: String, expected: String) {
        #expect(MobileNumber.normalize(raw) == expected)
    }

    @Test("mobile numbers that are not mainland mobiles", arguments: [
        "1395720481",  // 10 digits
        "139572048161",  // 12 digits
        "+86 1395720481",
        "１３９５７２０４８１",  // full-width, 10 digits
        "12957204816",  // 12x is no mobile range
        "10957204816",
        "23957204816",
        "021-5720-4816",  // a Shanghai landline
        "+85213957204816",  // Hong Kong country code
        "86139572048",  // 86 stripped only when 13 digits
        "139572O4816",  // letter O
        "\u{0661}\u{0663}\u{0669}\u{0665}\u{0667}\u{0662}\u{0660}\u{0664}\u{0668}\u{0661}\u{0666}",  // Arabic-Indic digits
        "13957204816 ext 2",
        "",
        "   ",
    ])
    func mobileInvalid(raw: String) {
        #expect(MobileNumber.normalize(raw) == nil)
    }

    @Test("every listed placeholder is a valid number that is flagged as a placeholder")
    func placeholderList() {
        #expect(MobileNumber.placeholders.count == 12)
        for number in MobileNumber.placeholders {
            #expect(MobileNumber.normalize(number) == number, "\(number)")
            #expect(MobileNumber.isPlaceholder(number), "\(number)")
        }
        #expect(MobileNumber.normalize("+86 138-0013-8000").map(MobileNumber.isPlaceholder) == true)
    }

    @Test("placeholders: listed numbers, repeated trailing digits, counting runs", arguments: [
        ("13800138000", true),
        ("13911111111", true),  // 9 identical trailing digits
        ("13722222222", true),  // exactly 8
        ("13612345678", true),
        ("13687654321", true),
        ("15823456789", true),
        ("18598765432", true),
        ("13957204816", false),
        ("13812222222", false),  // only 7 identical trailing digits
        ("13911111112", false),
        ("13912121212", false),
        ("13612345679", false),  // run broken at the end
        ("13601234568", false),
        ("1391111111", false),  // not a normalised number
    ])
    func placeholders(number: String, expected: Bool) {
        #expect(MobileNumber.isPlaceholder(number) == expected)
    }

    @Test("the resident ID check character matches GB 11643 examples")
    func residentIDCheckCharacter() {
        #expect(ResidentIDNumber.checkCharacter(of: "11010519491231002") == "X")
        #expect(ResidentIDNumber.checkCharacter(of: "31011519851231002") == "9")
        #expect(ResidentIDNumber.checkCharacter(of: "11010519491231001") == "1")
        #expect(ResidentIDNumber.checkCharacter(of: "44030519880808123") == "4")
        #expect(ResidentIDNumber.checkCharacter(of: "1101051949123100") == nil)
        #expect(ResidentIDNumber.checkCharacter(of: "110105194912310021") == nil)
        #expect(ResidentIDNumber.checkCharacter(of: "1101051949123100A") == nil)
        #expect(ResidentIDNumber.checkCharacter(of: "１１０１０５１９４９１２３１００２") == nil, "only ASCII digits; normalize folds first")
    }

    @Test("resident ID numbers in the spellings stores type", arguments: [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("310115198512310029", "310115198512310029"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        ("110105491231002", "11010519491231002X"),  // 15 digits upgraded
        ("110105200002290013", "110105200002290013"),  // 29 February of a leap year
    ])
    func residentIDValid(raw: String, expected: String) {
        #expect(ResidentIDNumber.normalize(raw) == expected)
    }

    @Test("resident ID numbers with a wrong check character, an impossible date or the wrong length", arguments: [
        "110105194912310021",  // check character should be X
        "11010519491231002Y",
        "310115198512310028",  // check character should be 9
        "11010519491231002",  // 17 characters
        "1101051949123100",
        "1101054912310",  // 13 digits
        "110105990230001",  // 15 digits, 1999-02-30
        "11010519491231002XX",
        "",
    ])
    func residentIDInvalid(raw: String) {
        #expect(ResidentIDNumber.normalize(raw) == nil)
    }

    @Test("a right check character does not rescue an impossible birth date", arguments: [
        "11010519990230001",  // 1999-02-30
        "11010519000229001",  // 1900 is no leap year
        "11010518990101001",  // before 1900
        "11010519851301001",  // month 13
        "11010519850100001",  // day 0
    ])
    func residentIDImpossibleDate(first17: String) throws {
        let check = try #require(ResidentIDNumber.checkCharacter(of: first17))
        #expect(ResidentIDNumber.normalize(first17 + String(check)) == nil)
    }

    @Test("a 15-digit number is upgraded to the 18 characters the person carries today")
    func residentIDUpgrade() throws {
        let old = "440305880808123"
        let first17 = "440305" + "19" + "880808123"
        let check = try #require(ResidentIDNumber.checkCharacter(of: first17))
        #expect(ResidentIDNumber.normalize(old) == first17 + String(check))
        #expect(ResidentIDNumber.normalize(old) == "440305198808081234")
        #expect(ResidentIDNumber.birthDate(of: old) == "1988-08-08")
        #expect(ResidentIDNumber.gender(of: old) == .male)  // sequence 123: odd
    }

    @Test("birth date and gender come from the number", arguments: [
        ("11010519491231002X", "1949-12-31", ResidentIDNumber.Gender.female),
        ("110105194912310011", "1949-12-31", .male),
        ("310115198512310029", "1985-12-31", .female),
        ("110105200002290013", "2000-02-29", .male),
    ] as [(String, String, ResidentIDNumber.Gender)])
    func residentIDContents(number: String, birthDate: String, gender: ResidentIDNumber.Gender) {
        #expect(ResidentIDNumber.birthDate(of: number) == birthDate)
        #expect(ResidentIDNumber.gender(of: number) == gender)
    }

    @Test("an invalid number carries no birth date and no gender")
    func residentIDContentsOfInvalid() {
        #expect(ResidentIDNumber.birthDate(of: "110105194912310021") == nil)
        #expect(ResidentIDNumber.gender(of: "110105194912310021") == nil)
        #expect(ResidentIDNumber.Gender.male.rawValue == "male" && ResidentIDNumber.Gender.female.rawValue == "female")
    }

    @Test("the VIN check digit matches known VINs and ignores position 9")
    func vinCheckDigit() {
        #expect(VehicleIdentificationNumber.checkDigit(of: "1M8GDM9AXKP042788") == "X")
        #expect(VehicleIdentificationNumber.checkDigit(of: "1M8GDM9A0KP042788") == "X")
        #expect(VehicleIdentificationNumber.checkDigit(of: "11111111111111111") == "1")
        #expect(VehicleIdentificationNumber.checkDigit(of: "1HGCM82633A004352") == "3")
        #expect(VehicleIdentificationNumber.checkDigit(of: "LSVAU2180N2183294") == "X")
        #expect(VehicleIdentificationNumber.checkDigit(of: "LFV2A21K6N3040173") == "9")
        #expect(VehicleIdentificationNumber.checkDigit(of: "1M8GDM9AXKP04278") == nil)
        #expect(VehicleIdentificationNumber.checkDigit(of: "1M8GDM9AXKP0427I8") == nil)
        #expect(VehicleIdentificationNumber.checkDigit(of: "1m8gdm9axkp042788") == nil, "normalize upper-cases first")
    }

    @Test("VINs in the spellings stores type", arguments: [
        ("1M8GDM9AXKP042788", "1M8GDM9AXKP042788"),
        ("1m8gdm9axkp042788", "1M8GDM9AXKP042788"),
        ("1M8-GDM9AX-KP042788", "1M8GDM9AXKP042788"),
        (" 1M8 GDM9AX KP04 2788 ", "1M8GDM9AXKP042788"),
        ("１Ｍ８ＧＤＭ９ＡＸＫＰ０４２７８８", "1M8GDM9AXKP042788"),
        ("11111111111111111", "11111111111111111"),
        ("1HGCM82633A004352", "1HGCM82633A004352"),
        ("LSVAU218XN2183294", "LSVAU218XN2183294"),
        ("LFV2A21K9N3040173", "LFV2A21K9N3040173"),
    ])
    func vinValid(raw: String, expected: String) {
        #expect(VehicleIdentificationNumber.normalize(raw) == expected)
    }

    @Test("VINs with I, O, Q, a wrong check digit or the wrong length", arguments: [
        "1M8GDM9A1KP042788",  // check digit should be X
        "LSVAU2180N2183294",  // check digit should be X
        "LFV2A21K6N3040173",  // check digit should be 9
        "1M8GDM9AXKP0427I8",
        "1M8GDM9AXKP0427O8",
        "1M8GDM9AXKP0427Q8",
        "IM8GDM9AXKP042788",
        "1M8GDM9AXKP04278",  // 16 characters
        "1M8GDM9AXKP0427888",  // 18 characters
        "1M8GDM9AXKP04278_",
        "1M8GDM9AXKP042788。",
        "",
    ])
    func vinInvalid(raw: String) {
        #expect(VehicleIdentificationNumber.normalize(raw) == nil)
    }

    @Test("names compare equal across spacing, width and case", arguments: [
        ("张三", "张三"),
        ("张 三", "张三"),
        ("  张　三  ", "张三"),
        ("欧阳 娜 娜", "欧阳娜娜"),
        ("张三。", "张三"),
        ("阿卜杜拉 · 艾力", "阿卜杜拉·艾力"),
        ("阿卜杜拉•艾力", "阿卜杜拉·艾力"),
        ("Zhang   San", "zhang san"),
        ("ＺＨＡＮＧ　Ｓａｎ", "zhang san"),
        ("Mary  张", "mary 张"),
        ("Mary\t O'Brien", "mary o'brien"),
    ])
    func nameValid(raw: String, expected: String) {
        #expect(PersonName.normalize(raw) == expected)
    }

    @Test("empty and placeholder names are refused", arguments: [
        "", "   ", "　", "，", "·",
        "先生", "女士", "小姐", "客户", "测试", "无", "未知",
        "test", "TEST", "Test", "ｔｅｓｔ", "xxx", "XXX", "ｘｘｘ",
        " 先 生 ", "（先生）",
    ])
    func nameInvalid(raw: String) {
        #expect(PersonName.normalize(raw) == nil)
    }

    @Test("a name that merely contains a placeholder word is kept")
    func nameContainingPlaceholder() {
        #expect(PersonName.normalize("王先生") == "王先生")
        #expect(PersonName.normalize("Testa") == "testa")
    }

    @Test("email addresses are trimmed, folded and lower-cased", arguments: [
        ("wang@163.com", "wang@163.com"),
        ("Wang@163.COM", "wang@163.com"),
        ("  wang.li@Example.com.cn ", "wang.li@example.com.cn"),
        ("ｗａｎｇ＠１６３．ｃｏｍ", "wang@163.com"),
        ("wang+car@qq.com", "wang+car@qq.com"),
        ("li@mail-server.example.org", "li@mail-server.example.org"),
        ("li@xn--fiqs8s.xn--fiqs8s", "li@xn--fiqs8s.xn--fiqs8s"),
    ])
    func emailValid(raw: String, expected: String) {
        #expect(EmailAddress.normalize(raw) == expected)
    }

    @Test("strings that are not email addresses", arguments: [
        "wang@", "@163.com", "wang", "wang@@163.com", "wang@li@163.com",
        "wang@163", "wang li@163.com", "wang@163.c", "wang@163.c0m",
        "wang@163..com", "wang@.163.com", "wang@163.com.", "wang@-163.com", "wang@163-.com",
        "wang@a_b.com", "wang@16 3.com", "无", "",
    ])
    func emailInvalid(raw: String) {
        #expect(EmailAddress.normalize(raw) == nil)
    }

    @Test("licence plates with and without separators, in any width and case", arguments: [
        ("沪A12345", "沪A12345"),
        ("沪A·12345", "沪A12345"),
        ("沪a 12345", "沪A12345"),
        ("沪A-1234Q", "沪A1234Q"),
        ("京Ａ·１２３４５", "京A12345"),
        ("粤B·D12345", "粤BD12345"),  // new energy: six characters
        ("粤BD1234F", "粤BD1234F"),
        ("使A1234X", "使A1234X"),
    ])
    func plateValid(raw: String, expected: String) {
        #expect(LicencePlate.normalize(raw) == expected)
    }

    @Test("strings that are not mainland plates", arguments: [
        "A12345",  // no province
        "沪12345",  // no city letter
        "沪112345",
        "沪A1234",  // 4 characters
        "沪A1234567",  // 7 characters
        "沪AI2345",  // I
        "沪A0O123",  // O
        "台A12345",  // not a mainland province
        "沪A12345学",
        "沪A1234_",
        "",
    ])
    func plateInvalid(raw: String) {
        #expect(LicencePlate.normalize(raw) == nil)
    }

    @Test("calendar dates in common spellings", arguments: [
        ("1985-02-28", "1985-02-28"),
        ("1985/02/28", "1985-02-28"),
        ("19850228", "1985-02-28"),
        ("1985.02.28", "1985-02-28"),
        (" 1985-02-28 ", "1985-02-28"),
        ("1985/2/3", "1985-02-03"),
        ("２０００－０２－２９", "2000-02-29"),
        ("2024-02-29", "2024-02-29"),
        ("1900-01-01", "1900-01-01"),
        ("2026-12-31", "2026-12-31"),
    ])
    func dateValid(raw: String, expected: String) {
        #expect(CalendarDate.normalize(raw) == expected)
    }

    @Test("dates that do not exist or are not written as dates", arguments: [
        "1985-02-29", "19850229", "1900-02-29", "2100-02-29", "2026-04-31",
        "2099-13-45", "0000-00-00", "1985-00-10", "1985-01-00",
        "85-02-28", "1985-02/28", "1985-02-28T00:00", "1985-02-28 10:00:00",
        "1985-2-3x", "1985-002-03", "1985--02", "+985-02-28", "1985年2月28日", "",
    ])
    func dateInvalid(raw: String) {
        #expect(CalendarDate.normalize(raw) == nil)
    }

    @Test("dates between bounds, both ends included", arguments: [
        ("1985-02-28", true),
        ("1900-01-02", true),
        ("2026-12-03", true),
        ("1900-01-01", false),
        ("2026-12-04", false),
        ("2027-01-01", false),
    ])
    func dateBetween(date: String, expected: Bool) {
        #expect(CalendarDate.isBetween(date, "1900-01-02", "2026-12-03") == expected)
        #expect(CalendarDate.isBetween(date, "0000-00-00", "9999-99-99"), "open ends")
    }
}
