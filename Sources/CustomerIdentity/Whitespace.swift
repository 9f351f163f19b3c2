/// Values arrive with stray spaces, tabs and newlines at their ends (copied from forms and
/// spreadsheets). Plain Swift, so the module needs no Foundation.
extension String {
    /// Without leading and trailing whitespace and newlines (any Unicode whitespace).
    var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
