import Foundation
import Timestamps

/// The bytes of one document being written, and the objects and arrays still open in it.
///
/// Values are written as the `Encodable` code hands them over, so no tree of values is built. An
/// object's members are written in the order they come and put in byte order of their keys when the
/// object closes, which is the order `JSONEncoder` gives with `.sortedKeys`. A container is closed
/// when a container further out is written to again, or when the value that opened it is done.
final class JSONOutput {
    var bytes: [UInt8] = []
    /// Set when the `Encodable` code does something a streaming writer cannot reproduce exactly
    /// (writing to a container after leaving it, a super-encoder, two values in one); the whole
    /// document is then written by `JSONEncoder` instead.
    var unsupported = false
    private var frames: [Frame] = []
    /// The members of every open object, innermost last.
    private var members: [Member] = []
    private var nextFrameID = 0
    /// Where an object's members are put in order, kept between objects.
    private var scratch: [UInt8] = []

    private struct Frame {
        let id: Int
        let isObject: Bool
        var count = 0
        /// Where the frame's members start in `members`.
        let firstMember: Int
        var inKeyOrder = true
    }

    private struct Member {
        let key: String
        /// Where the member's `"key":` starts in `bytes`.
        let start: Int
    }

    init() {
        bytes.reserveCapacity(256)
        frames.reserveCapacity(8)
        members.reserveCapacity(16)
    }

    var depth: Int { frames.count }

    /// Opens an object or an array; returns its id.
    func open(object: Bool) -> Int {
        nextFrameID += 1
        frames.append(Frame(id: nextFrameID, isObject: object, firstMember: members.count))
        bytes.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        return nextFrameID
    }

    /// Makes `frame` the innermost open container again, closing those opened inside it; false if
    /// it was closed already.
    func activate(_ frame: Int) -> Bool {
        while let last = frames.last {
            if last.id == frame { return true }
            guard frames.contains(where: { $0.id == frame }) else { return false }
            closeInnermost()
        }
        return false
    }

    /// Starts the next element of the innermost array.
    func beginElement() {
        if frames[frames.count - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[frames.count - 1].count += 1
    }

    /// Starts the next member of the innermost object: writes `"key":`.
    func beginMember(_ key: String) {
        let index = frames.count - 1
        if frames[index].count > 0 {
            bytes.append(UInt8(ascii: ","))
            if frames[index].inKeyOrder, let previous = members.last, Self.compare(previous.key, key) >= 0 {
                frames[index].inKeyOrder = false
            }
        }
        frames[index].count += 1
        members.append(Member(key: key, start: bytes.count))
        write(key)
        bytes.append(UInt8(ascii: ":"))
    }

    func count(of frame: Int) -> Int {
        frames.last(where: { $0.id == frame })?.count ?? 0
    }

    /// Closes the containers opened deeper than `depth`.
    func close(downTo depth: Int) {
        while frames.count > depth { closeInnermost() }
    }

    private func closeInnermost() {
        let frame = frames.removeLast()
        guard frame.isObject else {
            bytes.append(UInt8(ascii: "]"))
            return
        }
        if !frame.inKeyOrder { sortMembers(from: frame.firstMember) }
        members.removeSubrange(frame.firstMember...)
        bytes.append(UInt8(ascii: "}"))
    }

    /// Puts the members of the innermost object, from `first`, in byte order of their keys. A key
    /// written twice makes the document unsupported: `JSONEncoder` keeps the last value.
    private func sortMembers(from first: Int) {
        let end = bytes.count
        let regionStart = members[first].start
        // An insertion sort of the member indices: objects have a handful of members.
        var order = Array(first..<members.count)
        for index in 1..<order.count {
            let moving = order[index]
            var position = index
            while position > 0 {
                let comparison = Self.compare(members[order[position - 1]].key, members[moving].key)
                if comparison == 0 {
                    unsupported = true
                    return
                }
                if comparison < 0 { break }
                order[position] = order[position - 1]
                position -= 1
            }
            order[position] = moving
        }
        scratch.removeAll(keepingCapacity: true)
        for member in order {
            if !scratch.isEmpty { scratch.append(UInt8(ascii: ",")) }
            let memberEnd = member + 1 < members.count ? members[member + 1].start - 1 : end
            scratch.append(contentsOf: bytes[members[member].start..<memberEnd])
        }
        bytes.withUnsafeMutableBufferPointer { target in
            scratch.withUnsafeBufferPointer { source in
                _ = UnsafeMutableBufferPointer(rebasing: target[regionStart..<end]).update(fromContentsOf: source)
            }
        }
    }

    /// Byte order of two keys' UTF-8, as `JSONEncoder` sorts them.
    private static func compare(_ left: String, _ right: String) -> Int32 {
        var left = left, right = right
        return left.withUTF8 { left in
            right.withUTF8 { right in
                let common = min(left.count, right.count)
                let order = common == 0 ? 0 : memcmp(left.baseAddress!, right.baseAddress!, common)
                if order != 0 { return order }
                return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
            }
        }
    }

    // MARK: Scalars, as `JSONEncoder` writes them

    func writeNull() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    func write(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e")])
        }
    }

    func write<Integer: FixedWidthInteger>(integer value: Integer) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        if Integer.isSigned && value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Digits from the end, on the magnitude, so that the most negative value needs no negation.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
            var remaining = value.magnitude
            var position = digits.count
            while remaining > 0 {
                position -= 1
                digits[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[position...]))
        }
    }

    /// False for NaN and the infinities, which `JSONEncoder` refuses with an error of its own.
    func write<Float: BinaryFloatingPoint & CustomStringConvertible>(float value: Float) -> Bool {
        guard value.isFinite else { return false }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        return true
    }

    /// A string with the escapes of `JSONEncoder` and `.withoutEscapingSlashes`.
    func write(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var mark = 0
            var index = 0
            while index < utf8.count {
                // Eight bytes at a time past the long runs that need no escape.
                if index + 8 <= utf8.count, !StringBytes.anySpecial(UnsafeRawPointer(utf8.baseAddress! + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                    continue
                }
                let byte = utf8[index]
                index += 1
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                let escapedAt = index - 1
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<escapedAt]))
                mark = index
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A date as every Souk message carries it: RFC 3339 in UTC with milliseconds.
    func write(_ date: Date) {
        write(date.rfc3339)
    }
}
