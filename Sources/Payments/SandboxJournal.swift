import Contracts
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The sandbox gateway's ledger on disk: one JSON line per authorization, capture or refund, appended
/// under an exclusive `flock`, so that several processes share one ledger.
///
/// The calls are short file operations on a local disk made by a development-only provider; they run
/// where the payment handler runs.
final class SandboxJournal: @unchecked Sendable {
    struct Entry: Codable, Equatable {
        enum Operation: String, Codable { case authorize, capture, refund }
        var operation: Operation
        var sequence: Int
        var idempotencyKey: String
        var reference: String
        var charge: String
        var amountMinor: Int
        var currency: String

        init(operation: Operation, sequence: Int, idempotencyKey: String, reference: String, charge: String, amount: Money) {
            self.operation = operation
            self.sequence = sequence
            self.idempotencyKey = idempotencyKey
            self.reference = reference
            self.charge = charge
            amountMinor = amount.amountMinor
            self.currency = amount.currency
        }
    }

    private let descriptor: Int32
    private var readOffset: off_t = 0

    init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
    }

    deinit { close(descriptor) }

    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        flock(descriptor, LOCK_EX)
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Entries appended since the last read (by any process).
    func readNew() -> [Entry] {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end > readOffset else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(end - readOffset))
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, readOffset) }
        guard count > 0 else { return [] }
        // Only whole lines: a line is complete once its newline is written.
        guard let lastNewline = bytes[..<count].lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        readOffset += off_t(lastNewline + 1)
        return bytes[...lastNewline].split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0)) }
    }

    func append(_ entry: Entry) {
        guard var line = try? JSONEncoder().encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        // Under the lock nobody else wrote since `readNew`: the file ends with this entry.
        readOffset = lseek(descriptor, 0, SEEK_END)
    }

    /// Every entry of a journal file (for checks and tools).
    static func entries(at url: URL) throws -> [Entry] {
        try Data(contentsOf: url).split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0)) }
    }
}

extension SandboxPaymentProvider {
    /// What the sandbox gateway did to one charge: the numbers that prove nothing was taken twice.
    public struct ChargeAudit: Sendable, Equatable {
        public var charge: String
        public var authorizations: Int
        public var captures: Int
        public var capturedMinor: Int
        public var refundedMinor: Int

        public init(charge: String, authorizations: Int, captures: Int, capturedMinor: Int, refundedMinor: Int) {
            self.charge = charge
            self.authorizations = authorizations
            self.captures = captures
            self.capturedMinor = capturedMinor
            self.refundedMinor = refundedMinor
        }
    }

    /// Per charge, from a journal file, in charge order.
    public static func audit(journal: URL) throws -> [ChargeAudit] {
        var audits: [String: ChargeAudit] = [:]
        var order: [String] = []
        for entry in try SandboxJournal.entries(at: journal) {
            if audits[entry.charge] == nil {
                audits[entry.charge] = ChargeAudit(charge: entry.charge, authorizations: 0, captures: 0, capturedMinor: 0, refundedMinor: 0)
                order.append(entry.charge)
            }
            switch entry.operation {
            case .authorize: audits[entry.charge]!.authorizations += 1
            case .capture:
                audits[entry.charge]!.captures += 1
                audits[entry.charge]!.capturedMinor += entry.amountMinor
            case .refund: audits[entry.charge]!.refundedMinor += entry.amountMinor
            }
        }
        return order.map { audits[$0]! }
    }

    /// Which idempotency key authorized each charge (the payment's id is in it).
    public static func authorizationKeys(journal: URL) throws -> [String: String] {
        Dictionary(try SandboxJournal.entries(at: journal).filter { $0.operation == .authorize }.map { ($0.charge, $0.idempotencyKey) }, uniquingKeysWith: { a, _ in a })
    }
}
