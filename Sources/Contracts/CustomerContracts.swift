import Foundation

public struct RegisterCustomer: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "RegisterCustomer"
    public static let kind = MessageKind.command
    public static let summary = "Registers a customer; the e-mail address must not belong to another customer."

    public var customerId: String
    public var email: String
    public var name: String
    public var phone: String?
    public init(customerId: String, email: String, name: String, phone: String? = nil) {
        self.customerId = customerId
        self.email = email
        self.name = name
        self.phone = phone
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("email", .string(.init(maxLength: 254, pattern: "^[^@\\s\\u0000-\\u001F\\u007F]+@[^@\\s\\u0000-\\u001F\\u007F]+\\.[^@\\s\\u0000-\\u001F\\u007F]+$"))),
        .init("name", .text(max: 200, min: 1)), .init("phone", .string(.init(pattern: "^\\+?[0-9 ()-]{6,20}$")), required: false),
    ])
    public static let example = RegisterCustomer(customerId: "cust-1", email: "lan@example.com", name: "Lan Nguyen", phone: "+84 24 1234 5678")
}

public struct UpdateCustomerProfile: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "UpdateCustomerProfile"
    public static let kind = MessageKind.command
    public static let summary = "Changes a customer's name or phone; absent fields stay as they are."

    public var customerId: String
    public var name: String?
    public var phone: String?
    public init(customerId: String, name: String? = nil, phone: String? = nil) {
        self.customerId = customerId
        self.name = name
        self.phone = phone
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("name", .text(max: 200, min: 1), required: false),
        .init("phone", .string(.init(pattern: "^\\+?[0-9 ()-]{6,20}$")), required: false),
    ])
    public static let example = UpdateCustomerProfile(customerId: "cust-1", name: "Nguyen Thi Lan", phone: nil)
}

public struct UpdateShippingAddress: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "UpdateShippingAddress"
    public static let kind = MessageKind.command
    public static let summary = "Adds or replaces one of a customer's addresses (by addressId); one address is the default."

    public var customerId: String
    public var address: Address
    public var makeDefault: Bool?
    public init(customerId: String, address: Address, makeDefault: Bool? = nil) {
        self.customerId = customerId
        self.address = address
        self.makeDefault = makeDefault
    }

    public var key: String { customerId }

    public static let schema = Schema.object([.init("customerId", .id()), .init("address", .address), .init("makeDefault", .boolean, required: false)])
    public static let example = UpdateShippingAddress(customerId: "cust-1", address: .example, makeDefault: true)
}

public struct UpdateBillingInfo: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "UpdateBillingInfo"
    public static let kind = MessageKind.command
    public static let summary = "Stores a payment-method token and its display data; never a card number (a PAN is rejected)."

    public var customerId: String
    public var paymentMethodToken: String
    public var brand: String
    public var last4: String
    public var expiryMonth: Int
    public var expiryYear: Int
    public init(
        customerId: String,
        paymentMethodToken: String,
        brand: String,
        last4: String,
        expiryMonth: Int,
        expiryYear: Int
    ) {
        self.customerId = customerId
        self.paymentMethodToken = paymentMethodToken
        self.brand = brand
        self.last4 = last4
        self.expiryMonth = expiryMonth
        self.expiryYear = expiryYear
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("paymentMethodToken", .text(max: 200, min: 1)), .init("brand", .text(max: 40, min: 1)),
        .init("last4", .string(.init(pattern: "^[0-9]{4}$"))), .init("expiryMonth", .integer(minimum: 1, maximum: 12)),
        .init("expiryYear", .integer(minimum: 2000, maximum: 2100)),
    ])
    public static let example = UpdateBillingInfo(
        customerId: "cust-1", paymentMethodToken: "pm_tok_visa_4242", brand: "visa", last4: "4242", expiryMonth: 8, expiryYear: 2029
    )
}

public struct CustomerRegistered: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "CustomerRegistered"
    public static let kind = MessageKind.event
    public static let summary = "A customer registered."

    public var customerId: String
    public var email: String
    public var name: String
    public var phone: String?
    public var registeredAt: Date
    public init(customerId: String, email: String, name: String, phone: String? = nil, registeredAt: Date) {
        self.customerId = customerId
        self.email = email
        self.name = name
        self.phone = phone
        self.registeredAt = registeredAt
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("email", .text(max: 254, min: 3)), .init("name", .text(max: 200, min: 1)),
        .init("phone", .text(max: 20), required: false), .init("registeredAt", .timestamp),
    ])
    public static let example = CustomerRegistered(
        customerId: "cust-1", email: "lan@example.com", name: "Lan Nguyen", phone: "+84 24 1234 5678", registeredAt: Date(timeIntervalSince1970: 1_795_002_000)
    )
}

public struct ProfileUpdated: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "ProfileUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A customer's profile changed; carries the profile after the change."

    public var customerId: String
    public var name: String
    public var phone: String?
    public var updatedAt: Date
    public init(customerId: String, name: String, phone: String? = nil, updatedAt: Date) {
        self.customerId = customerId
        self.name = name
        self.phone = phone
        self.updatedAt = updatedAt
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("name", .text(max: 200, min: 1)), .init("phone", .text(max: 20), required: false),
        .init("updatedAt", .timestamp),
    ])
    public static let example = ProfileUpdated(customerId: "cust-1", name: "Nguyen Thi Lan", phone: "+84 24 1234 5678", updatedAt: Date(timeIntervalSince1970: 1_795_002_100))
}

public struct AddressUpdated: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "AddressUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A customer's address was added or replaced; names the default address after the change."

    public var customerId: String
    public var address: Address
    public var defaultAddressId: String
    public var updatedAt: Date
    public init(customerId: String, address: Address, defaultAddressId: String, updatedAt: Date) {
        self.customerId = customerId
        self.address = address
        self.defaultAddressId = defaultAddressId
        self.updatedAt = updatedAt
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("address", .address), .init("defaultAddressId", .id()), .init("updatedAt", .timestamp),
    ])
    public static let example = AddressUpdated(customerId: "cust-1", address: .example, defaultAddressId: "home", updatedAt: Date(timeIntervalSince1970: 1_795_002_200))
}

public struct BillingInfoUpdated: TopicMessage {
    public static let context = BoundedContext.customer
    public static let name = "BillingInfoUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A customer's payment method changed (token and display data only)."

    public var customerId: String
    public var paymentMethodToken: String
    public var brand: String
    public var last4: String
    public var expiryMonth: Int
    public var expiryYear: Int
    public var updatedAt: Date
    public init(
        customerId: String,
        paymentMethodToken: String,
        brand: String,
        last4: String,
        expiryMonth: Int,
        expiryYear: Int,
        updatedAt: Date
    ) {
        self.customerId = customerId
        self.paymentMethodToken = paymentMethodToken
        self.brand = brand
        self.last4 = last4
        self.expiryMonth = expiryMonth
        self.expiryYear = expiryYear
        self.updatedAt = updatedAt
    }

    public var key: String { customerId }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("paymentMethodToken", .text(max: 200, min: 1)), .init("brand", .text(max: 40, min: 1)),
        .init("last4", .string(.init(pattern: "^[0-9]{4}$"))), .init("expiryMonth", .integer(minimum: 1, maximum: 12)),
        .init("expiryYear", .integer(minimum: 2000, maximum: 2100)), .init("updatedAt", .timestamp),
    ])
    public static let example = BillingInfoUpdated(
        customerId: "cust-1", paymentMethodToken: "pm_tok_visa_4242", brand: "visa", last4: "4242", expiryMonth: 8, expiryYear: 2029,
        updatedAt: Date(timeIntervalSince1970: 1_795_002_300)
    )
}

public struct GetCustomerProfile: Contract {
    public static let context = BoundedContext.customer
    public static let name = "GetCustomerProfile"
    public static let kind = MessageKind.query
    public static let summary = "A customer's profile and payment-method display data (GET /api/customers/:id)."
    public var customerId: String
    public init(customerId: String) {
        self.customerId = customerId
    }

    public static let schema = Schema.object([.init("customerId", .id())])
    public static let example = GetCustomerProfile(customerId: "cust-1")
}

public struct GetCustomerOrders: Contract {
    public static let context = BoundedContext.customer
    public static let name = "GetCustomerOrders"
    public static let kind = MessageKind.query
    public static let summary = "A customer's orders, newest first (GET /api/customers/:id/orders, /api/orders/customer/:customerId)."
    public var customerId: String
    public var cursor: String?
    public var limit: Int?
    public init(customerId: String, cursor: String? = nil, limit: Int? = nil) {
        self.customerId = customerId
        self.cursor = cursor
        self.limit = limit
    }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("cursor", .text(max: 500), required: false), .init("limit", .integer(minimum: 1, maximum: 100), required: false),
    ])
    public static let example = GetCustomerOrders(customerId: "cust-1", cursor: nil, limit: 20)
}

public struct GetCustomerAddresses: Contract {
    public static let context = BoundedContext.customer
    public static let name = "GetCustomerAddresses"
    public static let kind = MessageKind.query
    public static let summary = "A customer's addresses and which one is the default."
    public var customerId: String
    public init(customerId: String) {
        self.customerId = customerId
    }

    public static let schema = Schema.object([.init("customerId", .id())])
    public static let example = GetCustomerAddresses(customerId: "cust-1")
}
