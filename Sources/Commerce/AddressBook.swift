import Contracts

/// A customer's addresses: several, exactly one of them the default once there is any.
public struct AddressBook: Codable, Sendable, Equatable {
    public private(set) var addresses: [Address]
    public private(set) var defaultAddressId: String?

    public init(addresses: [Address] = [], defaultAddressId: String? = nil) {
        self.addresses = addresses
        self.defaultAddressId = defaultAddressId
    }

    /// Adds the address or replaces the one with its id. The first address becomes the default;
    /// `makeDefault` moves the default to it; otherwise the default stays where it is.
    public mutating func upsert(_ address: Address, makeDefault: Bool) {
        if let index = addresses.firstIndex(where: { $0.addressId == address.addressId }) {
            addresses[index] = address
        } else {
            addresses.append(address)
        }
        if makeDefault || defaultAddressId == nil { defaultAddressId = address.addressId }
    }

    public var defaultAddress: Address? { addresses.first { $0.addressId == defaultAddressId } }
}
