import Foundation
import HQServer

/// A row's key on the command line: a JSON array of its primary-key values in key order
/// (`'["C-1"]'`, `'[42, "A"]'`; a string is TEXT, a whole number INTEGER, or typed as in
/// the feed).
func parseKeyArgument(_ text: String) throws -> [TypedValue] {
    do {
        return try JSONDecoder().decode([TypedValue].self, from: Data(text.utf8))
    } catch {
        throw CommandError("the key is not a JSON array of values", hint: #"write it like '["C-1"]' or '[42, "A"]'"#)
    }
}
