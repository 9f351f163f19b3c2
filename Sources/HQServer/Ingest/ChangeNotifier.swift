/// Wakes long-polling pulls when the feed grows. Waiters are resumed by `notify`, by their
/// timeout, or by cancellation, whichever comes first; none is left suspended.
actor ChangeNotifier {
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var resumedEarly: Set<Int> = []
    private var nextID = 0

    /// Resumes every waiting pull.
    func notify() {
        let all = waiters
        waiters.removeAll()
        for continuation in all.values { continuation.resume() }
    }

    /// Returns after the next `notify`, or after `timeout`.
    func wait(timeout: Duration) async {
        let id = nextID
        nextID += 1
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(id) }
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

    private func suspend(_ id: Int) async {
        await withCheckedContinuation { continuation in
            if resumedEarly.contains(id) {
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
