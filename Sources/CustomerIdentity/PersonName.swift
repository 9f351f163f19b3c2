/// Customer names as stores type them: "张 三" and "张三" are one person, as are "Zhang San"
/// and "ZHANG  SAN", and a counter that does not ask writes 先生 or 测试 instead of a name.
/// Normalised names compare equal across those spellings; placeholders are refused, so
/// they never link two customers.
public enum PersonName {
    /// Words typed instead of a name: honorifics without a surname, "customer", "test",
    /// "none", "unknown". Compared after normalising (so also "TEST", "先 生").
    public static let placeholders: Set<String> = ["先生", "女士", "小姐", "客户", "test", "测试", "无", "未知", "xxx"]

    /// The name with full-width forms folded, middle-dot variants (•, ・, ‧) written `·`,
    /// leading and trailing whitespace and punctuation trimmed, whitespace between CJK
    /// characters and around `·` removed (张 三 → 张三, 阿卜杜拉 · 艾力 → 阿卜杜拉·艾力), other
    /// whitespace runs collapsed to one space, and Latin letters lower-cased. Nil when
    /// nothing remains or the name is a placeholder.
    public static func normalize(_ raw: String) -> String? {
        let characters: [Character] = HalfWidth.fold(raw).map { middleDots.contains($0) ? Character("·") : $0 }
        guard let first = characters.firstIndex(where: isKept), let last = characters.lastIndex(where: isKept) else {
            return nil
        }
        var name = ""
        var pendingSpace = false
        for character in characters[first...last] {
            if character.isWhitespace {
                pendingSpace = true
                continue
            }
            if pendingSpace, let previous = name.last, !(joinsWithoutSpace(previous) && joinsWithoutSpace(character)),
                previous != "·", character != "·"
            {
                name.append(" ")
            }
            pendingSpace = false
            name.append(character)
        }
        name = name.lowercased()
        return placeholders.contains(name) ? nil : name
    }

    /// Separators of the parts of a transliterated minority or foreign name.
    static let middleDots: Set<Character> = ["·", "•", "・", "‧", "･", "∙"]

    /// Not whitespace and not punctuation: where a name starts and ends.
    static func isKept(_ character: Character) -> Bool {
        !character.isWhitespace && !character.isPunctuation
    }

    /// CJK ideographs (unified, extensions, compatibility): Chinese names carry no spaces.
    static func joinsWithoutSpace(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x323AF: return true
        default: return false
        }
    }
}
