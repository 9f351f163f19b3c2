/// One write event: the node that made it and that node's counter at the time.
///
/// A node's counter only grows, so a dot names exactly one event in the whole network.
/// A version vector "covers" a dot when it has seen that node up to at least that counter.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let node: NodeID
    public let counter: UInt64

    public init(node: NodeID, counter: UInt64) {
        self.node = node
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        lhs.node != rhs.node ? lhs.node < rhs.node : lhs.counter < rhs.counter
    }

    public var description: String { "\(node):\(counter)" }
}
