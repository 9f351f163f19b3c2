import HQServer
import Logging

/// Every command logs to standard error (journald under systemd) through
/// `EscapingLogHandler`, so no logged name or value can break a line.
enum LogOutput {
    static func bootstrap() {
        LoggingSystem.bootstrap { label in EscapingLogHandler(base: StreamLogHandler.standardError(label: label)) }
    }
}
