/// The gaps in a consumer's polling: between one poll's end and the next one's start, or inside a
/// poll past its timeout. A long one means the process was frozen or starved.
struct PollClock: Sendable {
    var lastEnd: ContinuousClock.Instant
    var gap = Duration.zero
    var gapNoticedAt: ContinuousClock.Instant?

    init(start: ContinuousClock.Instant = .now) {
        lastEnd = start
    }

    mutating func note(started: ContinuousClock.Instant, ended: ContinuousClock.Instant, timeout: Duration) {
        let gap = max(started - lastEnd, ended - started - timeout)
        lastEnd = ended
        // The longest gap lately wins; one older than a minute gives way to any.
        if gap > .milliseconds(500), gap >= self.gap || gapNoticedAt.map({ ended - $0 > .seconds(60) }) ?? true {
            self.gap = gap
            gapNoticedAt = ended
        }
    }

    func wasAway(longerThan threshold: Duration, within window: Duration, now: ContinuousClock.Instant) -> Bool {
        guard let gapNoticedAt else { return false }
        return gap > threshold && now - gapNoticedAt <= window
    }
}
