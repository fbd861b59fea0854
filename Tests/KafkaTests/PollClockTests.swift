import Testing

@testable import Kafka

/// A consumer that was frozen (or starved) past half its session must know it, even when the poll it
/// was in returns at once after the wake-up.
@Suite struct PollClockTests {
    let start = ContinuousClock.now

    @Test func steadyPollingIsNeverAway() {
        var clock = PollClock(start: start)
        for step in 0..<100 {
            let begin = start + .milliseconds(step * 110)
            clock.note(started: begin, ended: begin + .milliseconds(100), timeout: .milliseconds(100))
        }
        #expect(!clock.wasAway(longerThan: .seconds(3), within: .seconds(6), now: start + .seconds(11)))
    }

    @Test func aFreezeBetweenPollsOrInsideOneIsNoticedForTheWindow() {
        var between = PollClock(start: start)
        between.note(started: start + .seconds(8), ended: start + .seconds(8.1), timeout: .milliseconds(100))
        #expect(between.wasAway(longerThan: .seconds(3), within: .seconds(6), now: start + .seconds(9)))
        #expect(!between.wasAway(longerThan: .seconds(3), within: .seconds(6), now: start + .seconds(15)))

        var inside = PollClock(start: start)
        inside.note(started: start, ended: start + .seconds(7), timeout: .milliseconds(100))
        #expect(inside.wasAway(longerThan: .seconds(3), within: .seconds(6), now: start + .seconds(7)))
        // A short gap later does not hide the long one.
        inside.note(started: start + .seconds(7.8), ended: start + .seconds(7.9), timeout: .milliseconds(100))
        #expect(inside.wasAway(longerThan: .seconds(3), within: .seconds(6), now: start + .seconds(8)))
    }
}
