/// One measured figure, printed next to its baseline and goal.
struct Figure: Codable {
    var scenario: String
    var metric: String
    var value: Double
    var unit: String
    /// What `value` is compared with, measured in the same run (nil for absolute figures).
    var baseline: Double?
    /// The goal, in words: "≤ 1.3x".
    var goal: String
    /// Whether the goal is met (nil when the figure has no goal).
    var met: Bool?

    var ratio: Double? { baseline.map { value / $0 } }
}
