import Hummingbird
import ServiceLifecycle
import Synchronization
import SystemdNotify

/// Graceful draining on SIGTERM: new requests get 503 with `Retry-After`, requests in flight
/// finish, then the server stops.
///
/// Put it *after* the application in the `ServiceGroup`: shutdown runs in reverse order, so
/// the drain goes first — it starts refusing, waits until no request is in flight (at most
/// `maxWait`), and returns; then the application closes its listener and connections.
public final class HQDrain: Service, Sendable {
    private struct State {
        var draining = false
        var inFlight = 0
    }
    private let state = Mutex(State())
    private let maxWait: Duration
    private let systemd: SystemdNotifier
    private let drainingStream: AsyncStream<Void>
    private let drainingContinuation: AsyncStream<Void>.Continuation

    /// `systemd` is told STOPPING=1 when draining begins.
    public init(maxWait: Duration = .seconds(30), systemd: SystemdNotifier = .disabled) {
        self.maxWait = maxWait
        self.systemd = systemd
        (drainingStream, drainingContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Returns once draining has begun (for tests).
    public func waitUntilDraining() async { for await _ in drainingStream { return } }

    public func run() async throws {
        // Wait for SIGTERM (or the group's shutdown); cancellation ends the wait as well.
        try? await gracefulShutdown()
        let inFlight = state.withLock { state in
            state.draining = true
            return state.inFlight
        }
        systemd.stopping()
        systemd.status("draining: \(inFlight) requests in flight")
        drainingContinuation.yield()
        let deadline = ContinuousClock.now + maxWait
        while state.withLock({ $0.inFlight }) > 0 && ContinuousClock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Admits a request unless draining; the caller must call `leave()` after it.
    func enter() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    func leave() { state.withLock { $0.inFlight -= 1 } }
}

/// Refuses requests with 503 once the drain has begun and counts those in flight.
struct DrainMiddleware<Context: RequestContext>: RouterMiddleware {
    let drain: HQDrain

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard drain.enter() else {
            throw HQError(
                .serviceUnavailable, "HQ is shutting down", hint: "retry after the Retry-After seconds; another HQ process or this one restarted will answer",
                headers: [.retryAfter: "5"])
        }
        defer { drain.leave() }
        return try await next(request, context)
    }
}
