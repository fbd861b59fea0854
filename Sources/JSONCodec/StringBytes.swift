/// What a JSON string's bytes need looked at, eight at a time: the long runs of ordinary text are
/// skipped by the word both when a string is written and when it is read.
enum StringBytes {
    /// Whether any of eight bytes is a control character, a quote or a backslash (the bit tricks of
    /// "Bit Twiddling Hacks": a byte below n, a byte equal to n; neither misses one).
    @inline(__always)
    static func anySpecial(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let belowSpace = (word &- ones &* 0x20) & ~word & highs != 0
        return belowSpace || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C))
    }
}
