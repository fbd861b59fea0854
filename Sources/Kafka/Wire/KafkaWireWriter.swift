/// Big-endian encoding of the Kafka protocol's fixed (non-flexible) request fields.
struct KafkaWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    mutating func int16(_ value: Int16) { integer(value) }
    mutating func int32(_ value: Int32) { integer(value) }
    mutating func int64(_ value: Int64) { integer(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        int16(Int16(clamping: utf8.count))
        bytes += utf8
    }

    mutating func nullableString(_ value: String?) {
        guard let value else { return int16(-1) }
        string(value)
    }

    mutating func bytesField(_ value: [UInt8]) {
        int32(Int32(clamping: value.count))
        bytes += value
    }

    mutating func array<Element>(_ elements: [Element], _ write: (inout KafkaWireWriter, Element) -> Void) {
        int32(Int32(clamping: elements.count))
        for element in elements { write(&self, element) }
    }

    /// A request's topics naming one topic and one partition: its index, then what `write` adds.
    mutating func onePartition(_ partition: KafkaTopicPartition, _ write: (inout KafkaWireWriter) -> Void) {
        int32(1)
        string(partition.topic)
        int32(1)
        int32(partition.partition)
        write(&self)
    }

    /// The zig-zag varint of record fields (record batch v2).
    mutating func varint(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    mutating func raw(_ value: [UInt8]) { bytes += value }

    private mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}
