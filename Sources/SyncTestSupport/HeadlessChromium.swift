import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol, for tests that use HQ's web console
/// in a real browser (forms, CSP, scripts that only a browser runs) and for screenshots.
///
/// It talks over `--remote-debugging-pipe` rather than a websocket: the two pipes belong to
/// this process alone, so there is no port to pick, no `DevToolsActivePort` file to poll, no
/// websocket client to carry, and nothing another process on the machine could connect to.
/// Chromium reads NUL-terminated JSON commands from its fd 3 and writes NUL-terminated JSON
/// answers and events to its fd 4.
///
/// The API blocks the calling thread; from async tests call it inside `onOwnThread`.
public final class HeadlessChromium: @unchecked Sendable {
    /// The chromium binary on PATH (`chromium`, else `chromium-browser`), nil when absent.
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser"] {
            for directory in directories where !directory.isEmpty {
                let candidate = directory + "/" + name
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// How long one command, or one wait for a load event, may take.
    static let timeout: Double = 15
    /// The first command also waits for chromium to start, which is slow on a cold, busy machine.
    static let startupTimeout: Double = 30

    private let pid: pid_t
    /// Our end of the pipe chromium reads as fd 3.
    private let commandFD: Int32
    private let inbox: Inbox
    private let directory: String
    private let logPath: String
    private var sessionId = ""
    private let writeLock = NSLock()
    private let closeLock = NSLock()
    private var closed = false

    /// Starts chromium headless and opens one page; `timezone` (e.g. "Asia/Shanghai") makes
    /// the page's clock render in that zone whatever the machine's.
    public init(width: Int = 1280, height: Int = 900, timezone: String? = nil) throws {
        guard let executable = Self.executable else {
            throw HeadlessChromiumError(description: "no chromium or chromium-browser on PATH")
        }
        directory = NSTemporaryDirectory() + "headless-chromium-" + UUID().uuidString
        let profile = directory + "/profile"
        logPath = directory + "/chromium.log"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)

        let arguments = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--user-data-dir=\(profile)", "--window-size=\(width),\(height)", "--hide-scrollbars",
            // The console's users read Chinese. On Linux `--lang` alone leaves navigator.language
            // and Accept-Language at en-US; `--accept-lang` sets both.
            "--lang=zh-CN", "--accept-lang=zh-CN,zh",
            // Containers give /dev/shm 64 MB, too little for a renderer's shared memory.
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "about:blank",
        ]
        let spawned: (pid: pid_t, commandFD: Int32, eventFD: Int32)
        do {
            spawned = try Self.spawn(arguments, logPath: logPath)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        pid = spawned.pid
        commandFD = spawned.commandFD
        inbox = Inbox(eventFD: spawned.eventFD)
        let inbox = self.inbox
        Thread.detachNewThread { inbox.readUntilClosed() }

        do {
            let created = try send("Target.createTarget", ["url": "about:blank"], toPage: false,
                                   timeout: Self.startupTimeout)
            guard let targetId = created["targetId"] as? String else {
                throw HeadlessChromiumError(description: "Target.createTarget returned no targetId")
            }
            let attached = try send("Target.attachToTarget", ["targetId": targetId, "flatten": true], toPage: false)
            guard let sessionId = attached["sessionId"] as? String else {
                throw HeadlessChromiumError(description: "Target.attachToTarget returned no sessionId")
            }
            self.sessionId = sessionId
            inbox.setSession(sessionId)
            for domain in ["Page", "Runtime", "Network", "Log", "Inspector"] { try send("\(domain).enable") }
            let tree = try send("Page.getFrameTree")
            if let frame = (tree["frameTree"] as? [String: Any])?["frame"] as? [String: Any],
               let frameId = frame["id"] as? String {
                inbox.setMainFrame(frameId)
            }
            try send("Emulation.setDeviceMetricsOverride", Self.metrics(width: width, height: height))
            // On Linux `--lang` does not reach ICU: without this, dates and numbers format as en-US.
            try send("Emulation.setLocaleOverride", ["locale": "zh-CN"])
            if let timezone { try send("Emulation.setTimezoneOverride", ["timezoneId": timezone]) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Navigates and waits until the page's load event.
    public func navigate(_ url: String) throws {
        let loads = inbox.prepareForNavigation()
        let result = try send("Page.navigate", ["url": url])
        // A 4xx/5xx with an empty body comes back as ERR_HTTP_RESPONSE_CODE_FAILURE but still
        // loads (an error page): tests look at `lastStatus` for those.
        if let error = result["errorText"] as? String, !error.isEmpty, error != "net::ERR_HTTP_RESPONSE_CODE_FAILURE" {
            throw HeadlessChromiumError(description: "navigate to \(url): \(error)")
        }
        // Only a fragment change: the document stays, so no load event will come.
        guard result["loaderId"] != nil else { return }
        try waitForLoad(after: loads, what: "navigate to \(url)")
    }

    /// Evaluates JavaScript in the page and returns the value as text: "" for undefined and
    /// null, strings as they are, anything else as JSON.
    @discardableResult
    public func evaluate(_ script: String) throws -> String {
        let result = try send("Runtime.evaluate", [
            "expression": script, "returnByValue": true, "awaitPromise": true, "userGesture": true,
        ])
        if let details = result["exceptionDetails"] as? [String: Any] {
            throw HeadlessChromiumError(description: "JavaScript exception: \(Self.exceptionText(details))")
        }
        guard let object = result["result"] as? [String: Any] else {
            throw HeadlessChromiumError(description: "Runtime.evaluate returned no result")
        }
        return Self.text(of: object)
    }

    /// Runs `script` that starts a navigation (a form's `submit()`, a link's `click()`) and
    /// waits for the new document's load event; counting load events from before the script
    /// runs means a fast load cannot slip past.
    public func evaluateAndWaitForLoad(_ script: String) throws {
        let loads = inbox.prepareForNavigation()
        do {
            try evaluate(script)
        } catch let error as HeadlessChromiumError where Self.isNavigationInterruption(error) {
            // The navigation tore down the context before the answer: that is what we asked for.
        }
        try waitForLoad(after: loads, what: "load after script")
    }

    /// The current document's URL.
    public var url: String { get throws { try evaluate("location.href") } }
    /// The current document's title.
    public var title: String { get throws { try evaluate("document.title") } }
    /// The current document's visible text (`document.body.innerText`).
    public var text: String { get throws { try evaluate("document.body ? document.body.innerText : ''") } }

    /// Sets the viewport; below 600 px wide it emulates a phone, so mobile layouts apply.
    public func resize(width: Int, height: Int) throws {
        try send("Emulation.setDeviceMetricsOverride", Self.metrics(width: width, height: height))
    }

    /// Writes a PNG of the whole page, beyond the viewport, to `path`.
    public func screenshot(to path: String) throws {
        var parameters: [String: Any] = ["format": "png", "captureBeyondViewport": true]
        // Without a clip chromium captures the viewport only; the clip is the page's full size.
        let metrics = try send("Page.getLayoutMetrics")
        if let size = (metrics["cssContentSize"] ?? metrics["contentSize"]) as? [String: Any],
           let width = (size["width"] as? NSNumber)?.doubleValue,
           let height = (size["height"] as? NSNumber)?.doubleValue, width > 0, height > 0 {
            parameters["clip"] = ["x": 0, "y": 0, "width": width.rounded(.up), "height": height.rounded(.up), "scale": 1]
        }
        let result = try send("Page.captureScreenshot", parameters)
        guard let base64 = result["data"] as? String, let png = Data(base64Encoded: base64) else {
            throw HeadlessChromiumError(description: "Page.captureScreenshot returned no image")
        }
        try png.write(to: URL(fileURLWithPath: path))
    }

    /// The HTTP status of the last main-document response, nil if unknown (not yet loaded, a
    /// `file:` or `about:` URL, or a navigation that failed before any response).
    public var lastStatus: Int? { inbox.lastStatus }

    /// Console messages and JS exceptions seen on the page, including browser log entries such
    /// as CSP violations, so a test can assert "CSP blocked the inline script".
    public var consoleMessages: [String] { inbox.messages }

    /// Stops chromium (SIGKILL when it has not exited 2 s after Browser.close) and removes its
    /// profile; safe to call more than once.
    public func close() {
        closeLock.lock()
        defer { closeLock.unlock() }
        guard !closed else { return }
        closed = true

        if inbox.isReading { _ = try? send("Browser.close", toPage: false, timeout: 2) }
        inbox.markClosed()
        let deadline = Date().addingTimeInterval(2)
        var exited = false
        while Date() < deadline {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped == -1 && errno == ECHILD) { exited = true; break }
            usleep(20_000)
        }
        if !exited {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        // Chromium was spawned as the leader of its own process group: take any renderer or
        // zygote left behind with it. The group id cannot be reused while a member lives.
        kill(-pid, SIGKILL)
        Glibc.close(commandFD)
        inbox.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Commands

    /// Sends one command (to the page's session unless `toPage` is false) and waits for its answer.
    @discardableResult
    private func send(_ method: String, _ parameters: [String: Any] = [:], toPage: Bool = true,
                      timeout: Double = HeadlessChromium.timeout) throws -> [String: Any] {
        guard !inbox.isClosed else {
            throw HeadlessChromiumError(description: "\(method): this HeadlessChromium is closed")
        }
        let id = inbox.nextId()
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if toPage { message["sessionId"] = sessionId }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        writeLock.lock()
        let written = Self.writeAll(bytes, to: commandFD)
        writeLock.unlock()
        guard written else {
            throw HeadlessChromiumError(description: "\(method): chromium is not reading commands (exited?)\(logTail())")
        }
        switch inbox.waitForResponse(id: id, deadline: Date().addingTimeInterval(timeout)) {
        case .response(let response):
            if let error = response["error"] as? [String: Any] {
                let text = (error["message"] as? String) ?? "\(error)"
                let data = (error["data"] as? String).map { " (\($0))" } ?? ""
                throw HeadlessChromiumError(description: "\(method): \(text)\(data)")
            }
            return (response["result"] as? [String: Any]) ?? [:]
        case .timedOut:
            throw HeadlessChromiumError(description: "\(method): no answer from chromium within \(Int(timeout)) s")
        case .closed:
            throw HeadlessChromiumError(description: "\(method): chromium exited\(logTail())")
        }
    }

    private func waitForLoad(after loads: Int, what: String) throws {
        switch inbox.waitForLoad(after: loads, deadline: Date().addingTimeInterval(Self.timeout)) {
        case .response: return
        case .timedOut:
            throw HeadlessChromiumError(description: "\(what): no load event within \(Int(Self.timeout)) s")
        case .closed:
            throw HeadlessChromiumError(description: "\(what): chromium exited\(logTail())")
        }
    }

    /// The end of chromium's own output, for error messages when it died: without the D-Bus
    /// complaints every container start produces, which would bury the reason.
    private func logTail() -> String {
        guard let log = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "" }
        let lines = log.split(separator: "\n").filter { !$0.contains("dbus") }.suffix(15)
        return lines.isEmpty ? "" : "\nchromium log (last lines):\n" + lines.joined(separator: "\n")
    }

    /// Writes everything, or returns false when chromium has closed its end. SIGPIPE is
    /// blocked on this thread for the write (and a pending one swallowed) rather than ignored
    /// process-wide, which would change behaviour for the code under test.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 && sigismember(&previous, SIGPIPE) == 0 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return bytes.withUnsafeBytes { buffer -> Bool in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                let count = write(fd, base + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
    }

    // MARK: - Process

    /// posix_spawn with the command pipe's read end as the child's fd 3 and the event pipe's
    /// write end as its fd 4; every other descriptor of ours is close-on-exec, so no other
    /// child spawned meanwhile keeps the pipes open.
    private static func spawn(_ arguments: [String], logPath: String) throws -> (pid: pid_t, commandFD: Int32, eventFD: Int32) {
        var commands: [Int32] = [-1, -1]
        var events: [Int32] = [-1, -1]
        guard pipe(&commands) == 0 else {
            throw HeadlessChromiumError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        guard pipe(&events) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(commands[0]); Glibc.close(commands[1])
            throw HeadlessChromiumError(description: "pipe: \(reason)")
        }
        // Glibc's Swift module has no pipe2; the window before FD_CLOEXEC is set is tiny.
        for fd in [commands[1], events[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Above fd 4, so the dup2s below cannot overwrite one another's source.
        let childCommands = fcntl(commands[0], F_DUPFD_CLOEXEC, 10)
        let childEvents = fcntl(events[1], F_DUPFD_CLOEXEC, 10)
        Glibc.close(commands[0])
        Glibc.close(events[1])
        defer {
            if childCommands >= 0 { Glibc.close(childCommands) }
            if childEvents >= 0 { Glibc.close(childEvents) }
        }
        guard childCommands >= 0, childEvents >= 0 else {
            Glibc.close(commands[1]); Glibc.close(events[0])
            throw HeadlessChromiumError(description: "fcntl(F_DUPFD_CLOEXEC) failed")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, childCommands, 3)
        posix_spawn_file_actions_adddup2(&actions, childEvents, 4)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so close() can kill renderers too; a clean signal mask and
        // default SIGPIPE whatever the calling thread had.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            Glibc.close(commands[1]); Glibc.close(events[0])
            throw HeadlessChromiumError(description: "posix_spawn \(arguments[0]): \(String(cString: strerror(status)))")
        }
        return (pid, commands[1], events[0])
    }

    // MARK: - Values

    private static func metrics(width: Int, height: Int) -> [String: Any] {
        ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600]
    }

    /// A RemoteObject as text: NaN, Infinity, -0 and BigInts come as `unserializableValue`.
    private static func text(of object: [String: Any]) -> String {
        if let unserializable = object["unserializableValue"] as? String { return unserializable }
        guard let value = object["value"], !(value is NSNull) else { return "" }
        if let string = value as? String { return string }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    static func exceptionText(_ details: [String: Any]) -> String {
        if let exception = details["exception"] as? [String: Any] {
            if let description = exception["description"] as? String { return description }
            if let value = exception["value"] { return "\(value)" }
        }
        return (details["text"] as? String) ?? "\(details)"
    }

    private static func isNavigationInterruption(_ error: HeadlessChromiumError) -> Bool {
        let text = error.description
        return !text.hasPrefix("JavaScript exception")
            && (text.contains("navigated or closed") || text.contains("context was destroyed"))
    }
}

public struct HeadlessChromiumError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// What the reader thread has seen. Kept apart from `HeadlessChromium` so the thread does not
/// keep the browser object alive: dropping the last reference still runs `deinit` → `close()`.
private final class Inbox: @unchecked Sendable {
    enum Outcome { case response([String: Any]), timedOut, closed }

    private let eventFD: Int32
    private let condition = NSCondition()
    private var lastId = 0
    private var responses: [Int: [String: Any]] = [:]
    private var reading = true
    private var stopping = false
    private var closedByOwner = false
    private var sessionId: String?
    private var mainFrameId: String?
    private var loads = 0
    private var status: Int?
    private var console: [String] = []

    init(eventFD: Int32) { self.eventFD = eventFD }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    func nextId() -> Int { locked { lastId += 1; return lastId } }
    func setSession(_ id: String) { locked { sessionId = id } }
    func setMainFrame(_ id: String) { locked { mainFrameId = id } }
    var isReading: Bool { locked { reading } }
    var isClosed: Bool { locked { closedByOwner } }
    func markClosed() { locked { closedByOwner = true } }
    var lastStatus: Int? { locked { status } }
    var messages: [String] { locked { console } }

    /// The load count to wait beyond; forgets the previous document's status.
    func prepareForNavigation() -> Int { locked { status = nil; return loads } }

    func waitForResponse(id: Int, deadline: Date) -> Outcome {
        wait(until: deadline) { self.responses.removeValue(forKey: id) }
    }

    func waitForLoad(after count: Int, deadline: Date) -> Outcome {
        wait(until: deadline) { self.loads > count ? [:] : nil }
    }

    private func wait(until deadline: Date, for ready: () -> [String: Any]?) -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = ready() { return .response(value) }
            if !reading { return .closed }
            if !condition.wait(until: deadline) {
                if let value = ready() { return .response(value) }
                return .timedOut
            }
        }
    }

    /// Makes the reader give up even if some chromium process still holds the pipe open.
    func stop() { locked { stopping = true } }

    /// The reader thread: splits fd 4 on NUL and files each message. Polls so `stop()` is
    /// noticed; owns the descriptor and closes it, so nobody closes it under a blocked read.
    func readUntilClosed() {
        var pending: [UInt8] = []
        var scanned = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        loop: while !locked({ stopping }) {
            var poller = pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { read(eventFD, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: chunk[0..<count])
            while let end = pending[scanned...].firstIndex(of: 0) {
                let message = Data(pending[0..<end])
                pending.removeSubrange(0...end)
                scanned = 0
                if let object = (try? JSONSerialization.jsonObject(with: message)) as? [String: Any] {
                    file(object)
                }
                if locked({ stopping }) { break loop }
            }
            scanned = pending.count
        }
        Glibc.close(eventFD)
        locked {
            reading = false
            condition.broadcast()
        }
    }

    private func file(_ message: [String: Any]) {
        condition.lock()
        defer { condition.unlock() }
        if let id = message["id"] as? Int {
            responses[id] = message
            condition.broadcast()
            return
        }
        guard let method = message["method"] as? String,
              sessionId != nil, message["sessionId"] as? String == sessionId else { return }
        let params = (message["params"] as? [String: Any]) ?? [:]
        switch method {
        case "Page.loadEventFired":
            loads += 1
            condition.broadcast()
        case "Network.responseReceived":
            guard params["type"] as? String == "Document",
                  mainFrameId == nil || params["frameId"] as? String == mainFrameId,
                  let response = params["response"] as? [String: Any],
                  let code = (response["status"] as? NSNumber)?.intValue else { return }
            status = code
        case "Runtime.consoleAPICalled":
            let kind = (params["type"] as? String) ?? "log"
            let arguments = (params["args"] as? [[String: Any]]) ?? []
            let texts = arguments.map { argument -> String in
                if let string = argument["value"] as? String { return string }
                if let value = argument["value"], !(value is NSNull) { return "\(value)" }
                return (argument["description"] as? String) ?? (argument["type"] as? String) ?? ""
            }
            console.append("console.\(kind): " + texts.joined(separator: " "))
        case "Runtime.exceptionThrown":
            if let details = params["exceptionDetails"] as? [String: Any] {
                console.append("exception: " + HeadlessChromium.exceptionText(details))
            }
        case "Log.entryAdded":
            if let entry = params["entry"] as? [String: Any] {
                let level = (entry["level"] as? String) ?? "info"
                let source = (entry["source"] as? String) ?? "other"
                console.append("\(level) (\(source)): " + ((entry["text"] as? String) ?? ""))
            }
        case "Inspector.targetCrashed":
            console.append("error (browser): the page crashed")
        default:
            break
        }
    }
}
