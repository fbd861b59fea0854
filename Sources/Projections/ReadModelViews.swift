import Contracts
import Foundation

public struct ProductView: Codable, Sendable, Equatable {
    public var productId: String
    public var sku: String
    public var name: String
    public var description: String?
    public var category: String?
    public var price: Money
    public var weightGrams: Int?
    public var attributes: [String: String]
    public var deleted: Bool

    public init(productId: String, sku: String, name: String, description: String? = nil, category: String? = nil, price: Money, weightGrams: Int? = nil, attributes: [String: String], deleted: Bool) {
        self.productId = productId
        self.sku = sku
        self.name = name
        self.description = description
        self.category = category
        self.price = price
        self.weightGrams = weightGrams
        self.attributes = attributes
        self.deleted = deleted
    }
}

public struct InventoryLevelView: Codable, Sendable, Equatable {
    public var sku: String
    public var available: Int
    public var reserved: Int
    public var sold: Int

    public init(sku: String, available: Int, reserved: Int, sold: Int) {
        self.sku = sku
        self.available = available
        self.reserved = reserved
        self.sold = sold
    }
}

public struct CustomerProfileView: Codable, Sendable, Equatable {
    public var customerId: String
    public var email: String
    public var name: String
    public var phone: String?
    public var defaultAddressId: String?
    /// Token and display data only (brand, last 4, expiry).
    public var paymentMethod: [String: String]?

    public init(customerId: String, email: String, name: String, phone: String? = nil, defaultAddressId: String? = nil, paymentMethod: [String: String]? = nil) {
        self.customerId = customerId
        self.email = email
        self.name = name
        self.phone = phone
        self.defaultAddressId = defaultAddressId
        self.paymentMethod = paymentMethod
    }
}

public struct CustomerAddressesView: Codable, Sendable, Equatable {
    public var customerId: String
    public var defaultAddressId: String?
    public var addresses: [Address]

    public init(customerId: String, defaultAddressId: String? = nil, addresses: [Address]) {
        self.customerId = customerId
        self.defaultAddressId = defaultAddressId
        self.addresses = addresses
    }
}

public struct CartView: Codable, Sendable, Equatable {
    public typealias Item = CartLine

    public var cartId: String
    public var customerId: String
    public var currency: String
    public var items: [Item]
    public var couponCode: String?
    public var totals: CartTotals
    /// The order that checked the cart out (it takes no more changes).
    public var checkedOutBy: String?

    public init(
        cartId: String, customerId: String, currency: String, items: [Item], couponCode: String? = nil, totals: CartTotals, checkedOutBy: String? = nil
    ) {
        self.cartId = cartId
        self.customerId = customerId
        self.currency = currency
        self.items = items
        self.couponCode = couponCode
        self.totals = totals
        self.checkedOutBy = checkedOutBy
    }
}

public struct AppliedDiscountsView: Codable, Sendable, Equatable {
    public struct Discount: Codable, Sendable, Equatable {
        public var couponCode: String
        public var amount: Money

        public init(couponCode: String, amount: Money) {
            self.couponCode = couponCode
            self.amount = amount
        }
    }

    public var cartId: String
    public var discounts: [Discount]

    public init(cartId: String, discounts: [Discount]) {
        self.cartId = cartId
        self.discounts = discounts
    }
}

public struct CommandOutcomeView: Codable, Sendable, Equatable {
    public var commandId: String
    /// `applied` or `rejected`.
    public var status: String
    public var eventType: String
    public var aggregateId: String?
    public var reason: String?
    public var field: String?

    public init(commandId: String, status: String, eventType: String, aggregateId: String? = nil, reason: String? = nil, field: String? = nil) {
        self.commandId = commandId
        self.status = status
        self.eventType = eventType
        self.aggregateId = aggregateId
        self.reason = reason
        self.field = field
    }
}

/// One page of a list and the cursor of the next one (`nil`: last page).
public struct Page<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String? = nil) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
