import SyncTestSupport

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func portAcceptsConnections(_ port: Int) -> Bool { LoopbackSocket.accepts(port: port) }
