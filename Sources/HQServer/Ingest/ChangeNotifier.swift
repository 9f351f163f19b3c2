/// Wakes long-polling pulls when the feed grows. A pull reads the generation before it
/// queries and waits "since" it, so a change committed between its query and its wait is
/// not missed. Waiters are resumed by `notify`, by their timeout, or by cancellation,
/// whichever comes first; none is left suspended.
actor ChangeNotifier {
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var resumedEarly: Set<Int> = []
    private var nextID = 0
    /// Counts `notify` calls.
    private(set) var generation: UInt64 = 0

    /// Resumes every waiting pull.
    func notify() {
        generation &+= 1
        let all = waiters
        waiters.removeAll()
        for continuation in all.values { continuation.resume() }
    }

    /// Returns at once if a change was notified after `seen`; otherwise after the next
    /// `notify`, or after `timeout`.
    func wait(since seen: UInt64, timeout: Duration) async {
        guard generation == seen else { return }
        let id = nextID
        nextID += 1
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(id, since: seen) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.resume(id)
            }
            await group.next()
            group.cancelAll()
            resume(id)
        }
        resumedEarly.remove(id)
    }

    private func suspend(_ id: Int, since seen: UInt64) async {
        await withCheckedContinuation { continuation in
            // Checked again here, atomically with registering: a notify may have run while
            // this task was being started.
            if resumedEarly.contains(id) || generation != seen {
                continuation.resume()
            } else {
                waiters[id] = continuation
            }
        }
    }

    private func resume(_ id: Int) {
        if let continuation = waiters.removeValue(forKey: id) {
            continuation.resume()
        } else {
            resumedEarly.insert(id)
        }
    }
}
