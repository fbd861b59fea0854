import Foundation

extension Date {
    /// RFC 3339 in UTC to the nearest millisecond (`2026-12-03T17:08:00.123Z`). A date made from a
    /// Kafka timestamp's whole milliseconds shows exactly those (`Date.ISO8601FormatStyle` truncates
    /// the binary fraction and may show one less).
    public var rfc3339: String {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        // Written out by hand inside years 1583–9999: the format style cost more per record than the
        // rest of a record's headers together. Outside them the format style writes it, as it reads
        // it (it turns to the Julian calendar before the Gregorian reform), so every date reads back.
        guard milliseconds.isFinite, let whole = Int64(exactly: milliseconds), (Self.firstMillisecond...Self.lastMillisecond).contains(whole) else {
            return Date.rfc3339Style.format(self)
        }
        return Self.rfc3339(milliseconds: whole)
    }

    /// An RFC 3339 date-time with or without fractional seconds.
    public init?(rfc3339 string: String) {
        if let date = try? Date.rfc3339Style.parse(string) {
            self = date
        } else if let date = try? Date.rfc3339WholeSecondsStyle.parse(string) {
            self = date
        } else {
            return nil
        }
    }

    /// Built once: a format style per call costs more than the formatting or the parsing.
    static let rfc3339Style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    static let rfc3339WholeSecondsStyle = Date.ISO8601FormatStyle()

    /// 1583-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
    private static let firstMillisecond: Int64 = -12_212_553_600_000
    private static let lastMillisecond: Int64 = 253_402_300_799_999

    private static func rfc3339(milliseconds: Int64) -> String {
        String(unsafeUninitializedCapacity: 24) { buffer in
            writeRFC3339(milliseconds: milliseconds, into: UnsafeMutableRawBufferPointer(buffer))
            return 24
        }
    }

    /// Calls `body` with the 24 bytes of `milliseconds` since the epoch in RFC 3339, written by hand
    /// on the stack (no string per record); `nil` outside years 1583–9999.
    public static func withRFC3339<R>(milliseconds: Int64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard (firstMillisecond...lastMillisecond).contains(milliseconds) else { return nil }
        return try withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { buffer in
            writeRFC3339(milliseconds: milliseconds, into: buffer)
            return try body(UnsafeRawBufferPointer(buffer))
        }
    }

    private static func writeRFC3339(milliseconds: Int64, into buffer: UnsafeMutableRawBufferPointer) {
        let perDay: Int64 = 86_400_000
        var days = milliseconds / perDay
        var ofDay = milliseconds % perDay
        if ofDay < 0 {
            days -= 1
            ofDay += perDay
        }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func put(_ value: Int64, digits: Int, at start: Int) {
            var value = value
            for position in stride(from: start + digits - 1, through: start, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, digits: 4, at: 0)
        buffer[4] = UInt8(ascii: "-")
        put(month, digits: 2, at: 5)
        buffer[7] = UInt8(ascii: "-")
        put(day, digits: 2, at: 8)
        buffer[10] = UInt8(ascii: "T")
        put(ofDay / 3_600_000, digits: 2, at: 11)
        buffer[13] = UInt8(ascii: ":")
        put(ofDay / 60_000 % 60, digits: 2, at: 14)
        buffer[16] = UInt8(ascii: ":")
        put(ofDay / 1000 % 60, digits: 2, at: 17)
        buffer[19] = UInt8(ascii: ".")
        put(ofDay % 1000, digits: 3, at: 20)
        buffer[23] = UInt8(ascii: "Z")
    }
}
