@testable import HQServer
import Testing

@Suite("ChangeNotifier")
struct ChangeNotifierTests {
    @Test("a change notified between a pull's query and its wait is not missed")
    func noMissedWakeUp() async {
        let notifier = ChangeNotifier()
        let seen = await notifier.generation
        await notifier.notify()  // commits after the query, before the wait
        let started = ContinuousClock.now
        await notifier.wait(since: seen, timeout: .seconds(60))
        // Far below the 60 s timeout: woken, not timed out (a busy machine may be slow).
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("a waiter is woken by notify, and a wait with nothing new ends at its timeout")
    func wakeAndTimeout() async {
        let notifier = ChangeNotifier()
        await notifier.wait(since: await notifier.generation, timeout: .milliseconds(10))
        let seen = await notifier.generation
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await notifier.wait(since: seen, timeout: .seconds(60)) }
            group.addTask { await notifier.notify() }
            await group.waitForAll()
        }
        #expect(await notifier.generation == seen + 1)
        #expect(ContinuousClock.now - started < .seconds(30), "the waiter was woken, not timed out (60 s)")
    }
}
